"""Column generation beyond toy size: converges, respects the wall-clock budget, bound ≤ value ≤ greedy."""

from __future__ import annotations

import time

from benchmarks.milp_instances import bloom_like
from chaincomp import methods
from chaincomp.core.verify import assert_valid
from chaincomp.formulations.common import greedy_start


def test_bloom_like_20x16_converges_within_budget():
    """Column generation settles the integer bound fast; the whole run respects the wall clock."""
    p = bloom_like(20, 16, 0)
    g = greedy_start(p)
    assert g is not None
    limit = 6.0
    # compile the numba pricing kernels first (a fresh environment has no on-disk cache yet), so the
    # wall-clock check below measures the solve, not the one-time JIT compilation
    methods.run("milp", bloom_like(6, 6, 0), time_limit_s=5.0)
    t = time.perf_counter()
    sol = methods.run("milp", p, time_limit_s=limit)
    wall = time.perf_counter() - t
    assert_valid(sol)
    s = sol.solver
    assert wall <= limit + 2.0, wall
    # converged, or stopped early because the rounded bound equals the rounded restricted-master LP
    assert s["lp_converged"] is True or s["phases"]["colgen_stopped_early"] is True
    value = sol.metrics["job_servers"]
    assert s["bound"] <= value <= g.job_servers
    assert s["lp_bound"] <= s["bound"] + 1e-9  # the integer bound is the LP bound rounded up
    assert s["status"] in ("optimal", "time_limit")
    assert s["label"].startswith("proved optimal") == s["proved_optimal"]
    if not s["proved_optimal"]:
        assert "restricted" in s["label"]


def test_full_column_generation_without_early_stop():
    """With early termination off, column generation converges and the bound is the rounded LP value."""
    from chaincomp.formulations.colgen import solve_colgen

    p = bloom_like(20, 16, 0)
    r = solve_colgen(p, time_limit_s=4.0, early_stop=False, dive=False)
    assert r.lp_converged is True
    assert r.phases["lp_value"] is not None
    assert r.lp_bound <= r.phases["lp_value"] + 1e-6
    assert r.bound == __import__("math").ceil(r.lp_bound - 1e-6) or r.proved_optimal
