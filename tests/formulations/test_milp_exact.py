"""Exact BPCA (method ``milp``) against the brute-force oracle, the greedy, and across solvers (SPEC §8)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from chaincomp import methods
from chaincomp.core.verify import assert_valid
from chaincomp.errors import InfeasibleInstance, NoDesignFound, SolverUnavailable
from chaincomp.formulations.common import greedy_start
from tests.conftest import worked_example_problem
from tests.formulations.bruteforce import brute_force
from tests.formulations.tiny import random_instance


def _tiny_cases(n=50, seed=123):
    rng = np.random.default_rng(seed)
    return [(s, int(rng.integers(2, 5)), int(rng.integers(2, 5))) for s in range(n)]


def test_worked_example_proved_optimal_fast():
    p = worked_example_problem()
    t = time.perf_counter()
    sol = methods.run("milp", p)
    assert time.perf_counter() - t < 5.0
    assert_valid(sol)
    assert sol.solver["proved_optimal"] is True and sol.solver["status"] == "optimal"
    greedy = methods.run("greedy", p)
    assert sol.metrics["job_servers"] <= greedy.metrics["job_servers"]
    # ⌈(λ/ρ̄)·T_fastest⌉ = ⌈0.5714 · 3.005⌉ = 2 job servers is a closed-form lower bound, reached
    assert sol.metrics["job_servers"] == 2 == sol.solver["objective"] == sol.solver["bound"]
    for key in ("name", "version", "status", "objective", "bound", "gap", "time_s", "rows", "columns", "integers", "label"):
        assert key in sol.solver


def test_worked_example_compact_model():
    sol = methods.run("milp", worked_example_problem(), formulation="compact", time_limit_s=20)
    assert_valid(sol)
    assert sol.solver["proved_optimal"] and sol.metrics["job_servers"] == 2


@pytest.mark.parametrize("chunk", range(5))
def test_milp_equals_brute_force_on_tiny_instances(chunk):
    cases = _tiny_cases()[chunk * 10 : (chunk + 1) * 10]
    for seed, J, L in cases:
        p = random_instance(seed, J, L)
        expected = brute_force(p)
        if expected is None:
            # a proof of infeasibility, or honestly "no design found" — never a design
            with pytest.raises((InfeasibleInstance, NoDesignFound)):
                methods.run("milp", p, time_limit_s=20)
            continue
        sol = methods.run("milp", p, time_limit_s=20)
        assert_valid(sol)
        assert sol.solver["proved_optimal"], (seed, J, L, sol.solver["label"])
        assert sol.metrics["job_servers"] == expected, (seed, J, L)
        assert sol.solver["bound"] == expected


def test_compact_model_equals_brute_force():
    """The SPEC §2.3 compact model on the tiny instances the greedy can solve (it needs K̄)."""
    done = 0
    for seed, J, L in _tiny_cases()[:40]:
        p = random_instance(seed, J, L)
        g = greedy_start(p)
        if g is None or g.job_servers > 4 or J * L > 12:
            continue
        sol = methods.run("milp", p, formulation="compact", time_limit_s=30)
        assert_valid(sol)
        if sol.solver["proved_optimal"]:
            assert sol.metrics["job_servers"] == brute_force(p), (seed, J, L)
            done += 1
    assert done >= 8


def test_tiny_cases_include_greedy_suboptimal_ones():
    """The oracle comparison is meaningful: on some tiny instances the greedy is not optimal."""
    worse = 0
    for seed, J, L in _tiny_cases()[:50]:
        p = random_instance(seed, J, L)
        g = greedy_start(p)
        bf = brute_force(p)
        if bf is not None and (g is None or g.job_servers > bf):
            worse += 1
    assert worse >= 1


@pytest.mark.parametrize("seed", range(4))
def test_milp_never_worse_than_greedy_for_every_c(seed):
    rng = np.random.default_rng(1000 + seed)
    J, L = int(rng.integers(5, 9)), int(rng.integers(5, 9))
    p = random_instance(5000 + seed, J, L)
    g = greedy_start(p)
    if g is None:
        pytest.skip("greedy infeasible for every c on this random instance (nothing to compare)")
    sol = methods.run("milp", p, time_limit_s=8)
    assert_valid(sol)
    value = sol.metrics["job_servers"]
    for c, js in g.per_c.items():
        if js is not None:
            assert value <= js, (c, js, value)
    bound = sol.solver["bound"]
    assert bound is not None and bound <= value
    if sol.solver["proved_optimal"]:
        assert bound == value


def test_gurobi_gives_the_same_optimum_as_highs():
    try:
        from chaincomp.solvers import solver_version

        solver_version("gurobi")
    except SolverUnavailable as exc:
        pytest.skip(f"Gurobi unavailable: {exc}")
    compared = 0
    for seed, J, L in _tiny_cases()[:12]:
        p = random_instance(seed, J, L)
        try:
            h = methods.run("milp", p, solver="highs", time_limit_s=20)
        except (InfeasibleInstance, NoDesignFound):
            continue
        try:
            g = methods.run("milp", p, solver="gurobi", time_limit_s=20)
        except SolverUnavailable as exc:  # model beyond the size-limited licence
            pytest.skip(f"Gurobi licence too small: {exc}")
        assert_valid(g)
        assert g.solver["name"] == "gurobi"
        if h.solver["proved_optimal"] and g.solver["proved_optimal"]:
            assert h.metrics["job_servers"] == g.metrics["job_servers"]
            compared += 1
    assert compared >= 5


def test_options_are_validated():
    from chaincomp.errors import UsageError

    p = worked_example_problem()
    with pytest.raises(UsageError):
        methods.run("milp", p, cache_reservation=3)
    with pytest.raises(UsageError):
        methods.run("milp", p, objective="latency")
    with pytest.raises(UsageError):
        methods.run("milp", p, solver="cplex")
    with pytest.raises(UsageError):
        methods.run("milp", p, bogus=1)


def test_throughput_objective_is_valid_and_at_least_greedy():
    p = worked_example_problem()
    sol = methods.run("milp", p, objective="throughput", time_limit_s=10)
    assert_valid(sol)
    greedy = methods.run("greedy", p)
    assert sol.metrics["service_rate"] >= greedy.metrics["service_rate"] - 1e-9
    assert sol.solver["bound"] >= sol.metrics["service_rate"] - 1e-9


def test_greedy_ilp_method():
    p = worked_example_problem()
    sol = methods.run("greedy-ilp", p)
    assert_valid(sol)
    greedy = methods.run("greedy", p)
    assert sol.metrics["job_servers"] <= greedy.metrics["job_servers"]
    assert "all" in sol.parameters["chains"]
