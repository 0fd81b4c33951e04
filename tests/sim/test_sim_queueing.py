"""Simulated JFFC against closed forms and Theorem 4 (SPEC §3.4, §8) under Poisson/Exp."""

import math

import numpy as np
import pytest

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation, Chain
from chaincomp.problem import Problem
from chaincomp.sim.runner import simulate

from sim_helpers import random_chain_set


def erlang_c_response(lam: float, mu: float, c: int) -> float:
    """M/M/c mean response time: W = C(c, a)/(cμ − λ) + 1/μ with a = λ/μ (written out, not imported)."""
    a = lam / mu
    rho = a / c
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / (math.factorial(c) * (1 - rho))
    prob_wait = tail / (head + tail)
    return prob_wait / (c * mu - lam) + 1 / mu


@pytest.mark.parametrize("c,load", [(1, 0.5), (3, 0.8), (8, 0.9), (5, 0.3)])
def test_single_chain_is_erlang_c(c, load):
    rng = np.random.default_rng(c)
    problem, _ = random_chain_set(rng)
    chain = Chain.build(problem, (0,), (10,))
    mu = chain.rate
    lam = load * c * mu
    alloc = Allocation((chain,), (c,))
    rep = simulate(problem.with_workload(lam), alloc, ["jffc"], num_jobs=100_000, replications=5, seed=11)
    r = rep.data["policies"][0]["response_time_s"]
    expected = erlang_c_response(lam, mu, c)
    assert abs(r["mean"] - expected) <= 1.5 * r["mean_ci95"], (r, expected)


def test_jffc_within_theorem4_bounds_on_random_chain_sets():
    rng = np.random.default_rng(2026)
    checked = 0
    for i in range(24):
        problem, alloc = random_chain_set(rng)
        load = 0.1 + 0.8 * (i % 9) / 8  # 0.1 … 0.9
        lam = load * alloc.service_rate
        b = jffc_bounds(lam, alloc.rates, alloc.capacity_array)
        rep = simulate(problem.with_workload(lam), alloc, ["jffc"], num_jobs=40_000, replications=5, seed=i)
        r = rep.data["policies"][0]["response_time_s"]
        assert b.lower_s - r["mean_ci95"] <= r["mean"] <= b.upper_s + r["mean_ci95"], (i, load, b, r)
        checked += 1
    assert checked >= 20


def test_jffc_with_migration_attains_the_lower_bound():
    """With free migration jobs always sit on the fastest job servers: the ν̄_n birth–death chain."""
    problem = Problem(("fast", "slow"), np.array([10.0, 10.0]), np.array([1.0, 3.0]), np.array([0.0, 0.0]),
                      num_blocks=1, block_size_gb=1.0, cache_size_gb=0.1, arrival_rate=1.0)
    fast = Chain.build(problem, (0,), (1,))  # T = 1 s
    slow = Chain.build(problem, (1,), (1,))  # T = 3 s
    alloc = Allocation((fast, slow), (2, 6))
    for load in (0.3, 0.6, 0.9):
        lam = load * alloc.service_rate
        b = jffc_bounds(lam, alloc.rates, alloc.capacity_array)
        rep = simulate(problem.with_workload(lam), alloc, ["jffc", "jffc-migrate"], num_jobs=100_000,
                       replications=5, seed=3)
        plain, mig = (p["response_time_s"] for p in rep.data["policies"])
        assert abs(mig["mean"] - b.lower_s) <= 1.5 * mig["mean_ci95"], (load, mig, b)
        # and it is clearly closer to the lower bound than plain JFFC
        assert mig["mean"] - b.lower_s < plain["mean"] - b.lower_s
