"""Defects found by the fourth CLI fuzz campaign (issue 10, session 7): options accepted and then
ignored, an internal error on a plot name, claims the data did not support, and designs ``verify``
called valid that every other reader refuses. Each case says what happened before."""

from __future__ import annotations

import copy
import json

import pytest

from tests.fuzz import strategies as S
from tests.fuzz.harness import run_cli

RATE_EVENT = {"events": [{"time_s": 10, "kind": "rate", "arrival_rate": 0.3}], "horizon_s": 100}


@pytest.fixture()
def design(tmp_path) -> str:
    p = tmp_path / "design.json"
    p.write_text(json.dumps(S.solution("worked-example")))
    return str(p)


def test_a_plot_name_matplotlib_cannot_write_is_refused_before_the_simulation(design, tmp_path):
    # before: the whole simulation ran, then "internal error … ValueError: Format 'txt' is not supported"
    for name, says in (("p.txt", "got '.txt'"), ("noext", "got no suffix")):
        res = run_cli("simulate", design, "--jobs", "1000", "--plot", str(tmp_path / name), limit_s=30)
        assert res.code == 2 and "expected a figure file ending in .png, .pdf, .svg" in res.stderr and says in res.stderr
    res = run_cli("simulate", design, "--jobs", "1000", "--plot", str(tmp_path / "ok.svg"), limit_s=60)
    assert res.code == 0 and (tmp_path / "ok.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("extra,says", [
    (["--on-fail", "retry"], "--on-fail: not used without --events"),  # all five: results identical to the run without
    (["--thrash-window", "5"], "--thrash-window: not used without --events"),
    (["--petals-period", "5"], "--petals-period: not used without --events"),
    (["--load-bandwidth", "5"], "--load-bandwidth: not used without --events"),
    (["--timeline-policy", "none"], "--timeline-policy: not used without --events"),
    (["--trace-offset", "5"], "--trace-offset: not used with Poisson arrivals and no --trace"),  # ignored
    (["--trace-rate", "1"], "--trace-rate: not used with Poisson arrivals and no --trace"),  # ignored
    (["--engine", "numba", "--policy", "bprr-wsrr"], "--engine numba runs the chain policies"),  # silently ran python
])
def test_simulate_refuses_options_of_the_other_mode(design, extra, says):
    res = run_cli("simulate", design, "--jobs", "2000", *extra, limit_s=30)
    assert res.code == 2 and says in res.stderr, res.output


def test_simulate_with_events_refuses_the_traffic_options(design, tmp_path):
    events = tmp_path / "events.json"
    events.write_text(json.dumps(RATE_EVENT))
    res = run_cli("simulate", design, "--events", str(events), "--jobs", "5", "--policy", "jsq", limit_s=30)
    assert res.code == 2 and "--policy, --jobs: not used with --events" in res.stderr, res.output


@pytest.mark.parametrize("argv,says", [
    (["solve", "-e", "worked-example", "--workload", "/nonexistent.json"], "--workload goes with --cluster/--model only"),  # ignored
    (["solve", "-e", "worked-example", "--model-name", "foo/bar"], "--model-name: used by the PETALS export only"),
    (["solve", "-e", "worked-example", "--initial-peers", "/ip4/1.2.3.4"], "--initial-peers: used by the PETALS export only"),
    (["solve", "-e", "worked-example", "--tune", "upper", "-c", "3"], "-c fixes c, so there is nothing to tune"),  # tune: None
    (["solve", "-e", "mig-testbed", "--robust", "1", "--tune", "surrogate"], "--robust chooses its own c"),
    (["schema", "--list", "cluster"], "--list prints the schema names only"),  # the name was ignored
    (["schema", "--list", "--out", "x.json"], "--out goes without it"),  # no file written, exit 0
    (["solve", "-e", "worked-example", "-m", "random", "-c", "21"], "cache reservation c must be in 1..20"),  # 1000 draws, exit 3
    (["solve", "-e", "worked-example", "-m", "random", "-c", "99999999999999999999"], "must be in 1..20"),
])
def test_options_that_were_ignored_are_refused(argv, says):
    res = run_cli(*argv, limit_s=60)
    assert res.code == 2 and says in res.stderr, res.output


def test_random_calls_a_memory_proof_infeasible_not_not_a_proof():
    # before: exit 3 "no feasible random placement … not a proof that none exists" for a c at which
    # the cluster's total memory cannot hold the model (greedy called the same c infeasible, exit 2)
    res = run_cli("solve", "-e", "worked-example", "-m", "random", "-c", "20", "--json", limit_s=30)
    assert res.code == 2 and json.loads(res.stdout)["outcome"] == "infeasible"
    assert "total memory hosts only 1 of 3 blocks at c = 20" in res.stderr


def test_random_and_ilp_methods_record_the_options_that_shaped_the_design():
    res = run_cli("solve", "-e", "bloom-j20", "-m", "random", "--tune", "surrogate", "--json", limit_s=60)
    assert res.code == 0 and json.loads(res.stdout)["parameters"]["tune"] == "surrogate"  # was missing
    res = run_cli("solve", "-e", "bloom-j20", "-m", "greedy-ilp", "--time-limit", "5", "--threads", "1", "--json", limit_s=60)
    params = json.loads(res.stdout)["parameters"]
    assert res.code == 0 and params["time_limit_s"] == 5 and params["threads"] == 1 and params["tune"] == "lower"


def test_greedy_ilp_says_optimal_only_when_proved_and_reports_the_integer_objective(tmp_path):
    # before: status time_limit with the label "allocation optimal over 2401 chains"; objective 25.9999999999995
    res = run_cli("generate", "bloom", "--servers", "40", "--eta", "0.3", "--rate", "1.5", "--seed", "7", "--out", str(tmp_path), limit_s=60)
    assert res.code == 0
    inst = str(next(tmp_path.glob("*.json")))
    for limit in ("0.01", "30"):
        res = run_cli("solve", "-i", inst, "-m", "greedy-ilp", "--time-limit", limit, "--json", limit_s=90)
        d = json.loads(res.stdout)
        s = d["solver"]
        assert res.code == 0 and s["objective"] == d["metrics"]["job_servers"] and isinstance(s["objective"], int)
        assert ("allocation optimal over" in s["label"]) == (s["status"] == "optimal")
        if s["status"] != "optimal":
            assert "not proved optimal" in s["label"]


def test_milp_always_has_a_bound_and_a_label_that_matches_its_status():
    # before (bloom-j20, --time-limit 1): bound null, label "valid bound from column generation"
    res = run_cli("solve", "-e", "bloom-j20", "-m", "milp", "--time-limit", "1", "--json", limit_s=30)
    s = json.loads(res.stdout)["solver"]
    assert res.code == 0 and s["bound"] is not None and s["bound"] <= s["objective"]
    assert ("proved optimal" in s["label"]) == (s["status"] == "optimal") == s["proved_optimal"]
    assert "(-" not in s["label"]  # no negative "budget left"


def _edited(edit) -> dict:
    d = copy.deepcopy(S.solution("worked-example"))
    edit(d)
    return d


def _set_id(d, new):
    old = d["instance"]["servers"][0]["id"]
    d["instance"]["servers"][0]["id"] = new
    for rec in d["placement"]:
        rec["server"] = new if rec["server"] == old else rec["server"]
    for ch in d["chains"]:
        ch["servers"] = [new if s == old else s for s in ch["servers"]]


@pytest.mark.parametrize("edit,says", [
    (lambda d: _set_id(d, "a\nb"), "expected an identifier without control characters"),  # valid; simulate refused it
    (lambda d: _set_id(d, ""), "expected a non-empty string"),
    (lambda d: _set_id(d, "a\u202eb"), "contains U+202E"),
    (lambda d: d["instance"]["servers"][0].update(memory_gb=1e300), "beyond the limit of 50000"),  # valid; simulate refused it
    (lambda d: d["instance"].update(cache_size_gb=1e-300), "cache reservation c would range over"),
    (lambda d: d["placement"][0].update(first_block=10**20), "placement[0].first_block: expected a number ≤"),  # "Python int too large"
    (lambda d: d["instance"].update(meta="x"), "instance.meta: expected an object"),  # "dictionary update sequence"
])
def test_verify_refuses_what_every_other_reader_refuses(tmp_path, edit, says):
    f = tmp_path / "d.json"
    f.write_text(json.dumps(_edited(edit)))
    res = run_cli("verify", str(f), limit_s=30)
    assert res.code == 1 and says in res.stdout.replace("\n", " ").replace("  ", " "), res.output
    assert "Python" not in res.stdout and "sequence element" not in res.stdout
    res = run_cli("simulate", str(f), "--jobs", "1000", limit_s=30)
    assert res.code == 2  # the same file: refused by the readers too


# --- fifth campaign (helper, session 7) ---

def test_batch_refuses_dask_options_on_the_local_pool(tmp_path):
    # before: --retries and --tls-* (even naming missing files) were accepted and ignored, exit 0
    for extra in (["--retries", "2"], ["--tls-cert", "/nonexistent", "--tls-key", "/nonexistent"]):
        res = run_cli("batch", "example:worked-example", "-m", "greedy", "--dry-run", "--out", str(tmp_path / "r.jsonl"), *extra, limit_s=30)
        assert res.code == 2 and "only used with --scheduler (Dask)" in res.stderr, res.output


def test_simulate_names_a_design_without_chains(tmp_path):
    # before: "policy 'jffc' dispatches over chains, but no allocation was given" for a recompose step
    # whose kept placement formed no chain (the file has "chains": [])
    from chaincomp import methods
    from chaincomp.core.allocation import Allocation
    from chaincomp.core.solution import Solution
    from chaincomp.instances.examples import load_example

    problem = load_example("worked-example")
    sol = methods.run("greedy", problem, seed=0)
    empty = Solution.create(problem, "greedy", sol.placement, Allocation((), ()), parameters={}, wall_time_s=0.0, seed=0)
    f = tmp_path / "nochains.json"
    f.write_text(empty.to_json())
    res = run_cli("simulate", str(f), "--jobs", "1000", limit_s=30)
    assert res.code == 2 and f"{f}: the design has no chains (ν = 0 job/s" in res.stderr, res.output
