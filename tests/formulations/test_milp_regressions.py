"""Regressions found by benchmarks/check_milp_exact.py against the exact rational brute force."""

from __future__ import annotations

import numpy as np

from chaincomp import methods
from chaincomp.core.exact import check
from chaincomp.problem import Problem
from tests.formulations.exact_bruteforce import exact_brute_force


def test_highs_mip_start_inconsistent_result_is_not_trusted():
    """HiGHS 1.16 (presolve on) returned "Optimal", objective 0, with the greedy's 3-job-server start as
    the solution of the exact master; the milp then "proved" 3 where 2 is optimal: s0 hosts blocks 1..2
    (3 slots: one 2-block job + one 1-block job), s1 hosts block 1; chains s0 (T = 1.421) and s1 → s0
    (T = 2.277): ν = 1.143 ≥ λ/ρ̄ = 0.9265 with 2 job servers (hand arithmetic)."""
    p = Problem(("s0", "s1"), np.array([2.3, 2.15]), np.array([0.671, 0.955]), np.array([0.375, 0.276]), 2, 1.0, 0.1,
                0.6485273820986953, 0.7, name="highs-start")
    assert exact_brute_force(p) == 2
    sol = methods.run("milp", p, time_limit_s=20)
    assert check(p, sol.placement, sol.allocation).feasible
    assert sol.solver["status"] == "optimal" and sol.allocation.total_capacity == 2 == sol.solver["bound"]


def test_no_incumbent_exact_master_proves_its_design():
    """GBP-CR fails for every c here; the exact master over every chain any design can use found the
    optimum (8) but the milp used to report it as `stopped` with bound 7."""
    p = Problem(("s0", "s1", "s2", "s3"), np.array([4.8, 2.0, 2.3, 2.75]), np.array([0.228, 0.597, 0.507, 0.504]),
                np.array([0.404, 0.503, 0.213, 0.271]), 3, 1.0, 0.25, 2.6988073409804776, 0.7, name="busy-97")
    assert exact_brute_force(p) == 8
    sol = methods.run("milp", p, time_limit_s=20)
    assert check(p, sol.placement, sol.allocation).feasible
    assert sol.solver["status"] == "optimal" and sol.allocation.total_capacity == 8 == sol.solver["bound"]
