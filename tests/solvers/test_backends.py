"""Solver layer: the same MilpModel on HiGHS and Gurobi; statuses; the Gurobi licence limit."""

from __future__ import annotations

import numpy as np
import pytest

from chaincomp.errors import SolverUnavailable, UsageError
from chaincomp.solvers import MilpModel, solve, solver_version


def _knapsack():
    # max 5x0 + 4x1 + 3x2, 2x0+3x1+x2 ≤ 5, 4x0+x1+2x2 ≤ 11, 3x0+4x1+2x2 ≤ 8, x ∈ ℕ ∩ [0,10]
    # enumeration over the box gives 13 at (2, 0, 1)
    m = MilpModel("knap", "max")
    x = m.add_vars("x", 3, ub=10, integer=True, obj=[5, 4, 3])
    m.add_rows("cap", [0, 0, 0, 1, 1, 1, 2, 2, 2], np.r_[x, x, x], [2, 3, 1, 4, 1, 2, 3, 4, 2], [-np.inf] * 3, [5, 11, 8])
    return m


def _brute_knapsack():
    best = 0
    for a in range(11):
        for b in range(11):
            for c in range(11):
                if 2 * a + 3 * b + c <= 5 and 4 * a + b + 2 * c <= 11 and 3 * a + 4 * b + 2 * c <= 8:
                    best = max(best, 5 * a + 4 * b + 3 * c)
    return best


def _backends():
    out = ["highs"]
    try:
        solver_version("gurobi")
        out.append("gurobi")
    except SolverUnavailable:
        pass
    return out


@pytest.mark.parametrize("name", ["highs", "gurobi"])
def test_knapsack_optimum(name):
    if name not in _backends():
        pytest.skip("gurobipy not installed or not licensed")
    m = _knapsack()
    m.set_start(np.zeros(3))
    r = solve(m, name)
    assert r.status == "optimal" and r.proved_optimal
    assert r.objective == pytest.approx(_brute_knapsack())
    assert m.violation(r.values) <= 1e-6
    assert (r.rows, r.columns, r.integers) == (3, 3, 3)
    assert r.solver == name and r.solver_version


@pytest.mark.parametrize("name", ["highs", "gurobi"])
def test_infeasible_status(name):
    if name not in _backends():
        pytest.skip("gurobipy not installed or not licensed")
    m = MilpModel("inf")
    x = m.add_vars("x", 2, ub=1, integer=True, obj=1)
    m.add_row("r", x, [1, 1], lower=3)
    assert solve(m, name).status == "infeasible"


def test_lp_and_csr_duplicates_summed():
    m = MilpModel("lp")
    x = m.add_vars("x", 2, obj=[1, 1])
    m.add_rows("r", [0, 0, 0], [x[0], x[0], x[1]], [1, 1, 1], [4], [np.inf])  # 2 x0 + x1 ≥ 4
    r = solve(m, "highs")
    assert r.status == "optimal" and r.objective == pytest.approx(2.0) and r.gap == 0.0


def test_time_limit_keeps_incumbent():
    # a hard-ish equality knapsack; with a tiny limit HiGHS stops with the start as incumbent
    rng = np.random.default_rng(0)
    n = 60
    w = rng.integers(1000, 5000, n)
    m = MilpModel("hard", "max")
    x = m.add_vars("x", n, ub=1, integer=True, obj=w + rng.integers(0, 50, n))
    m.add_row("cap", x, w, upper=float(w.sum() // 2))
    m.set_start(np.zeros(n))
    r = solve(m, "highs", time_limit_s=0.01)
    assert r.status in ("time_limit", "optimal")
    assert r.has_solution


def test_unknown_solver():
    with pytest.raises(UsageError):
        solve(_knapsack(), "cplex")


def test_gurobi_size_limit_message():
    if "gurobi" not in _backends():
        pytest.skip("gurobipy not installed or not licensed")
    import gurobipy

    m = MilpModel("big")
    x = m.add_vars("x", 2500, ub=1, integer=True, obj=1)
    m.add_row("r", x, 1.0, lower=1)
    try:
        r = solve(m, "gurobi")
    except SolverUnavailable as exc:
        msg = str(exc)
        assert "2000" in msg and "--solver highs" in msg
    else:  # a full licence: the model simply solves
        assert r.objective == pytest.approx(1.0)
        assert gurobipy is not None
