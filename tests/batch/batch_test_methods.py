"""Test-only methods for the batch tests, loaded in every worker through the batch's ``providers``
list (a path to this file), the way user-written methods reach workers."""

from __future__ import annotations

import os
import time

import numpy as np

from chaincomp import methods
from chaincomp.core.allocation import Allocation
from chaincomp.core.solution import Solution
from chaincomp.methods import register


@register("test-raise", "test only: always raises")
def _raise(problem, seed=0, **_):
    raise RuntimeError("deliberate failure from test-raise")


@register("test-sleep", "test only: sleeps sleep_s seconds, then runs greedy")
def _sleep(problem, seed=0, sleep_s=30.0, **_):
    time.sleep(float(sleep_s))
    return methods.run("greedy", problem, seed=seed)


@register("test-crash", "test only: kills its own process")
def _crash(problem, seed=0, **_):
    os._exit(7)


@register("test-hog", "test only: asks for hog_gb GB of address space")
def _hog(problem, seed=0, hog_gb=6.0, **_):
    block = np.empty(int(hog_gb * 1e9), dtype=np.uint8)  # not touched: harmless if it succeeds
    return methods.run("greedy", problem, seed=seed) if block.size else None


@register("test-seeded", "test only: greedy with the cache reservation c = 1 + seed mod c_max")
def _seeded(problem, seed=0, **_):
    c = 1 + seed % max(problem.max_cache_reservation, 1)
    try:
        sol = methods.run("greedy", problem, cache_reservation=c)
    except Exception:  # this c is infeasible: fall back to tuning
        sol = methods.run("greedy", problem)
    sol.method = "test-seeded"
    return sol


@register("test-invalid", "test only: greedy with capacities inflated beyond memory")
def _invalid(problem, seed=0, **_):
    sol = methods.run("greedy", problem)
    alloc = Allocation(sol.allocation.chains, tuple(c * 1000 for c in sol.allocation.capacities))
    return Solution.create(problem, "test-invalid", sol.placement, alloc)
