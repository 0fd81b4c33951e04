"""Policy comparison on a BLOOM-like setup (SPEC §6.1, the paper's Fig. 3), traces, determinism."""

import csv
import json
from datetime import datetime

import numpy as np
import pytest

from chaincomp.errors import InvalidInstance, UsageError
from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from chaincomp.sim.arrivals import load_trace
from chaincomp.sim.runner import simulate

from sim_helpers import bloom_like, random_chain_set, with_timing


@pytest.fixture(scope="module")
def bloom():
    p = bloom_like(arrival_rate=1.0)  # λ large enough that GBP-CR uses all 20 servers → several chains
    alloc = gca(p, gbp_cr(p, 7).placement)
    assert len(alloc.chains) >= 4
    return p, alloc


@pytest.mark.parametrize("load", [0.3, 0.5, 0.7, 0.9])
def test_jffc_beats_other_policies_on_bloom(bloom, load):
    p, alloc = bloom
    rep = simulate(p.with_workload(load * alloc.service_rate), alloc, ["jffc", "jsq", "jiq", "sed", "sa-jsq"],
                   num_jobs=40_000, replications=5, seed=7)
    res = {r["policy"]: r for r in rep.data["policies"]}
    jffc = res["jffc"]["response_time_s"]
    for other in ("jsq", "jiq", "sed", "sa-jsq"):
        assert jffc["mean"] <= res[other]["response_time_s"]["mean"] + jffc["mean_ci95"], (load, other)
    if load < 0.7:
        assert res["jffc"]["service_share"] > 0.85


def test_service_share_of_jffc_below_load_07(bloom):
    p, alloc = bloom
    for load in (0.1, 0.3, 0.5, 0.65):
        rep = simulate(p.with_workload(load * alloc.service_rate), alloc, ["jffc"], num_jobs=30_000, seed=1)
        assert rep.data["policies"][0]["service_share"] > 0.85


def _independent_trace_stats(path, n):
    """Rate (1/mean gap) and mean lengths of the first n rows, parsed with the csv/datetime modules."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))[:n]
    ts = [datetime.strptime(r["TIMESTAMP"][:26], "%Y-%m-%d %H:%M:%S.%f") for r in rows]
    span = (ts[-1] - ts[0]).total_seconds()
    return (n - 1) / span, np.mean([float(r["ContextTokens"]) for r in rows]), np.mean([float(r["GeneratedTokens"]) for r in rows])


def test_azure_trace_first_1000_reports_its_own_statistics(shared_data):
    path = shared_data / "azure_llm_inference_2023_code.csv"
    rate, lin, lout = _independent_trace_stats(path, 1000)
    trace = load_trace(path, first=1000)
    rng = np.random.default_rng(0)
    problem, alloc = random_chain_set(rng)
    problem = with_timing(problem, rng)
    rep = simulate(problem, alloc, ["jffc"], arrivals="trace", trace=trace, service="length")
    w = rep.data["workload"]
    assert w["trace_stats"]["num_requests"] == 1000
    assert w["trace_stats"]["rate_per_s"] == pytest.approx(rate, rel=1e-5)
    assert w["trace_stats"]["mean_input_tokens"] == pytest.approx(lin)
    assert w["trace_stats"]["mean_output_tokens"] == pytest.approx(lout)
    assert w["simulated"]["rate_per_s"] == pytest.approx(rate, rel=1e-5)
    r = rep.data["policies"][0]
    assert r["measured_jobs"] == 1000
    assert r["response_time_s"]["mean"] > 0
    # whole file: the README's 2.567 req/s and CV 13.15
    whole = load_trace(path)
    st = rep.data["workload"]["requests_in_file"]
    assert st == 8819
    assert whole.source["trace_stats"]["rate_per_s"] == pytest.approx(2.567, abs=1e-3)
    assert whole.source["trace_stats"]["interarrival_cv"] == pytest.approx(13.15, abs=0.01)


def test_trace_offset_first_and_rescale(shared_data):
    path = shared_data / "azure_llm_inference_2023_code.csv"
    t = load_trace(path, first=500, offset=100, rate=5.0)
    assert t.num_jobs == 500 and t.arrival_s[0] == 0.0
    assert (t.num_jobs - 1) / t.arrival_s[-1] == pytest.approx(5.0)
    rate, lin, _ = _independent_trace_stats(path, 600)
    assert t.source["trace_stats"]["mean_input_tokens"] != pytest.approx(lin)  # offset applied


@pytest.mark.parametrize("content,field", [
    ("", "empty"),
    ("TIME,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9,1,2\n", "TIMESTAMP"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n", "TIMESTAMP"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9,x,2\n", "ContextTokens"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9,1,-2\n", "GeneratedTokens"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:04.9,1,2\n2023-11-16 18:17:03.9,1,2\n", "non-decreasing"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:04.9,1\n", "fields"),
])
def test_bad_trace_files_are_reported(tmp_path, content, field):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(InvalidInstance, match=field) as exc:
        load_trace(f)
    assert str(f) in str(exc.value)


def test_missing_trace_file(tmp_path):
    with pytest.raises(InvalidInstance, match="no such trace file"):
        load_trace(tmp_path / "nope.csv")


def test_length_service_needs_timing():
    problem, alloc = random_chain_set(np.random.default_rng(1))
    with pytest.raises(UsageError, match="timing"):
        simulate(problem, alloc, ["jffc"], service="length", num_jobs=100)


def test_same_seed_same_json_bytes():
    problem, alloc = random_chain_set(np.random.default_rng(4))
    problem = problem.with_workload(0.8 * alloc.service_rate)
    kw = dict(num_jobs=5000, replications=3, seed=42)
    a = json.dumps(simulate(problem, alloc, ["jffc", "jiq", "jsq"], **kw).to_dict())
    b = json.dumps(simulate(problem, alloc, ["jffc", "jiq", "jsq"], **kw).to_dict())
    c = json.dumps(simulate(problem, alloc, ["jffc", "jiq", "jsq"], **{**kw, "seed": 43}).to_dict())
    assert a == b and a != c


def test_common_random_numbers_across_allocations():
    """The tuning score sees the same arrivals and sizes whatever the allocation."""
    from chaincomp.sim.runner import make_streams
    from chaincomp.sim.tuning import simulated_mean_response_time

    problem, alloc = random_chain_set(np.random.default_rng(8))
    problem = problem.with_workload(0.5 * alloc.service_rate)
    s1 = make_streams(problem, 1000, 3, 0, "exp")
    s2 = make_streams(problem, 1000, 3, 0, "exp")
    np.testing.assert_array_equal(s1.arrival_s, s2.arrival_s)
    np.testing.assert_array_equal(s1.sizes, s2.sizes)
    x = simulated_mean_response_time(problem, alloc, num_jobs=4000, seed=3)
    assert x == simulated_mean_response_time(problem, alloc, num_jobs=4000, seed=3)
    # it is the JFFC mean of replication 0 of the general runner with the same seed (10 % warm-up)
    rep = simulate(problem, alloc, ["jffc"], num_jobs=4000, seed=3)
    assert rep.data["policies"][0]["response_time_s"]["mean"] == pytest.approx(x, rel=1e-12)
    assert simulated_mean_response_time(problem.with_workload(10 * alloc.service_rate), alloc) == float("inf")
