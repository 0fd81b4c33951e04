"""Simulated JFFC mean response time, the ``sim`` score of ``chaincomp solve --tune sim`` (SPEC §3.5).

Common random numbers: the arrival times (Poisson(problem.arrival_rate)) and Exp(1) job sizes
depend only on ``seed`` and ``num_jobs`` — not on the allocation — so differences between the c's
of a sweep are not arrival noise. Warm-up: the first 10 % of the jobs are discarded.
"""

from __future__ import annotations

import math

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.problem import Problem
from chaincomp.sim.runner import make_streams, run_chain_policy


def simulated_mean_response_time(problem: Problem, allocation: Allocation, *, num_jobs: int = 20000, seed: int = 0) -> float:
    """Mean response time (s) of JFFC over ``allocation`` (Poisson(λ), Exp service, numba kernel).

    Returns ``inf`` when λ ≥ ν (the queue would grow without bound).
    """
    if allocation.service_rate <= problem.arrival_rate:
        return math.inf
    streams = make_streams(problem, num_jobs, seed, 0, "exp")
    warm = num_jobs // 10
    rec = run_chain_policy(problem, allocation, "jffc", streams, "exp", warm)
    return float(np.mean(rec.completion_s[warm:] - rec.arrival_s[warm:]))
