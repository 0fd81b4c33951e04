"""Run methods end to end (placement → routing/dispatch → simulation) on common random streams.

Methods and how each is simulated (SPEC §6):

- ``proposed``: method ``greedy`` (GBP-CR with c tuned by the Theorem-4 lower bound, or a fixed c, +
  GCA) dispatched by JFFC over GCA's chains;
- ``jffc-only``: whole model per server, JFFC over the one-server chains;
- ``petals``: PETALS placement, PETALS routing (Dijkstra, 10 s penalty, backoff), PETALS' fixed
  cache budget;
- ``bprr``: CG-BP placement for |R|, WS-RR routing.

All run on the general engine's slot accounting (chain policies via the numba kernel, which is
checked against the engine by the simulator's tests), on the same arrivals, sizes and lengths.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from chaincomp import methods
from chaincomp.core.verify import verify_solution
from chaincomp.errors import ChaincompError, VerificationError
from chaincomp.problem import Problem
from chaincomp.sim import metrics
from chaincomp.sim.runner import Streams, run_chain_policy, run_policy

METHODS = ("proposed", "petals", "bprr", "jffc-only")


@dataclass
class MethodRun:
    method: str
    solution: object | None
    summary: dict | None
    placement_time_s: float
    error: str | None = None


def solve(problem: Problem, method: str, seed: int = 0, cache_reservation: int | None = None):
    """The solution each compared method simulates (verified when it has chains)."""
    if method == "proposed":
        sol = methods.run("greedy", problem, cache_reservation=cache_reservation)
    elif method == "petals":
        sol = methods.run("petals", problem, seed=seed)
    elif method == "bprr":
        sol = methods.run("bprr", problem)
    elif method == "jffc-only":
        sol = methods.run("jffc-only", problem)
    else:
        raise ValueError(f"unknown method {method!r}")
    if sol.allocation.chains:
        # a baseline's design may miss λ/ρ̄ (flagged rate_target_missed): it is compared as it is
        errs = [e for e in verify_solution(sol) if not e.startswith("rate:")]
        if errs:
            raise VerificationError(f"{method}: solution failed verification: {errs}")
    return sol


def simulate_solution(problem: Problem, method: str, sol, streams: Streams, service: str, warmup_jobs: int):
    """One run of the method's online policy on ``streams``; returns the engine's RunRecord."""
    if method in ("proposed", "jffc-only"):
        return run_chain_policy(problem, sol.allocation, "jffc", streams, service, warmup_jobs, engine="numba")
    if method == "petals":
        from chaincomp.sim.routing_petals import PetalsRouting

        return run_policy(problem, PetalsRouting.from_solution(sol), streams, service, sol.placement, warmup_jobs)
    if method == "bprr":
        from chaincomp.sim.routing_bprr import WsrrRouting

        return run_policy(problem, WsrrRouting(), streams, service, sol.placement, warmup_jobs)
    raise ValueError(method)


def run_method(problem: Problem, method: str, streams_list: list[Streams], service: str, warmup_jobs: int,
               seed: int = 0, cache_reservation: int | None = None) -> MethodRun:
    """Solve once, simulate every replication, aggregate. Infeasible → error recorded, not raised."""
    t0 = time.perf_counter()
    try:
        sol = solve(problem, method, seed, cache_reservation)
    except ChaincompError as exc:
        return MethodRun(method, None, None, time.perf_counter() - t0, str(exc))
    t_place = time.perf_counter() - t0
    runs = []
    for st in streams_list:
        rec = simulate_solution(problem, method, sol, st, service, warmup_jobs)
        runs.append(metrics.summarize_run(rec, warmup_jobs))
    return MethodRun(method, sol, metrics.aggregate(runs), t_place)


def method_info(run: MethodRun) -> dict:
    """A few descriptive figures of the method's solution (blocks per server, chains, c, |R|)."""
    sol = run.solution
    if sol is None:
        return {}
    m = np.asarray(sol.placement.num_blocks)
    info = {"servers_used": int((m > 0).sum()), "blocks_per_server": m.tolist()}
    if run.method == "proposed":
        info["cache_reservation"] = sol.parameters.get("cache_reservation")
        info["num_chains"] = len(sol.allocation.chains)
        info["total_capacity"] = sol.allocation.total_capacity
    elif run.method == "jffc-only":
        info["num_chains"] = len(sol.allocation.chains)
        info["total_capacity"] = sol.allocation.total_capacity
    elif run.method == "bprr":
        info["design_concurrency"] = sol.extra["bprr"]["design_concurrency"]
    elif run.method == "petals":
        info["cache_slots"] = sol.extra["petals"]["cache_slots"]
    return info
