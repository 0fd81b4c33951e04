"""Column generation beyond toy size: converges, respects the wall-clock budget, bound ≤ value ≤ greedy."""

from __future__ import annotations

import time

from benchmarks.milp_instances import bloom_like
from chaincomp import methods
from chaincomp.core.verify import assert_valid
from chaincomp.formulations.common import greedy_start


def test_bloom_like_20x16_converges_within_budget():
    p = bloom_like(20, 16, 0)
    g = greedy_start(p)
    assert g is not None
    limit = 6.0
    t = time.perf_counter()
    sol = methods.run("milp", p, time_limit_s=limit)
    wall = time.perf_counter() - t
    assert_valid(sol)
    s = sol.solver
    assert wall <= limit + 2.0, wall
    assert s["lp_converged"] is True
    value = sol.metrics["job_servers"]
    assert s["bound"] <= value <= g.job_servers
    assert s["lp_bound"] <= s["bound"] + 1e-9  # the integer bound is the LP bound rounded up
    assert s["status"] in ("optimal", "time_limit")
    assert s["label"].startswith("proved optimal") == s["proved_optimal"]
    if not s["proved_optimal"]:
        assert "restricted" in s["label"]
