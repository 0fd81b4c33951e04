"""CLI verbs of the instances area: examples, schema, generate."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from chaincomp import methods
from chaincomp.cli.app import app
from chaincomp.instances.examples import load_example
from chaincomp.instances.schema import SCHEMAS, SolutionFile

runner = CliRunner()


def test_examples_command():
    r = runner.invoke(app, ["examples", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["name"] for x in rows][:3] == ["worked-example", "bloom-j20", "mig-testbed"]
    assert rows[1]["servers"] == 20 and rows[1]["blocks"] == 70 and rows[1]["arrival_rate"] == 0.2
    r = runner.invoke(app, ["examples"])
    assert r.exit_code == 0 and "mig-testbed" in r.output
    r = runner.invoke(app, ["examples", "--show", "worked-example"])
    assert json.loads(r.output)["name"] == "worked-example"


def test_schema_command_every_kind():
    for kind in SCHEMAS:
        r = runner.invoke(app, ["schema", kind])
        assert r.exit_code == 0, r.output
        sch = json.loads(r.output)
        for part in sch.get("anyOf", [sch]):  # model: our model file or a raw HF config.json
            assert part["type"] == "object" and part["properties"]
    cluster = json.loads(runner.invoke(app, ["schema", "cluster"]).output)
    assert cluster["additionalProperties"] is False
    assert "memory_gb" in cluster["$defs"]["ServerSpec"]["properties"]


def test_solution_schema_matches_real_solution():
    sol = methods.get("greedy").func(load_example("worked-example"), cache_reservation=1)
    data = json.loads(sol.to_json())
    parsed = SolutionFile.model_validate(data)
    assert [c.capacity for c in parsed.chains] == [5, 5, 5]
    assert set(data) <= set(SolutionFile.model_fields)


def test_generate_command_deterministic(tmp_path):
    args = ["generate", "bloom", "--count", "3", "--seed", "4", "--servers", "12", "--eta", "0.25", "--json"]
    r1 = runner.invoke(app, args + ["--out", str(tmp_path / "a")])
    r2 = runner.invoke(app, args + ["--out", str(tmp_path / "b")])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    files = json.loads(r1.output)["files"]
    assert len(files) == 3 and all(f["servers"] == 12 for f in files)
    for name in ("bloom-s4-000.json", "bloom-s4-001.json", "bloom-s4-002.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    r = runner.invoke(app, ["generate", "helix-single-42", "--model", "llama-30b", "--out", str(tmp_path / "h")])
    assert r.exit_code == 0, r.output
    inst = json.loads((tmp_path / "h" / "helix-single-42-s0-000.json").read_text())
    assert inst["model"]["card"] == "LLaMA-30B" and len(inst["cluster"]["servers"]) == 42


def test_solve_instance_file_with_rate_flag(tmp_path):
    """A generated/hand-written single file without arrival_rate works with --rate."""
    data = json.loads((runner.invoke(app, ["examples", "--show", "mig-testbed"])).output)
    del data["workload"]["arrival_rate"]
    f = tmp_path / "norate.json"
    f.write_text(json.dumps(data))
    r = runner.invoke(app, ["solve", "--instance", str(f), "--rate", "1.5", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["instance"]["arrival_rate"] == 1.5
