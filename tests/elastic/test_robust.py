"""`solve --robust 1`: every single failure still meets λ/ρ̄ (checked by whatif and by hand from the chains)."""

import json
import subprocess
import sys

import pytest

from chaincomp.core.verify import verify_solution
from chaincomp.elastic.robust import robust_design
from chaincomp.elastic.whatif import whatif
from chaincomp.instances.generators import generate_problem
from tests.conftest import worked_example_problem


def _worst_from_chains(d):
    tau = {s["id"]: (s["tau_comm_s"], s["tau_comp_s"]) for s in d["instance"]["servers"]}
    rate = lambda c: c["capacity"] / sum(tau[s][0] + tau[s][1] * b for s, b in zip(c["servers"], c["blocks"]))  # noqa: E731
    nu = sum(rate(c) for c in d["chains"])
    return min(nu - sum(rate(c) for c in d["chains"] if sid in c["servers"]) for sid in tau)


@pytest.mark.parametrize("family, seed, kw", [
    ("bloom", 1, {"servers": 40, "eta": 0.2, "rate": 1.5}),
    ("bloom", 3, {"servers": 40, "eta": 0.2, "rate": 1.5}),
    ("bloom", 2, {"servers": 20, "eta": 0.3, "rate": 0.3}),
    ("helix-single-24", 2, {}),
])
def test_robust_designs_survive_every_single_failure(family, seed, kw):
    p = generate_problem(family, seed=seed, **kw)
    sol = robust_design(p, 1)
    assert verify_solution(sol) == []
    info = sol.extra["robust"]
    assert info["robust"] is True
    res = whatif(sol, "any")
    assert res["robust"] and all(c["meets_target"] for c in res["cases"])
    worst = _worst_from_chains(sol.to_dict())
    assert worst >= p.required_rate * (1 - 1e-12)
    assert info["worst_single_failure"]["service_rate"] == pytest.approx(worst, rel=1e-12)
    # the extra cost over the plain design is stated and consistent
    plain = info["plain"]
    assert info["extra_cost"]["total_capacity"] == sol.metrics["total_capacity"] - plain["total_capacity"]


def test_robust_flag_agrees_with_whatif_when_not_robust():
    # BLOOM 40 servers, seed 2: no design of the construction survives every failure (worst ν 2.09 < 2.14)
    p = generate_problem("bloom", seed=2, servers=40, eta=0.2, rate=1.5)
    sol = robust_design(p, 1)
    assert sol.extra["robust"]["robust"] is False
    res = whatif(sol, "any")
    assert res["robust"] is False
    assert res["worst"]["service_rate"] == pytest.approx(sol.extra["robust"]["worst_single_failure"]["service_rate"], rel=1e-12)
    # it maximizes the worst case at least as well as the plain design does
    assert res["worst"]["service_rate"] >= sol.extra["robust"]["plain"]["worst_single_failure_service_rate"]


def test_robust_impossible_maximizes_worst_case():
    # the worked example at λ = 1.2 (λ/ρ̄ = 1.71): no design survives every failure of the 5 servers
    p = worked_example_problem(arrival_rate=1.2)
    sol = robust_design(p, 1)
    info = sol.extra["robust"]
    assert info["robust"] is False and info["note"]
    assert not whatif(sol, "any")["robust"]
    assert _worst_from_chains(sol.to_dict()) == pytest.approx(info["worst_single_failure"]["service_rate"], rel=1e-12)


def test_cli_solve_robust(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--example", "bloom-j20", "--robust", "1", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["method"] == "greedy-robust" and d["extra"]["robust"]["level"] == 1
    f = tmp_path / "r.json"
    f.write_text(proc.stdout)
    w = subprocess.run([sys.executable, "-m", "chaincomp.cli", "whatif", str(f), "--json"], capture_output=True, text=True, timeout=300)
    assert w.returncode == 0, w.stderr
    assert json.loads(w.stdout)["robust"] == d["extra"]["robust"]["robust"]
    bad = subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--example", "bloom-j20", "--robust", "2"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "supports only 1" in bad.stderr


def test_robust_beyond_the_construction_is_no_design_not_a_failed_verification():
    """bloom-j20 at λ = 3 (λ/ρ̄ 4.29 job/s, the closed-form bound allows 6.97): the construction reaches
    it at no c → NoDesignFound (exit 3, not a proof); at λ = 5 (7.14 > 6.97) → proved infeasible. Before,
    both emitted the largest-worst-case design, which missed λ/ρ̄ and failed verification (exit 1)."""
    from chaincomp.errors import InfeasibleInstance, NoDesignFound
    from chaincomp.instances.examples import load_example

    base = load_example("bloom-j20")
    with pytest.raises(NoDesignFound, match="not a proof"):
        robust_design(base.with_workload(arrival_rate=3.0), 1)
    with pytest.raises(InfeasibleInstance, match="proved infeasible"):
        robust_design(base.with_workload(arrival_rate=5.0), 1)
    # every fallback design that is emitted reaches λ/ρ̄ without a failure
    sol = robust_design(worked_example_problem(arrival_rate=1.2), 1)
    assert not verify_solution(sol)
