"""Registers the baseline methods: ``petals``, ``bprr``, ``jffc-only``, ``random`` (SPEC §4, §6.1).

Every entry takes the Problem plus keyword options and rejects options it does not support
(``None`` values, which the CLI passes for options left unset, are ignored).

- ``petals`` — options: ``seed`` (join order), ``network_rps``, ``rebalance_rounds``,
  ``balance_quality``, ``hidden_size``, ``kv_groups``. Solution without chains (per-request routing).
- ``bprr`` — options: ``design_concurrency`` (|R|; default: mean + one std of the number in system,
  capped by memory). One chain: CG-BPRR's offline shortest path with capacity |R|.
- ``jffc-only`` — no options. One-server chains holding the whole model.
- ``bprr-milp`` — BPRR's exact MILP (13) (:mod:`chaincomp.formulations.bprr_milp`; small instances
  only): options ``design_concurrency``, ``solver``, ``time_limit_s`` (default 60), ``mip_gap``,
  ``threads``, ``seed``, ``progress``. Chains = the distinct request paths, capacity = requests on each.
- ``bprr-ilp`` — CG-BPRR's placement + the routing ILP (19) for |R| requests on it; same options plus
  ``formulation`` (``aggregated`` | ``per-request``).
- ``random`` — options: ``cache_reservation`` (c; default: the greedy pipeline's tuned c),
  ``seed``. GBP-CR's chain cutting over a random server order (orders redrawn until feasible), then GCA.
"""

from __future__ import annotations

import math
import time

from chaincomp.errors import InfeasibleInstance, NoDesignFound, UsageError
from chaincomp.methods import register
from chaincomp.solvers.base import no_solution_error
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
    from chaincomp.heuristics.gbp_cr import hosted_blocks, memory_bound_reason
    from chaincomp.heuristics.gca import gca
    from chaincomp.heuristics.random_placement import random_feasible_placement

    _reject("random", unsupported)
    t0 = time.perf_counter()
    if cache_reservation in (None, "auto"):
        c = tuning.tune(problem, score=tune or "lower").best.cache_reservation
        tuned = True
    else:
        c, tuned = int(cache_reservation), False
        tuning.check_reservation(problem, c)
        hosted = int(hosted_blocks(problem, [c])[0])
        if hosted < problem.num_blocks:  # a proof: no placement at this c covers the model (Eq. 6)
            raise InfeasibleInstance(memory_bound_reason(problem, c, hosted))
    seed = int(seed or 0)
    rp, tries = random_feasible_placement(problem, c, seed)
    if not rp.feasible:
        raise NoDesignFound(f"no feasible random placement at c = {c} in {tries} random orders ({rp.reason}); "
                            "not a proof that none exists — try another --seed or --method greedy")
    alloc = gca(problem, rp.placement)
    return Solution.create(
        problem, "random", rp.placement, alloc,
        parameters={"cache_reservation": c, "tuned": tuned, "tune": (tune or "lower") if tuned else None, "seed": seed},
        wall_time_s=time.perf_counter() - t0, seed=seed,
        extra={"random_placement": {"num_groups": rp.num_chains, "group_rate": rp.group_rate,
                                    "surrogate_objective": rp.surrogate,
                                    "orders_drawn": tries}},
    )


def _bprr_exact_common(method, problem, design_concurrency, solver, time_limit_s, mip_gap, objective, unsupported):
    from chaincomp.heuristics.bprr import design_concurrency as default_r
    from chaincomp.solvers import check_solver, solver_version

    _reject(method, unsupported)
    if objective not in (None, "mean-time"):
        raise UsageError(f"method {method!r} minimizes the mean per-request service time (BPRR's objective); "
                         f"--objective {objective!r} does not apply")
    if time_limit_s is not None and time_limit_s <= 0:
        raise UsageError(f"--time-limit must be > 0, got {time_limit_s}")
    if mip_gap is not None and not (0 <= mip_gap < 1):
        raise UsageError(f"--mip-gap must be in [0, 1), got {mip_gap}")
    solver = check_solver(solver or "highs")
    solver_version(solver)  # SolverUnavailable early
    if design_concurrency is None:
        R, rinfo = default_r(problem)
    else:
        R = int(design_concurrency)
        if R < 1:
            raise UsageError(f"design_concurrency |R| must be ≥ 1, got {design_concurrency}")
        rinfo = {"rule": "user-set"}
    return solver, R, rinfo


def _solver_info(r, label: str) -> dict:
    res = r.result
    proved = res.status == "optimal" and (res.gap is None or res.gap <= 1e-9)
    return {**res.summary(), "objective_kind": "mean per-request service time (s)", "proved_optimal": bool(proved),
            "exact": True, "label": label, **r.info}


@register("bprr-milp", "BPRR's exact MILP (13): placement + per-request routing of |R| concurrent requests, "
                       "min mean service time (small instances only)")
def solve_bprr_milp_method(problem: Problem, design_concurrency: int | None = None, solver: str | None = None,
                           time_limit_s: float | None = None, mip_gap: float | None = None,
                           objective: str | None = None, threads: int | None = None, seed: int | None = 0,
                           progress: bool = False, **unsupported):
    """|R| defaults to BPRR's own choice (mean + one std of the number in system, see ``bprr``).
    Small instances only: |R|·(J+1)² ≤ ``MAX_ROUTING_BINARIES`` routing binaries, else UsageError."""
    from chaincomp.core.solution import Solution
    from chaincomp.formulations.bprr_milp import check_size, solve_bprr_milp
    from chaincomp.solvers import interruptible

    solver, R, rinfo = _bprr_exact_common("bprr-milp", problem, design_concurrency, solver, time_limit_s, mip_gap,
                                          objective, unsupported)
    check_size(problem, R)
    t0 = time.perf_counter()
    with interruptible():
        r = solve_bprr_milp(problem, R, solver=solver, time_limit_s=60.0 if time_limit_s is None else time_limit_s,
                            mip_gap=mip_gap, threads=threads, seed=seed, progress=bool(progress))
    if r.allocation is None:
        raise no_solution_error(r.result, "BPRR MILP")
    wall = time.perf_counter() - t0
    info = _solver_info(r, "BPRR exact MILP (13), reconstructed from SPEC §4.2; exactness tested against brute force")
    return Solution.create(problem, "bprr-milp", r.placement, r.allocation,
                           parameters={"design_concurrency": R, "solver": solver, "time_limit_s": time_limit_s,
                                       "mip_gap": mip_gap, "threads": threads},
                           wall_time_s=wall, seed=seed, solver=info,
                           extra={"bprr": {"design_concurrency": R, "design_concurrency_info": rinfo,
                                           "mean_service_time_s": r.mean_time_s, "bound_s": r.bound_s}})


@register("bprr-ilp", "BPRR's CG-BP placement for |R| + the exact routing ILP (19) of |R| concurrent requests on it")
def solve_bprr_ilp_method(problem: Problem, design_concurrency: int | None = None, solver: str | None = None,
                          time_limit_s: float | None = None, mip_gap: float | None = None,
                          objective: str | None = None, threads: int | None = None, seed: int | None = 0,
                          progress: bool = False, formulation: str = "aggregated", **unsupported):
    """``formulation``: ``aggregated`` (default; integer edge flows, exact by path decomposition) or
    ``per-request`` (BPRR's per-request binaries). Library use on any placement:
    :func:`chaincomp.formulations.bprr_milp.solve_routing`."""
    from chaincomp.core.solution import Solution
    from chaincomp.formulations.bprr_milp import solve_routing
    from chaincomp.heuristics.bprr import bprr_placement
    from chaincomp.solvers import interruptible

    solver, R, rinfo = _bprr_exact_common("bprr-ilp", problem, design_concurrency, solver, time_limit_s, mip_gap,
                                          objective, unsupported)
    t0 = time.perf_counter()
    placement = bprr_placement(problem, R).placement
    with interruptible():
        r = solve_routing(problem, placement, R, solver=solver, formulation=formulation,
                          time_limit_s=60.0 if time_limit_s is None else time_limit_s, mip_gap=mip_gap,
                          threads=threads, seed=seed, progress=bool(progress))
    if r.allocation is None:
        raise no_solution_error(r.result, "BPRR routing ILP")
    wall = time.perf_counter() - t0
    info = _solver_info(r, f"BPRR routing ILP (19) on CG-BPRR's placement, {formulation}")
    return Solution.create(problem, "bprr-ilp", placement, r.allocation,
                           parameters={"design_concurrency": R, "solver": solver, "formulation": formulation,
                                       "time_limit_s": time_limit_s, "mip_gap": mip_gap, "threads": threads},
                           wall_time_s=wall, seed=seed, solver=info,
                           extra={"bprr": {"design_concurrency": R, "design_concurrency_info": rinfo,
                                           "mean_service_time_s": r.mean_time_s, "bound_s": r.bound_s}})
