"""Every file kind has a JSON Schema with $schema and $id (issue 13 item 7), and real outputs of every
command validate against it with the jsonschema package (not against the code's own models)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from chaincomp import schemas
from chaincomp.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run_json(*args: str):
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, f"{args}: {res.exception!r}\n{res.output[-1500:]}"
    return json.loads(res.stdout)


def check(name: str, data) -> None:
    errors = sorted(schemas.validator(name).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_every_schema_has_dialect_and_a_unique_id():
    ids = set()
    for name in schemas.names():
        sch = run_json("schema", name)
        assert sch["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert sch["$id"] == f"urn:chaincomp:schema:{name}:v1"
        jsonschema.Draft202012Validator.check_schema(sch)
        ids.add(sch["$id"])
    assert len(ids) == len(schemas.names())
    assert {"cluster", "model", "workload", "instance", "solution", "simulate", "batch-record", "report",
            "experiment", "manifest"} <= set(schemas.names())


def test_unknown_schema_is_a_usage_error():
    res = runner.invoke(app, ["schema", "nope"])
    assert res.exit_code != 0 and "unknown schema" in str(res.exception)


def test_instances_embedded_and_generated(tmp_path):
    from chaincomp.instances.examples import example_path, list_examples

    for name, _ in list_examples():
        data = json.loads(example_path(name).read_text())
        check("instance", data)
        for part in ("cluster", "model", "workload"):
            if part in data:
                check(part, data[part])
    gen = run_json("generate", "mig", "--count", "2", "--seed", "3", "--out", str(tmp_path / "g"), "--json")
    check("generate", gen)
    for f in gen["files"]:
        check("instance", json.loads(Path(f["file"]).read_text()))


@pytest.mark.parametrize("method", ["greedy", "milp", "petals", "bprr"])
def test_solutions(method):
    check("solution", run_json("solve", "--example", "worked-example", "--method", method, "--json"))


def test_verify_examples_and_simulate(tmp_path):
    design = tmp_path / "d.json"
    run_json("solve", "--example", "bloom-j20", "--rate", "1", "--json", "--out", str(design))
    check("verify", run_json("verify", str(design), "--json"))
    check("examples", run_json("examples", "--json"))
    check("simulate", run_json("simulate", str(design), "--policy", "jffc,jsq", "--jobs", "3000",
                               "--replications", "2", "--json"))
    check("simulate", run_json("simulate", "--example", "bloom-j20", "--method", "petals", "--jobs", "2000", "--json"))
    from chaincomp.data import resolve

    trace = resolve("azure_llm_inference_2023_code.csv")  # the shipped copy in a fresh clone
    if trace.exists():
        check("simulate", run_json("simulate", "--example", "mig-testbed", "--arrivals", "trace", "--trace", str(trace),
                                   "--jobs", "300", "--service", "length", "--json"))


def test_batch_records_summary_tasks_and_report(tmp_path):
    out = tmp_path / "r.jsonl"
    args = ["batch", "example:worked-example", "-m", "greedy", "-m", "random", "-p", "policy=jffc",
            "-p", "sim_jobs=2000", "--seeds", "0-1", "-w", "1", "--out", str(out)]
    check("batch-tasks", run_json(*args, "--dry-run", "--json"))
    check("batch-summary", run_json(*args, "--json"))
    lines = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
    assert len(lines) == 4 and all(r["solution"] is not None for r in lines)
    for rec in lines:
        check("batch-record", rec)
    check("report", run_json("report", str(out), "--json"))
    rep = tmp_path / "rep.json"
    run_json("report", str(out), "--json", "--out", str(rep))


def test_failed_batch_record_validates(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"name": "x", "cluster": {}}')
    out = tmp_path / "f.jsonl"
    res = runner.invoke(app, ["batch", str(bad), "-m", "greedy", "-w", "1", "--out", str(out), "--json"])
    assert res.exit_code == 1
    (rec,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert rec["status"] == "failed" and rec["solution"] is None
    check("batch-record", rec)


@pytest.mark.parametrize("name,extra", [("dispatch", ["--jobs", "500"]), ("testbed", []), ("tuning", ["--jobs", "300"])])
def test_experiment_outputs(name, extra, tmp_path, shared_data):
    data = run_json("experiment", name, "--quick", "--data", str(shared_data), *extra, "--json")
    check("experiment", data)
    runner.invoke(app, ["-q", "experiment", name, "--quick", "--data", str(shared_data), *extra, "--out", str(tmp_path)])
    check("experiment", json.loads((tmp_path / f"{name}.json").read_text()))


def test_manifest_from_the_docs_and_a_wrong_one():
    toml = re.search(r"```toml\n(.*?)```", (ROOT / "docs" / "batch.md").read_text(encoding="utf-8"), re.S).group(1)
    check("manifest", tomllib.loads(toml))
    v = schemas.validator("manifest")
    assert not v.is_valid({"instances": ["set:quick"], "runs": [{"methods": ["greedy"], "colour": "red"}]})
    assert not v.is_valid({"instances": ["set:quick"], "methods": "greedy", "sedes": "0-3"})


def test_schemas_reject_broken_outputs():
    """The schemas are not vacuous: a real output with a wrong field fails."""
    sim = run_json("simulate", "--example", "worked-example", "--jobs", "1000", "--json")
    broken = json.loads(json.dumps(sim))
    broken["policies"][0]["response_time_s"]["mean"] = "fast"
    assert not schemas.validator("simulate").is_valid(broken)
    del broken["policies"]
    assert not schemas.validator("simulate").is_valid(broken)
    sol = run_json("solve", "--example", "worked-example", "-c", "1", "--json")
    sol["chains"][0]["capacity"] = 2.5
    assert not schemas.validator("solution").is_valid(sol)
    assert not schemas.validator("verify").is_valid({"file": "x", "valid": "yes", "violations": []})


def test_batch_simulation_uses_the_methods_own_routing(tmp_path):
    """sim_jobs without policy: PETALS designs are simulated with PETALS routing, BPRR with WS-RR."""
    out = tmp_path / "n.jsonl"
    run_json("batch", "example:bloom-j20", "-m", "petals", "-m", "bprr", "-m", "greedy", "-p", "sim_jobs=1500",
             "-w", "1", "--out", str(out), "--json")
    recs = {json.loads(x)["method"]: json.loads(x) for x in out.read_text().splitlines()}
    assert {m: r["simulation"]["policy"] for m, r in recs.items()} == {"petals": "petals", "bprr": "bprr-wsrr", "greedy": "jffc"}
    for r in recs.values():
        check("batch-record", r)
