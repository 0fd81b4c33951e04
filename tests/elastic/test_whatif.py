"""N−1 what-if: every case equals re-evaluating the reduced design from the chains; worked example by hand."""

import math

import pytest

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.solution import Solution
from chaincomp.elastic.whatif import whatif
from chaincomp.heuristics.pipeline import solve_greedy
from tests.conftest import worked_example_problem
from tests.elastic.helpers import bloom_design


def _independent(sol_dict, failed):
    """ν, C, job servers and Theorem-4 bounds of the chains not through ``failed``, from the JSON records."""
    inst = sol_dict["instance"]
    lam = inst["arrival_rate"]
    need = lam / inst["target_load"]
    tau = {s["id"]: (s["tau_comm_s"], s["tau_comp_s"]) for s in inst["servers"]}
    keep = [c for c in sol_dict["chains"] if not set(c["servers"]) & set(failed)]
    T = [sum(tau[s][0] + tau[s][1] * b for s, b in zip(c["servers"], c["blocks"])) for c in keep]
    caps = [c["capacity"] for c in keep]
    nu = sum(c / t for c, t in zip(caps, T))
    # job servers: fastest chains first, the last partly (SPEC §3.2)
    rest, js = need, 0
    for t, c in sorted(zip(T, caps)):
        if rest <= 1e-12:
            break
        if c / t >= rest:
            js += max(1, math.ceil(rest * t - 1e-9))
            rest = 0
            break
        rest -= c / t
        js += c
    b = jffc_bounds(lam, [1 / t for t in T], caps)
    return {"service_rate": nu, "total_capacity": sum(caps), "surviving_chains": len(keep),
            "job_servers": js if rest <= 1e-12 else None,
            "meets_target": nu >= need * (1 - 1e-12) and nu > lam,
            "response_time_lower_s": b.lower_s if math.isfinite(b.lower_s) else None,
            "response_time_upper_s": b.upper_s if math.isfinite(b.upper_s) else None}


@pytest.mark.parametrize("servers, rate", [(40, 1.5), (20, 0.4)])
def test_whatif_equals_reevaluation(servers, rate):
    sol = bloom_design(servers, rate)
    d = sol.to_dict()
    res = whatif(sol, "any")
    assert len(res["cases"]) == sol.problem.num_servers
    for case in res["cases"]:
        ref = _independent(d, case["failed"])
        for key, val in ref.items():
            got = case[key]
            if isinstance(val, float):
                assert got == pytest.approx(val, rel=1e-12), (case["case"], key)
            else:
                assert got == val, (case["case"], key)
    assert res["worst"]["service_rate"] == min(c["service_rate"] for c in res["cases"])
    assert res["robust"] == all(c["meets_target"] for c in res["cases"])


def _erlang_c_mean_response(lam, mu, c):
    """M/M/c mean response time, closed form (Erlang C)."""
    a = lam / mu
    rho = a / c
    s = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    pw = top / (s + top)
    return pw / (c * mu - lam) + 1 / mu


def test_worked_example_by_hand():
    # GCA chains (SPEC §8): j1→j2 (3+5ε, c=5), j1→j4→j5 (3+10ε, 5), j3→j4→j5 (3+12ε, 5)
    sol = solve_greedy(worked_example_problem(), cache_reservation=1)
    eps = 1e-3
    res = {c["case"]: c for c in whatif(sol, "any")["cases"]}
    # j4 fails: only j1→j2 survives, a single chain with 5 job servers = M/M/5
    c = res["j4"]
    mu = 1 / (3 + 5 * eps)
    assert c["surviving_chains"] == 1 and c["total_capacity"] == 5
    assert c["service_rate"] == pytest.approx(5 * mu, rel=1e-12)
    exact = _erlang_c_mean_response(0.4, mu, 5)
    assert c["response_time_lower_s"] == pytest.approx(exact, rel=1e-9)
    assert c["response_time_upper_s"] == pytest.approx(exact, rel=1e-9)
    # j2 fails: j1→j4→j5 and j3→j4→j5 survive
    c = res["j2"]
    assert c["service_rate"] == pytest.approx(5 / (3 + 10 * eps) + 5 / (3 + 12 * eps), rel=1e-12)
    assert c["lost_chains"] == 1
    # j1 fails: only j3→j4→j5
    assert res["j1"]["service_rate"] == pytest.approx(5 / (3 + 12 * eps), rel=1e-12)
    # λ/ρ̄ = 0.571: every single failure keeps ν ≥ 1.66, so the design is N−1 robust
    assert all(x["meets_target"] for x in res.values())


def test_whatif_region_and_errors():
    from chaincomp.errors import UsageError
    from chaincomp.instances.generators import generate_problem

    p = generate_problem("helix-three-region-24", seed=0)
    sol = solve_greedy(p)
    res = whatif(sol, "regions")
    labels = sorted({c["case"] for c in res["cases"]})
    assert labels == ["region-1", "region-2", "region-3"]
    d = sol.to_dict()
    for case in res["cases"]:
        assert case["service_rate"] == pytest.approx(_independent(d, case["failed"])["service_rate"], rel=1e-12)
    with pytest.raises(UsageError, match="a server id or a region label"):
        whatif(sol, "nowhere")
    with pytest.raises(UsageError, match="no server of this design has a region"):
        whatif(bloom_design(20, 0.4), "regions")


def test_whatif_repair_fields():
    sol = bloom_design()
    fast = sol.allocation.chains[0]
    sid = sol.problem.server_ids[fast.servers[1]]
    res = whatif(sol, sid, repair=True)
    r = res["cases"][0]["repair"]
    for key in ("moved_servers", "reloaded_blocks", "reload_gb", "reload_time_s", "response_time_lower_s", "from_scratch"):
        assert key in r
    assert r["meets_target"]
    assert Solution  # noqa: the repaired design itself is verified inside recompose
