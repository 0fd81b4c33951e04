"""Shared designs for the elastic tests (synthetic RTT model: no data files needed)."""

from __future__ import annotations

import functools

from chaincomp.heuristics.pipeline import solve_greedy
from chaincomp.instances.generators import generate_problem


@functools.lru_cache(maxsize=None)
def bloom_design(servers: int = 40, rate: float = 1.5, seed: int = 1):
    problem = generate_problem("bloom", seed=seed, servers=servers, eta=0.2, rate=rate)
    return solve_greedy(problem)
