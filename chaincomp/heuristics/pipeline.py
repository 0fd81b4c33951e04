"""The paper's proposed pipeline as one method: GBP-CR (Alg. 1) with c fixed or tuned (SPEC §3.5),
then GCA (Alg. 2); jobs are then dispatched by JFFC (Alg. 3) over GCA's chains.

Registered as method ``greedy``. Options:
``cache_reservation`` (int, or None/"auto" to tune), ``tune`` (lower | upper | surrogate | sim),
``seed`` (used by ``tune=sim``), ``sim_jobs``.
"""

from __future__ import annotations

import time

from chaincomp.core.solution import Solution
from chaincomp.errors import UsageError
from chaincomp.heuristics import tuning
from chaincomp.methods import register
from chaincomp.problem import Problem


@register("greedy", "GBP-CR + GCA (the paper's pipeline), c fixed or tuned by Theorem-4 / surrogate / simulation")
def solve_greedy(
    problem: Problem,
    cache_reservation: int | str | None = None,
    tune: str | None = None,
    seed: int = 0,
    sim_jobs: int = 20000,
    on_step=None,
    progress: bool = False,
    **unsupported,
) -> Solution:
    """Run the pipeline (``progress`` is accepted for CLI uniformity; use ``on_step`` for callbacks)."""
    score = tune or "lower"
    unsupported = {k: v for k, v in unsupported.items() if v is not None}
    if unsupported:
        raise UsageError(f"method 'greedy' does not take option(s): {', '.join(sorted(unsupported))}")
    if score not in tuning.SCORES:
        raise UsageError(f"unknown tuning score {score!r}; choose one of {', '.join(tuning.SCORES)}")
    start = time.perf_counter()
    extra = {}
    if cache_reservation in (None, "auto"):
        result = tuning.tune(problem, score=score, sim_jobs=sim_jobs, seed=seed, on_step=on_step)
        cand = result.best
        extra["tuning"] = {
            "score": score,
            "c_max": problem.max_cache_reservation,
            "candidates": [c.row() for c in result.candidates if c.feasible],
            "infeasible_reservations": [c.cache_reservation for c in result.candidates if not c.feasible],
        }
        tuned = True
    else:
        cand = tuning.best_fixed(problem, int(cache_reservation))
        tuned = False
    wall = time.perf_counter() - start
    extra["gbp_cr"] = {
        "num_groups": cand.greedy.num_chains,
        "group_rate": cand.greedy.group_rate,
        "surrogate_objective": cand.greedy.surrogate,
    }
    params = {"cache_reservation": cand.cache_reservation, "tuned": tuned, "tune": score if tuned else None}
    return Solution.create(
        problem,
        "greedy",
        cand.greedy.placement,
        cand.allocation,
        parameters=params,
        wall_time_s=wall,
        seed=seed if score == "sim" else None,
        extra=extra,
    )
