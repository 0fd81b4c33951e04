"""core/exact.py: exact slots, exact rate with the 1e-12 tolerance, exact job-server counts, repair and
the finalize policy — checked by hand arithmetic on the worked example (SPEC §8) and rationals."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from chaincomp import methods
from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.exact import ExactInstance, check, closed_form_bound, finalize, repair, to_fraction
from chaincomp.core.placement import Placement
from chaincomp.core.solution import Solution
from chaincomp.errors import VerificationError
from tests.conftest import worked_example_problem
from tests.formulations.exact_bruteforce import exact_brute_force
from tests.formulations.tiny import random_instance

# the worked example's GBP-CR placement (SPEC §8): j1→{1}, j2→{2,3}, j3→{1}, j4→{2}, j5→{3}
A = np.array([1, 2, 1, 2, 3])
M = np.array([1, 2, 1, 1, 1])
FAST = (0, 1)  # j1 → j2, T = 3 + 5ε = 3.005 (hand arithmetic: 1 + 0.001 + 2 + 2·0.002)


def _design(p, caps=(1,), chains=(FAST,)):
    pl = Placement(A, M)
    chs = []
    for servers in chains:
        ends, prev, blocks = [pl.last_block[j] for j in servers], 0, []
        for e in ends:
            blocks.append(int(e - prev))
            prev = e
        chs.append(Chain.build(p, servers, blocks))
    return pl, Allocation(tuple(chs), tuple(caps))


def test_decimal_reading_and_exact_slot_boundaries():
    assert to_fraction(0.1) == Fraction(1, 10)
    inst = ExactInstance.of(worked_example_problem())
    assert inst.slots(0, 1) == 10  # (2 − 1)/0.1 = 10 exactly, not 9.999…
    assert inst.slots(1, 2) == 10  # (3 − 2)/0.1
    p = replace(worked_example_problem(), memory_gb=np.array([2.3, 3.0, 2.0, 6.159999999999999, 2.0]),
                block_size_gb=1.0, cache_size_gb=0.1)
    inst = ExactInstance.of(p)
    assert inst.slots(0, 1) == 13  # 1.3/0.1
    assert inst.slots(3, 5) == 11  # (6.159999999999999 − 5)/0.1 = 11.59… → 11
    q = replace(p, memory_gb=np.array([2.0, 3.0, 2.0, 6.159999999999999, 2.0]), block_size_gb=1.32, cache_size_gb=0.11)
    # (6.159999999999999 − 4·1.32)/0.11 = 7.99999999999999…: within 1e-9 of 8 → 8 (the documented floor rule)
    assert ExactInstance.of(q).slots(3, 4) == 8
    for bad in (float("nan"), float("inf"), "5", True):
        with pytest.raises((ValueError, TypeError)):
            to_fraction(bad)


@pytest.mark.parametrize("rel", [1e-6, 1e-8, 1e-10])
def test_near_ties_miss_and_meet(rel):
    base = worked_example_problem()
    T = Fraction(3005, 1000)
    for n in (1, 2, 3):
        target = Fraction(n) / T
        for sign, met in ((1, False), (-1, True)):
            lam = float(target * (1 + sign * Fraction(rel)) * Fraction(7, 10))
            p = replace(base, arrival_rate=lam)
            pl, al = _design(p, caps=(n,))
            res = check(p, pl, al)
            assert res.rate_met is met, (n, rel, sign, res.shortfall)
            assert not res.memory and not res.structure
            if met:
                assert res.job_servers == n
            else:
                assert res.job_servers is None and res.shortfall == pytest.approx(rel, rel=1e-3)


def test_exact_tie_and_the_1e12_tolerance():
    base = worked_example_problem()
    T = Fraction(3005, 1000)
    target = Fraction(2) / T
    for rel, met in ((0, True), (Fraction(5, 10**13), True), (Fraction(1, 10**10), False)):
        inst_target = target * (1 + rel)
        p = replace(base, arrival_rate=float(inst_target * Fraction(7, 10)))
        pl, al = _design(p, caps=(2,))
        assert check(p, pl, al).rate_met is met, rel


def test_repair_adds_the_fewest_job_servers():
    p = worked_example_problem(arrival_rate=1.0)  # λ/ρ̄ = 1.4286 → ⌈1.4286 · 3.005⌉ = 5 on the fastest chain
    pl, al = _design(p, caps=(1,))
    assert not check(p, pl, al).rate_met
    fixed, removed, added = repair(p, pl, al)
    assert (removed, added) == (0, 4)
    res = check(p, pl, fixed)
    assert res.feasible and res.job_servers == 5 == fixed.total_capacity


def test_repair_frees_memory_first():
    p = worked_example_problem()
    pl, al = _design(p, caps=(11,))  # j1: 11 > 10 slots; j2 processes 2 blocks per job: 22 > 10 slots
    res = check(p, pl, al)
    assert len(res.memory) == 2 and "j1" in res.memory[0] and "j2" in res.memory[1]
    fixed, removed, added = repair(p, pl, al)
    assert (removed, added) == (6, 0) and fixed.capacities == (5,) and check(p, pl, fixed).feasible


def test_finalize_repairs_job_server_methods_and_flags_baselines():
    p = worked_example_problem(arrival_rate=1.0)
    pl, al = _design(p, caps=(1,))
    sol = finalize(Solution.create(p, "greedy", pl, al))
    assert sol.extra["exact_check"]["feasible"] and "repaired" in sol.extra["exact_check"]["repair"]
    assert sol.metrics["job_servers"] == 5
    flagged = finalize(Solution.create(p, "bprr", pl, al))
    assert flagged.extra["status"] == "rate_target_missed" and flagged.metrics["job_servers"] is None
    with pytest.raises(VerificationError):
        finalize(Solution.create(p, "bprr", *_design(p, caps=(11,))))


def test_milp_status_after_repair_is_never_optimal_above_its_bound():
    p = worked_example_problem(arrival_rate=1.0)
    pl, al = _design(p, caps=(1,))
    sol = Solution.create(p, "milp", pl, al, parameters={"objective": "job-servers"},
                          solver={"status": "optimal", "proved_optimal": True, "bound": 1, "objective": 1, "label": "x"})
    sol = finalize(sol)
    assert sol.solver["status"] == "stopped" and sol.solver["proved_optimal"] is False
    assert sol.solver["objective"] == 5 and sol.solver["gap"] == pytest.approx(0.8)


def test_greedy_ilp_after_repair_reports_the_emitted_design():
    """A float ILP that called 1 job server optimal (the near-tie defect): after the exact repair the
    solver dict describes the emitted design — objective 5 = its job servers, gap (5 − 1)/5, not proved."""
    p = worked_example_problem(arrival_rate=1.0)
    pl, al = _design(p, caps=(1,))
    sol = Solution.create(p, "greedy-ilp", pl, al, parameters={"objective": "job-servers"},
                          solver={"status": "optimal", "proved_optimal": True, "bound": 1, "objective": 1,
                                  "gap": 0.0, "bound_scope": "placement", "label": "x"})
    sol = finalize(sol)
    assert sol.metrics["job_servers"] == 5 == sol.solver["objective"]
    assert sol.solver["status"] == "stopped" and sol.solver["proved_optimal"] is False
    assert sol.solver["gap"] == pytest.approx(0.8)


def test_greedy_ilp_bound_is_labelled_for_its_placement_only(worked_example):
    from chaincomp.cli.render import solver_line

    sol = methods.run("greedy-ilp", worked_example)
    assert sol.solver["bound_scope"] == "placement" and "this placement only" in sol.solver["label"]
    line = solver_line(sol)
    assert "bound (this placement only)" in line and "optimal for this placement" in line
    assert "bound (this" not in solver_line(methods.run("milp", worked_example, time_limit_s=20))


def test_greedy_ilp_job_server_bound_is_an_integer():
    """Σc is an integer, so HiGHS's float bound (e.g. 25.999999999999474) is reported rounded up, with
    the milp's 10⁻⁶ tolerance; the placement's bound never exceeds the design's value."""
    from chaincomp.instances.examples import load_example

    sol = methods.run("greedy-ilp", load_example("bloom-j20"))
    bound = sol.solver["bound"]
    assert isinstance(bound, int) and bound <= sol.allocation.total_capacity
    assert sol.solver["gap"] == (sol.allocation.total_capacity - bound) / sol.allocation.total_capacity


def test_every_registered_method_is_checked(worked_example):
    for name in ("greedy", "random", "greedy-ilp", "milp", "bprr", "petals"):
        sol = methods.run(name, worked_example)
        assert "exact_check" in sol.extra, name


@pytest.mark.parametrize("seed,J,L", [(3, 3, 2), (11, 3, 3), (19, 4, 2)])
def test_closed_form_bound_is_valid(seed, J, L):
    p = random_instance(seed, J, L)
    truth = exact_brute_force(p)
    assert truth is not None and closed_form_bound(ExactInstance.of(p)) <= truth


def test_rate_upper_bound_is_valid_against_brute_force():
    """ν_max = N_max / T_min (core/exact.py) is ≥ the brute-force max ν of every tiny instance, so
    "proved infeasible" from it is never wrong; and it proves some instances where the greedy fails."""
    from chaincomp.core.exact import rate_beyond_any_design, rate_upper_bound
    from tests.formulations.bruteforce import brute_force_throughput

    rng = np.random.default_rng(7)
    for seed in range(40):
        J, L = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        p = random_instance(seed, J, L)
        truth = brute_force_throughput(p)
        nu_max = rate_upper_bound(ExactInstance.of(p), J)[0]
        assert truth <= float(nu_max) * (1 + 1e-12), (seed, truth, nu_max)
        # just above the bound: proved; at the true max ν (a design exists): never claimed
        assert rate_beyond_any_design(p.with_workload(arrival_rate=1.01 * float(nu_max) * p.target_load + 1e-9))[0]
        if truth > 0:
            assert rate_beyond_any_design(p.with_workload(arrival_rate=truth * p.target_load))[0] is None
