"""Timeline generators (seeded, valid) and the timeline simulator (conservation, retry, policies)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from chaincomp.elastic import generators as g
from chaincomp.elastic.events import parse_events
from chaincomp.elastic.timeline_sim import simulate_timeline
from tests.elastic.helpers import bloom_design


def test_generators_seeded_and_valid(shared_data):
    p = bloom_design().problem
    a = g.merge(g.churn(p, 86400, 0.1, seed=3), g.diurnal(p, 86400, 24, noise=0.1, seed=4, data_dir=shared_data))
    b = g.merge(g.churn(p, 86400, 0.1, seed=3), g.diurnal(p, 86400, 24, noise=0.1, seed=4, data_dir=shared_data))
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    parse_events(a.to_dict(), "gen", p)  # every leave/fail names a present server, every join a new id
    departures = [e for e in a.events if e.kind in ("leave", "fail")]
    assert len(departures) == round(0.1 * p.num_servers)
    rates = np.array([e.arrival_rate for e in a.events if e.kind == "rate"])
    assert rates.size == 24 and rates.min() > 0 and rates.max() <= 1.1 * p.arrival_rate + 1e-9
    # the Azure shape: bins of the trace's arrival counts (max 1)
    shape = g.azure_shape(24, shared_data)
    assert shape.max() == 1.0 and shape.min() >= 0.1 * shape.mean() - 1e-12


def test_region_failure_generator():
    from chaincomp.instances.generators import generate_problem

    p = generate_problem("helix-three-region-24", seed=0)
    tl = g.region_failure(p, "region-2", time_s=100, downtime_s=50)
    fails = [e.server for e in tl.events if e.kind == "fail"]
    assert len(fails) == 10 and all(e.time_s == 100 for e in tl.events if e.kind == "fail")
    assert sum(e.kind == "join" for e in tl.events) == 10
    parse_events(tl.to_dict(), "gen", p)


@pytest.fixture(scope="module")
def short_timeline():
    sol = bloom_design()
    fast = sol.problem.server_ids[sol.allocation.chains[0].servers[1]]
    events = {"horizon_s": 2400, "events": [
        {"time_s": 600, "kind": "fail", "server": fast},
        {"time_s": 1200, "kind": "rate", "arrival_rate": 1.7},
        {"time_s": 1800, "kind": "rate", "arrival_rate": 1.2}]}
    return sol, parse_events(events, "t", sol.problem)


@pytest.mark.parametrize("on_fail", ["lost", "retry"])
def test_conservation_and_policies(short_timeline, on_fail):
    sol, tl = short_timeline
    rep = simulate_timeline(sol, tl, seed=3, on_fail=on_fail, petals_period_s=None)
    assert [p["policy"] for p in rep["policies"]] == ["none", "scratch", "recompose", "petals"]
    n = rep["simulation"]["jobs"]
    for p in rep["policies"]:
        t = p["total"]
        lost = t["jobs_lost"] + t["jobs_dropped_by_replan"] if on_fail == "lost" else 0
        assert t["arrived"] == n
        assert t["completed"] + lost + t["unfinished"] == n, p["policy"]
        assert sum(w["arrived"] for w in p["windows"]) == n
        if on_fail == "retry":
            assert t["jobs_retried"] == t["jobs_lost"] + t["jobs_dropped_by_replan"]
    none, scratch, rec = rep["policies"][:3]
    assert none["total"]["reload_gb"] == 0 and none["total"]["design_changes"] == 0
    # jobs on the failed server's chain are lost in the failure window for every policy alike
    assert none["total"]["jobs_lost"] == scratch["total"]["jobs_lost"] == rec["total"]["jobs_lost"]
    assert rec["total"]["reload_gb"] < scratch["total"]["reload_gb"]
    # same seed → same numbers
    again = simulate_timeline(sol, tl, ["recompose"], seed=3, on_fail=on_fail)
    assert again["policies"][0]["total"] == rec["total"]


def test_reloading_server_serves_nothing(short_timeline):
    """No job starts on a chain through a server before that server has loaded its new blocks."""
    from chaincomp.elastic.policies import make_policy
    from chaincomp.elastic.timeline_sim import _Run, arrivals

    sol, tl = short_timeline
    arr_t, sizes = arrivals(sol, tl, 2)
    run = _Run(sol, tl, make_policy("recompose"), arr_t, sizes, "lost", 3600.0, 0.05, 1000.0)
    run.dispatch_log = []
    run.run(sol)
    assert run.load_log, "the failure must make some server load blocks"
    windows = {}
    for sid, start, ready in run.load_log:
        windows.setdefault(sid, []).append((start, ready))
    used_loaded = 0
    for t, servers in run.dispatch_log:
        for sid in servers:
            for start, ready in windows.get(sid, []):
                assert not (start <= t < ready), (sid, t, start, ready)
                used_loaded += start <= t
    assert used_loaded > 0  # the reloaded servers do serve once loaded


def test_cli_simulate_events_json(tmp_path, short_timeline):
    sol, tl = short_timeline
    d = tmp_path / "d.json"
    d.write_text(sol.to_json())
    e = tmp_path / "e.json"
    e.write_text(json.dumps(tl.to_dict()))
    proc = subprocess.run([sys.executable, "-m", "chaincomp.cli", "simulate", str(d), "--events", str(e),
                           "--timeline-policy", "none,recompose", "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [p["policy"] for p in data["policies"]] == ["none", "recompose"]
    w = data["policies"][1]["windows"][0]
    for key in ("mean_response_s", "p99_response_s", "jobs_lost", "reload_gb", "reload_s", "thrash_blocks"):
        assert key in w
