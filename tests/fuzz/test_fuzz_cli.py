"""Fuzz the CLI through every input kind: exit code in {0, 1, 2, 3, 4}, no traceback, within the time
limit (tests/fuzz/harness.py). Quick in CI; ``CHAINCOMP_FUZZ=full python -m pytest tests/fuzz`` runs
the full campaign (docs/reliability.md, "Fuzzing")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import strategies as S
from tests.fuzz.harness import SETTINGS, run_cli, run_subprocess


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _write(folder: Path, name: str, data: str | bytes) -> str:
    p = folder / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data, encoding="utf-8")
    return str(p)


@SETTINGS
@given(doc=S.instances, fixed_c=st.booleans())
def test_fuzz_instance_files(work, doc, fixed_c):
    f = _write(work, "instance.json", S.dump(doc))
    run_cli("solve", "--instance", f, "--json", *(["--c", "1"] if fixed_c else []))


@SETTINGS
@given(parts=S.split_files())
def test_fuzz_cluster_model_workload_files(work, parts):
    files = [_write(work, f"{k}.json", S.dump(v)) for k, v in parts.items()]
    run_cli("solve", "--cluster", files[0], "--model", files[1], "--workload", files[2], "--json")


@SETTINGS
@given(cfg=S.hf_configs)
def test_fuzz_hugging_face_config(work, cfg):
    cluster = _write(work, "hf-cluster.json", json.dumps(S.example("bloom-j20")["cluster"]))
    model = _write(work, "config.json", S.dump(cfg))
    run_cli("solve", "--cluster", cluster, "--model", model, "--rate", "0.5", "--json")


@SETTINGS
@given(doc=S.solutions, simulate=st.booleans())
def test_fuzz_solution_files(work, doc, simulate):
    f = _write(work, "solution.json", S.dump(doc))
    run_cli("verify", f)
    if simulate:
        run_cli("simulate", f, "--jobs", "300", "--json")


numbers = st.one_of(st.sampled_from(["nan", "inf", "-inf", "0", "-1", "1e308", "1e-308", "0.5", "1", "3", "18446744073709551616", "abc", ""]),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr))
RATE_EVENT = json.dumps({"events": [{"time_s": 0, "kind": "rate", "arrival_rate": 0.3}], "horizon_s": 100})


@SETTINGS
@given(doc=S.solutions, verb=st.sampled_from(["recompose", "whatif", "events", "timeline"]))
def test_fuzz_designs_of_the_elastic_verbs(work, doc, verb):
    """recompose / whatif / events / simulate --events verify the design they start from (exit 2 on a
    bad one), so no fuzzed design reaches the algorithms (a 10⁹ capacity once took 24 GB)."""
    f = _write(work, "elastic-design.json", S.dump(doc))
    ev = _write(work, "rate-event.json", RATE_EVENT)
    argv = {"recompose": ["recompose", f, ev, "--json"], "whatif": ["whatif", f, "--json"],
            "events": ["events", "churn", f, "--horizon", "100"],
            "timeline": ["simulate", f, "--events", ev, "--timeline-policy", "none,recompose", "--json"]}[verb]
    run_cli(*argv)


@SETTINGS
@given(case=st.sampled_from([("recompose", "--hysteresis"), ("recompose", "--load-bandwidth"), ("recompose", "--delta"),
                             ("recompose", "--max-moved"), ("whatif", "--hysteresis"), ("timeline", "--petals-period"),
                             ("timeline", "--thrash-window"), ("timeline", "--load-bandwidth"), ("churn", "--horizon"),
                             ("churn", "--seed"), ("churn", "--fraction"), ("churn", "--fail-share"), ("churn", "--downtime"),
                             ("diurnal", "--windows"), ("diurnal", "--peak-rate"), ("diurnal", "--noise"),
                             ("region", "--at"), ("region", "--downtime")]), value=numbers)
def test_fuzz_elastic_options(work, case, value):
    verb, opt = case
    design = _write(work, "good-design.json", json.dumps(S.solution()))
    ev = _write(work, "rate-event.json", RATE_EVENT)
    argv = {"recompose": ["recompose", design, ev, "--json"], "whatif": ["whatif", design, "--json"],
            "timeline": ["simulate", design, "--events", ev, "--timeline-policy", "none,petals", "--json"],
            "churn": ["events", "churn", design, "--horizon", "100"],
            "diurnal": ["events", "diurnal", design, "--horizon", "100", "--shape", "sine"],
            "region": ["events", "region", design, "--servers", S.solution()["placement"][0]["server"]]}[verb]
    run_cli(*argv, opt, value)


@SETTINGS
@given(text=S.traces(), service=st.sampled_from(["exp", "length"]))
def test_fuzz_trace_files(work, text, service):
    f = _write(work, "trace.csv", text)
    run_cli("simulate", "--example", "mig-testbed", "--arrivals", "trace", "--trace", f, "--service", service, "--json")


@SETTINGS
@given(doc=S.manifests, as_toml=st.booleans())
def test_fuzz_manifests(work, doc, as_toml):
    text = S.toml_text(doc) if as_toml else None
    f = _write(work, "study.toml", text) if text is not None else _write(work, "study.json", S.dump(doc))
    run_cli("batch", "--manifest", f, "--dry-run", "--json")


@SETTINGS
@given(raw=S.jsonl_files(), table=st.booleans())
def test_fuzz_results_jsonl(work, raw, table):
    f = _write(work, "results.jsonl", raw)
    run_cli("report", f, *([] if table else ["--json"]))


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(["instance", "solution", "manifest", "trace", "results"]))
def test_fuzz_damaged_bytes(work, data, kind):
    if kind == "instance":
        raw = data.draw(S.byte_damage(json.dumps(S.example("worked-example"))))
        run_cli("solve", "--instance", _write(work, "dmg-instance.json", raw), "--json")
    elif kind == "solution":
        raw = data.draw(S.byte_damage(json.dumps(S.solution())))
        run_cli("verify", _write(work, "dmg-solution.json", raw))
    elif kind == "manifest":
        raw = data.draw(S.byte_damage(S.toml_text(S.MANIFEST_BASE)))
        run_cli("batch", "--manifest", _write(work, "dmg.toml", raw), "--dry-run")
    elif kind == "trace":
        raw = data.draw(S.byte_damage("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.97,10,2\n2023-11-16 18:17:04.5,20,3\n"))
        run_cli("simulate", "--example", "mig-testbed", "--arrivals", "trace", "--trace", _write(work, "dmg.csv", raw), "--json")
    else:
        raw = data.draw(S.byte_damage(json.dumps(S.GOOD_RECORD) + "\n"))
        run_cli("report", _write(work, "dmg.jsonl", raw), "--json")



@SETTINGS
@given(opt=st.sampled_from(["--load", "--warmup", "--seed", "--jobs", "--rate", "--replications", "--trace-offset"]), value=numbers)
def test_fuzz_simulate_options(opt, value):
    jobs = [] if opt == "--jobs" else ["--jobs", "300"]
    run_cli("simulate", "--example", "worked-example", *jobs, opt, value, "--json")


@SETTINGS
@given(opt=st.sampled_from(["--c", "--rate", "--target-load", "--seed", "--time-limit", "--top", "--mip-gap"]), value=numbers)
def test_fuzz_solve_options(opt, value):
    method = ["--method", "milp", "--time-limit", "5"] if opt in ("--mip-gap",) else []
    run_cli("solve", "--example", "worked-example", *method, opt, value, "--json")


@SETTINGS
@given(seeds=st.one_of(st.sampled_from(["0-999999999", "0-" + "9" * 30, "-5", "3-1", "a", "0,,1", "0-99999"]), st.text(max_size=12)))
def test_fuzz_batch_seeds(seeds):
    run_cli("batch", "example:worked-example", "-m", "greedy", "--seeds", seeds, "--dry-run", "--json")


def _special_paths(folder: Path) -> dict[str, str]:
    fifo = folder / "fifo.json"
    if not fifo.exists():
        os.mkfifo(fifo)
    return {"fifo": str(fifo), "directory": str(folder), "missing": str(folder / "missing.json")}


@pytest.mark.parametrize("kind", ["fifo", "directory", "missing"])
def test_special_files_never_block_and_are_refused(work, kind):
    """A FIFO (would block every reader), a directory or a missing file: exit 2 with a message."""
    path = _special_paths(work)[kind]
    for argv in (["solve", "--instance", path], ["solve", "--cluster", path, "--model", path, "--rate", "1"], ["verify", path],
                 ["simulate", path], ["report", path], ["batch", "--manifest", path],
                 ["simulate", "--example", "mig-testbed", "--arrivals", "trace", "--trace", path]):
        res = run_cli(*argv, limit_s=30)
        assert res.code == 2 and path in res.stderr, (argv, res.stderr)


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_outputs_to_special_targets_are_refused(work, kind):
    path = _special_paths(work)[kind]
    for argv in (["solve", "--example", "worked-example", "--out", path], ["batch", "example:worked-example", "-m", "greedy", "-o", path, "-j", "1"],
                 ["simulate", "--example", "worked-example", "--jobs", "200", "--plot", path]):
        res = run_cli(*argv, limit_s=60)
        assert res.code == 2 and "error" in res.stderr, (argv, res.stderr)


def test_subprocess_runs_of_the_real_entry_point(work):
    """A few inputs through ``python -m chaincomp.cli`` (fresh interpreter, real signal handlers)."""
    deep = _write(work, "deep.json", "[" * 100_000 + "]" * 100_000)
    utf16 = _write(work, "utf16.json", json.dumps(S.example("worked-example")).encode("utf-16"))
    fifo = _special_paths(work)["fifo"]
    for argv in (["solve", "--instance", deep], ["verify", utf16], ["report", fifo], ["simulate", "--example", "worked-example", "--warmup", "inf"]):
        res = run_subprocess(*argv)
        assert res.code == 2 and res.stderr.strip(), (argv, res.stderr)
