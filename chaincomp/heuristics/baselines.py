"""Registers the baseline methods: ``petals``, ``bprr``, ``jffc-only``, ``random`` (SPEC §4, §6.1).

Every entry takes the Problem plus keyword options and rejects options it does not support
(``None`` values, which the CLI passes for options left unset, are ignored).

- ``petals`` — options: ``seed`` (join order), ``network_rps``, ``rebalance_rounds``,
  ``balance_quality``, ``hidden_size``, ``kv_groups``. Solution without chains (per-request routing).
- ``bprr`` — options: ``design_concurrency`` (|R|; default: mean + one std of the number in system,
  capped by memory). One chain: CG-BPRR's offline shortest path with capacity |R|.
- ``jffc-only`` — no options. One-server chains holding the whole model.
- ``random`` — options: ``cache_reservation`` (c; default: the greedy pipeline's tuned c),
  ``seed``. GBP-CR's chain cutting over a random server order (orders redrawn until feasible), then GCA.
"""

from __future__ import annotations

import math
import time

from chaincomp.errors import InfeasibleInstance, UsageError
from chaincomp.methods import register
from chaincomp.problem import Problem


def _reject(method: str, unsupported: dict) -> None:
    bad = {k: v for k, v in unsupported.items() if v is not None and k != "progress"}
    if bad:
        raise UsageError(f"method {method!r} does not take option(s): {', '.join(sorted(bad))}")


@register("petals", "PETALS baseline: fixed 4096-token cache budget, weakest-window block choice; per-request routing (no chains)")
def solve_petals(problem: Problem, seed: int | None = 0, network_rps: float | None = None,
                 rebalance_rounds: int | None = 0, balance_quality: float | None = None,
                 hidden_size: int | None = None, kv_groups: int | None = None, **unsupported):
    from chaincomp.heuristics.petals import BALANCE_QUALITY, petals_solution

    _reject("petals", unsupported)
    return petals_solution(
        problem,
        seed=int(seed or 0),
        network_rps=math.inf if network_rps is None else float(network_rps),
        rebalance_rounds=int(rebalance_rounds or 0),
        balance_quality=BALANCE_QUALITY if balance_quality is None else float(balance_quality),
        hidden_size=hidden_size,
        kv_groups=kv_groups,
    )


@register("bprr", "BPRR baseline (CG-BP placement for design concurrency |R|; online WS-RR routing)")
def solve_bprr(problem: Problem, design_concurrency: int | None = None, seed: int | None = None, **unsupported):
    """``seed`` is accepted (and unused: BPRR is deterministic) so ``solve --seed`` works uniformly."""
    from chaincomp.heuristics.bprr import bprr_solution

    _reject("bprr", unsupported)
    return bprr_solution(problem, design_concurrency)


@register("jffc-only", "whole model on every server that can hold it, one-server chains, JFFC dispatch")
def solve_jffc_only(problem: Problem, seed: int | None = None, **unsupported):
    from chaincomp.heuristics.jffc_only import jffc_only_solution

    _reject("jffc-only", unsupported)
    return jffc_only_solution(problem)


@register("random", "random feasible placement (GBP-CR chain cutting, random server order) + GCA")
def solve_random(problem: Problem, cache_reservation: int | str | None = None, seed: int | None = 0,
                 tune: str | None = None, **unsupported):
    from chaincomp.core.solution import Solution
    from chaincomp.heuristics import tuning
    from chaincomp.heuristics.gca import gca
    from chaincomp.heuristics.random_placement import random_feasible_placement

    _reject("random", unsupported)
    t0 = time.perf_counter()
    if cache_reservation in (None, "auto"):
        c = tuning.tune(problem, score=tune or "lower").best.cache_reservation
        tuned = True
    else:
        c, tuned = int(cache_reservation), False
    seed = int(seed or 0)
    rp, tries = random_feasible_placement(problem, c, seed)
    if not rp.feasible:
        raise InfeasibleInstance(f"no feasible random placement at c = {c} in {tries} random orders: {rp.reason}")
    alloc = gca(problem, rp.placement)
    return Solution.create(
        problem, "random", rp.placement, alloc,
        parameters={"cache_reservation": c, "tuned": tuned, "seed": seed},
        wall_time_s=time.perf_counter() - t0, seed=seed,
        extra={"random_placement": {"num_groups": rp.num_chains, "group_rate": rp.group_rate,
                                    "surrogate_objective": rp.surrogate,
                                    "orders_drawn": tries}},
    )
