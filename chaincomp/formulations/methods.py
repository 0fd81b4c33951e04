"""Registered methods ``milp`` (exact BPCA) and ``greedy-ilp`` (GBP-CR placement + §2.2 optimal allocation).

``milp`` options
----------------
- ``solver``: ``highs`` (default) or ``gurobi`` (no silent fallback: a missing package or a model
  beyond the size-limited pip licence raises SolverUnavailable naming the limit);
- ``time_limit_s`` (default 60; wall clock for all phases), ``mip_gap`` (default 0), ``threads``,
  ``seed``, ``progress`` (live line on stderr);
- ``objective``: ``job-servers`` (default; Eq. 5: min Σ c_k s.t. ν ≥ λ/ρ̄) or ``throughput``
  (max ν under memory);
- ``parallel_search`` (default True): the placement search runs in a second process while column
  generation runs, so the milp uses **two processes** (``threads`` counts the integer solver's
  threads in the main process only); False keeps it in one (see :mod:`.parallel_search`);
- ``formulation``: ``auto``/``colgen`` (default: column generation bound + price-and-branch +
  reduced-cost enumeration, see :mod:`.colgen`) or ``compact`` (the SPEC §2.3 model, tiny instances).
``cache_reservation`` and ``tune`` make no sense for an exact method and raise UsageError.

The Solution's ``solver`` dict: name, version, status (optimal / time_limit / interrupted /
stopped; no design at all raises NoDesignFound, a proof of infeasibility InfeasibleInstance), objective, bound, gap, time_s, rows, columns, integers (of the last integer model
solved), proved_optimal, formulation, exact (is the reported bound valid for the full problem —
always true), label (what is exact and what is restricted), greedy_objective, phases.
Ctrl-C during the solve stops it and returns the incumbent with status ``interrupted``.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from chaincomp.core.solution import Solution
from chaincomp.errors import InfeasibleInstance, NoDesignFound, SolverUnavailable, UsageError
from chaincomp.methods import register
from chaincomp.problem import Problem
from chaincomp.solvers import SolveResult, check_solver, interruptible, solver_version
from chaincomp.solvers.base import relative_gap

log = logging.getLogger("chaincomp.formulations")

OBJECTIVES = ("job-servers", "throughput")
ALL_CHAINS_LIMIT = 20_000  # greedy-ilp: above this many chains the enumeration + model dominate; use GCA's
FORMULATIONS = ("auto", "colgen", "compact")


def _check_common(method: str, objective, solver, unsupported) -> tuple[str, str]:
    unsupported = {k: v for k, v in unsupported.items() if v is not None}
    if unsupported:
        raise UsageError(f"method {method!r} does not take option(s): {', '.join(sorted(unsupported))}")
    objective = (objective or "job-servers").lower()
    if objective not in OBJECTIVES:
        raise UsageError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    return objective, check_solver(solver or "highs")


@register("milp", "Exact BPCA (Eq. 5): column generation bound + exact integer master; HiGHS or Gurobi")
def solve_milp(
    problem: Problem,
    solver: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    objective: str | None = None,
    threads: int | None = None,
    seed: int | None = 0,
    progress: bool = False,
    formulation: str = "auto",
    cache_reservation=None,
    tune=None,
    started_at: float | None = None,
    parallel_search: bool = True,
    **unsupported,
) -> Solution:
    """Solve BPCA exactly when possible; otherwise return an incumbent with a valid bound and gap.

    Outcomes (issue 10 item 2): a design (status optimal / time_limit / interrupted / stopped),
    :class:`~chaincomp.errors.InfeasibleInstance` (a proof, with the reason) or
    :class:`~chaincomp.errors.NoDesignFound` (no design within the budget; the bound reached).
    ``started_at``: ``time.perf_counter()`` when the command started (the budget counts from there).
    ``parallel_search`` (job servers, ≥ 16 servers): the placement search runs in a second process
    while column generation runs (:mod:`.parallel_search`); False: one process."""
    if cache_reservation is not None or tune is not None:
        raise UsageError("method 'milp' optimizes the placement itself: --c / --tune do not apply (drop them)")
    objective, solver = _check_common("milp", objective, solver, unsupported)
    if formulation not in FORMULATIONS:
        raise UsageError(f"unknown formulation {formulation!r}; choose one of {', '.join(FORMULATIONS)}")
    if time_limit_s is None:
        time_limit_s = 60.0
    if time_limit_s <= 0:
        raise UsageError(f"--time-limit must be > 0, got {time_limit_s}")
    if mip_gap is not None and not (0 <= mip_gap < 1):
        raise UsageError(f"--mip-gap must be in [0, 1), got {mip_gap}")
    solver_version(solver)  # raises SolverUnavailable early (e.g. gurobipy missing)
    # the time limit is a promise for the whole command (issue 10 item 5): the CLI passes the moment
    # the command started; the post-processing (exact check, metrics, JSON) gets a reserve
    t0 = time.perf_counter() if started_at is None else float(started_at)
    compile_s = None
    if formulation != "compact":
        # first use: compile every kernel now, inside the budget, not in the middle of a phase
        from chaincomp.formulations.warmup import ensure_compiled

        compile_s = ensure_compiled(problem.num_servers, problem.num_blocks)
    # exact check + verify + JSON after the solve: ~0.4 ms/server on an idle machine; on a loaded one it
    # scales like the start-up + instance loading before the solve did, so take the larger
    pre = time.perf_counter() - t0 - (compile_s or 0.0)  # start-up and loading, not the first-use compile
    reserve = min(max(0.3 + 4e-4 * problem.num_servers, 0.6 * pre), 0.5 * time_limit_s)
    budget = max(0.05, time_limit_s - reserve - (time.perf_counter() - t0))
    params = {"solver": solver, "time_limit_s": time_limit_s, "mip_gap": mip_gap, "objective": objective,
              "formulation": "colgen" if formulation == "auto" else formulation, "threads": threads,
              "parallel_search": bool(parallel_search)}
    with interruptible():
        if formulation == "compact":
            info, placement, allocation = _run_compact(problem, objective, solver, budget, mip_gap, threads, seed, progress)
        else:
            try:
                info, placement, allocation = _run_colgen(problem, objective, solver, budget, mip_gap, threads, seed,
                                                          progress, t0, parallel_search=bool(parallel_search))
            except NoDesignFound as exc:
                if compile_s is None:
                    raise
                raise NoDesignFound(f"{exc} (first use: compiling the kernels took {compile_s:.1f} s of the "
                                    f"{time_limit_s:g} s limit; later runs reuse them)", exc.bound) from None
        ctx = info.pop("_exact_context", None)
        if objective == "job-servers" and formulation != "compact":
            placement, allocation = _exactly_feasible(problem, info, placement, allocation, solver, mip_gap, threads,
                                                      seed, t0 + time_limit_s - reserve, ctx,
                                                      parallel_search=bool(parallel_search))
    wall = time.perf_counter() - t0
    info["time_s"] = wall
    if compile_s is not None:
        info["first_use_compile_s"] = round(compile_s, 2)
    return Solution.create(problem, "milp", placement, allocation, parameters=params, wall_time_s=wall, seed=seed,
                           solver=info)


#: the stricter re-solve asks for ν ≥ (1 + STRICT_REL)·λ/ρ̄ so that the solver's float tolerance
#: (HiGHS: 1e-7 on a row) cannot let a design below λ/ρ̄ through again
STRICT_REL = 1e-6
#: how many job-server counts above the float bound the exact rational master tries at a near tie
EXACT_STEPS = 3


def _exactly_feasible(problem, info, placement, allocation, solver, mip_gap, threads, seed, deadline, ctx=None,
                      parallel_search: bool = True):
    """The solver's design in exact arithmetic (core/exact.py). A design that fails and cannot be repaired on
    its placement (a near tie the float tolerances let through) is replaced by the design of a re-solve
    with λ raised by ``STRICT_REL``; the first run's bound stays (it is valid for the original λ)."""
    from chaincomp.core.exact import check, repair

    res = check(problem, placement, allocation)
    if res.feasible:
        return placement, allocation
    why = "; ".join(res.memory + ([] if res.rate_met else [res.rate_message()]))
    # a near tie: decide the bound exactly over every chain a design at the bound could use
    bound = info.get("bound")
    if ctx and ctx.get("settled") and ctx.get("best") is not None and bound is not None:
        from chaincomp.formulations.exact_master import exact_search

        v = int(math.ceil(bound - 1e-9))
        for _ in range(EXACT_STEPS):
            found = exact_search(problem, ctx["segs"], ctx["pricer"], ctx["best"], v, deadline)
            if found:
                pl2, al2 = found
                info["label"] += (f"; the solver's design failed the exact check ({why}); an exactly feasible design "
                                  f"with ≤ {v} job servers found by the exact rational master over the enumerated "
                                  "columns")
                info["status"] = "optimal" if info["bound"] >= al2.total_capacity else "stopped"
                return pl2, al2
            if found is None:
                break  # undecided (too many columns or out of time): the bound stays where it is
            v += 1
            info["bound"] = v
            info["label"] += (f"; exact rational master: no design with ≤ {v - 1} job servers (every chain it could "
                              f"use enumerated): bound raised to {v}")
        else:
            # still none: every design has Σx ≤ X̄ = Σ_j max slots / L (a job server holds L slots in all)
            segs = ctx["segs"]
            max_slots = np.zeros(problem.num_servers)
            np.maximum.at(max_slots, segs.server, segs.slots)
            v_max = int(math.floor(float(max_slots.sum()) / problem.num_blocks + 1e-9))
            if v_max >= v:
                found = exact_search(problem, segs, ctx["pricer"], ctx["best"], v_max, deadline)
                if found is False:
                    raise InfeasibleInstance(
                        f"proved infeasible: the float model's only designs miss λ/ρ̄ by {res.shortfall:.2g} relative, and "
                        f"the exact rational master over every chain any design could use (Σ job servers ≤ {v_max}, "
                        "the most memory can hold) has no solution")
                if found:
                    pl2, al2 = found
                    info["label"] += "; an exactly feasible design found by the exact rational master"
                    info["status"] = "optimal" if info["bound"] >= al2.total_capacity else "stopped"
                    return pl2, al2
            elif v_max < v:
                raise InfeasibleInstance(
                    f"proved infeasible: at least {v} job servers are needed (exact) but memory holds at most {v_max}")
    if repair(problem, placement, allocation) is not None:
        return placement, allocation  # core.exact.finalize repairs it (fewest job servers added)
    left = deadline - time.perf_counter()
    strict = problem.with_workload(arrival_rate=problem.arrival_rate * (1 + STRICT_REL))
    if left > 0.3:
        try:
            info2, pl2, al2 = _run_colgen(strict, "job-servers", solver, left, mip_gap, threads, seed, False,
                                          parallel_search=parallel_search)
            info2.pop("_exact_context", None)
        except (NoDesignFound, InfeasibleInstance):
            pl2 = None
        if pl2 is not None and (check(problem, pl2, al2).feasible or repair(problem, pl2, al2) is not None):
            info["label"] += (f"; the solver's design failed the exact check ({why}) and could not be repaired; "
                              f"design from a re-solve with λ·(1 + {STRICT_REL:g}); bound from the first solve")
            info["status"] = info2["status"] if info2["status"] != "optimal" else "stopped"
            info["proved_optimal"] = False
            return pl2, al2
    raise NoDesignFound(f"the solver's only design fails the exact feasibility check ({why}) and cannot be repaired; "
                        "a stricter re-solve found none within the time limit — not a proof of infeasibility"
                        + (f"; lower bound reached: {info['bound']} job servers" if info.get("bound") is not None else ""),
                        info.get("bound"))


def _gap(value, bound):
    if value is None or bound is None or not math.isfinite(bound):
        return None
    return abs(value - bound) / max(abs(value), 1e-9)


def _bound_words(jobs: bool, bound) -> str:
    return f"lower bound reached: {bound} job servers" if jobs else f"upper bound on ν reached: {bound:.6g} job/s"


def _run_colgen(problem, objective, solver, time_limit_s, mip_gap, threads, seed, progress, t0=None,
                parallel_search: bool = True):
    from chaincomp.core.exact import ExactInstance, closed_form_bound
    from chaincomp.formulations.colgen import ColgenResult, primal_integral, solve_colgen
    from chaincomp.formulations.common import greedy_start, throughput_start
    from chaincomp.solvers.base import STOP

    t_in = time.perf_counter()
    deadline = t_in + time_limit_s
    jobs = objective != "throughput"
    if jobs:  # a closed-form proof (≈ 0.1 s at J = 10 000); column generation may not converge in the budget
        from chaincomp.core.exact import rate_beyond_any_design

        proof = rate_beyond_any_design(problem)[0]
        if proof is not None:
            raise InfeasibleInstance(proof)
    # the warm start gets at most 35 % of the budget (issue 10 item 5: --time-limit is a promise)
    greedy = (greedy_start if jobs else throughput_start)(problem, deadline=t_in + 0.35 * time_limit_s)
    est = _setup_seconds(problem)
    left = deadline - time.perf_counter()
    if greedy is not None and (est > 0.5 * left or STOP.requested):
        # the exact formulation cannot even be built within the budget: keep the greedy design
        bound = closed_form_bound(ExactInstance.of(problem)) if jobs else None
        why = "interrupted" if STOP.requested else (
            (f"the budget left ({left:.2f} s) is too short to build the exact formulation " if left > 0 else
             "the budget was used up by the warm start, before the exact formulation could be built ")
            + f"(≈ {_segment_count(problem):,} segments, ≈ {est:.1f} s)")
        pl, al = greedy.placement, greedy.allocation  # throughput: GCA's full allocation (throughput_start)
        val = float(greedy.job_servers) if jobs else al.service_rate
        r = ColgenResult(objective, pl, al, val, bound, None, False, False,
                         "interrupted" if STOP.requested else "stopped",
                         f"greedy warm start only ({why}); bound: ⌈(λ/ρ̄)·T_min⌉ with T_min = min τ^c + L·min τ^p",
                         val, "greedy", {"greedy_s": time.perf_counter() - t_in, "setup_estimate_s": est}, {},
                         solver, "", [(0.0, val)])
        t_cg = t_in
    else:
        t_cg = time.perf_counter()  # solve_colgen's history is timed from here
        r = solve_colgen(problem, objective=objective, solver=solver, time_limit_s=max(0.05, deadline - time.perf_counter()),
                         mip_gap=mip_gap, threads=threads, seed=seed, progress=progress, start=greedy,
                         parallel_search=parallel_search)
    if r.allocation is None:
        if r.status == "interrupted":
            raise NoDesignFound("interrupted before any design was found"
                                + (f" ({_bound_words(jobs, r.bound)})" if r.bound is not None else ""), r.bound)
        if not jobs:
            raise NoDesignFound(
                f"no design found (budget {time_limit_s:.2f} s, {time.perf_counter() - (t0 or t_in):.2f} s used): no "
                "placement that GBP-CR (at every c, also placing every server) or the restricted integer master "
                "tried forms a chain — this is not a proof of infeasibility"
                + (f"; {_bound_words(jobs, r.bound)}" if r.bound is not None else "") + "; try a longer --time-limit",
                r.bound)
        raise NoDesignFound(
            ("no design found within the time limit" if r.status == "no_solution" else
             "the search stopped without finding a design")
            + f" (budget {time_limit_s:.2f} s, {time.perf_counter() - (t0 or t_in):.2f} s used): GBP-CR + GCA fail for every c and the restricted "
              "integer master found none — this is not a proof of infeasibility"
            + (f"; lower bound reached: at least {r.bound} job servers" if r.bound is not None else
               f"; lower bound: at least {closed_form_bound(ExactInstance.of(problem))} job servers "
               "(closed form ⌈(λ/ρ̄)·T_min⌉; column generation reached none)")
            + "; try a longer --time-limit"
            + ("; " + f"{solver} could not take: " + " | ".join(r.phases["solver_refused"]) if r.phases.get("solver_refused") else ""),
            r.bound if r.bound is not None else closed_form_bound(ExactInstance.of(problem)))
    elapsed = time.perf_counter() - t_cg
    info = {
        "name": solver,
        "version": r.solver_version or solver_version(solver),
        "status": r.status,
        "objective": r.value,
        "bound": r.bound,
        "gap": 0.0 if r.proved_optimal else _gap(r.value, r.bound),
        "rows": r.size.get("rows"),
        "columns": r.size.get("columns"),
        "integers": r.size.get("integers"),
        "proved_optimal": bool(r.proved_optimal),
        "formulation": "colgen",
        "exact": True,
        "bound_kind": "lower" if objective == "job-servers" else "upper",
        "lp_bound": r.lp_bound,
        "lp_converged": r.lp_converged,
        "label": r.label,
        "incumbent_source": r.incumbent_source,
        "greedy_objective": r.greedy_value,
        "phases": r.phases,
        "history": [[round(t, 3), v] for t, v in r.history],  # (s since start, incumbent) at each improvement
        "primal_integral_s": None if r.value is None else round(primal_integral(r.history, r.value, elapsed), 3),
        "_exact_context": getattr(r, "exact_context", None),  # popped by _exactly_feasible (never in the JSON)
    }
    return info, r.placement, r.allocation


#: segments built per second by :func:`chaincomp.formulations.common.segments` + pricing set-up (measured
#: at J = 10 000, L = 70 on this machine, loaded: ≈ 1.5e5/s; idle ≈ 3e5/s)
SEGMENTS_PER_S = 1.5e5


def _segment_count(problem) -> int:
    """Admissible segments (j, a, e): Σ_j Σ_{m with ≥ 1 slot} (L − m + 1)."""
    import numpy as np

    L = problem.num_blocks
    lengths = np.arange(1, L + 1)
    free = (problem.memory_gb[:, None] - problem.block_size_gb * lengths[None, :]) / problem.cache_size_gb
    ok = np.floor(free + 1e-9) >= 1
    return int((ok * (L - lengths + 1)[None, :]).sum())


def _setup_seconds(problem) -> float:
    return _segment_count(problem) / SEGMENTS_PER_S


def _run_compact(problem, objective, solver, time_limit_s, mip_gap, threads, seed, progress):
    from chaincomp.formulations.bpca import solve_compact

    pl, al, val, res = solve_compact(problem, objective, solver, time_limit_s=time_limit_s, mip_gap=mip_gap,
                                     threads=threads, seed=seed, progress=progress, label="compact MILP")
    if al is None:
        if res.status == "interrupted":
            raise NoDesignFound("interrupted before any design was found")
        if res.status == "infeasible":
            raise InfeasibleInstance("proved infeasible: the compact exact MILP (SPEC §2.3) has no solution "
                                     "(no placement + allocation reaches λ/ρ̄ within memory)")
        mip_bound = math.ceil(res.bound - 1e-6) if res.bound is not None and math.isfinite(res.bound) else None
        raise NoDesignFound(f"the compact MILP found no design within the budget ({res.status}; not a proof)"
                            + (f"; lower bound reached: {mip_bound}" if mip_bound is not None else ""), mip_bound)
    proved = res.proved_optimal or (res.status == "optimal" and (mip_gap in (None, 0.0)))
    bound = res.bound
    if objective == "job-servers" and bound is not None:
        bound = math.ceil(bound - 1e-6)
    info = {
        "name": res.solver,
        "version": res.solver_version,
        "status": res.status,
        "objective": val,
        "bound": bound,
        "gap": 0.0 if proved else _gap(val, bound),
        "rows": res.rows,
        "columns": res.columns,
        "integers": res.integers,
        "proved_optimal": bool(proved),
        "formulation": "compact",
        "exact": True,
        "bound_kind": "lower" if objective == "job-servers" else "upper",
        "label": "compact exact MILP (SPEC §2.3)" + (", proved optimal" if proved else f", stopped: {res.status}"),
        "nodes": res.nodes,
    }
    return info, pl, al


@register("greedy-ilp", "GBP-CR placement at the tuned c + the optimal §2.2 cache allocation (MKP) over its chains")
def solve_greedy_ilp(
    problem: Problem,
    cache_reservation: int | str | None = None,
    tune: str | None = None,
    solver: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    objective: str | None = None,
    threads: int | None = None,
    seed: int | None = 0,
    progress: bool = False,
    chains: str = "all",
    variant: str = "memory",
    **unsupported,
) -> Solution:
    """``chains``: ``all`` (every chain of the placement's DAG; falls back to GCA's if > 20 000) or
    ``gca``. ``variant``: ``memory`` (per-server rows) or ``chain-cap`` (c_k ≤ GCA's c_k only)."""
    from chaincomp.formulations.cache_allocation import all_chains, solve_allocation
    from chaincomp.heuristics import tuning

    objective, solver = _check_common("greedy-ilp", objective, solver, unsupported)
    if chains not in ("all", "gca"):
        raise UsageError(f"chains must be 'all' or 'gca', got {chains!r}")
    if variant == "chain-cap" and chains != "gca":
        chains = "gca"  # chain caps come from GCA
    t0 = time.perf_counter()
    how_c = ""
    try:
        if cache_reservation in (None, "auto"):
            cand = tuning.tune(problem, score=tune or "lower").best
        else:
            cand = tuning.best_fixed(problem, int(cache_reservation))
        c_used, placement, gca_full = cand.cache_reservation, cand.greedy.placement, cand.allocation
    except (NoDesignFound, InfeasibleInstance):
        # λ/ρ̄ is reached at no c (or by no design) — irrelevant to max ν: the best-ν GBP-CR pass instead
        # (common.throughput_start; None when no placement it tries forms a chain: the error stands)
        from chaincomp.formulations.common import throughput_start

        start = throughput_start(problem) if objective == "throughput" and cache_reservation in (None, "auto") else None
        if start is None:
            raise
        c_used, placement, gca_full = start.cache_reservation, start.placement, start.allocation
        how_c = ", the best-ν pass (λ/ρ̄ is reached at no c)"
    used_chains = "gca"
    chain_list = list(gca_full.chains)
    caps = list(gca_full.capacities)
    if chains == "all":
        try:
            chain_list = all_chains(problem, placement, limit=ALL_CHAINS_LIMIT)
            used_chains = "all"
            caps = None
        except UsageError:
            used_chains = f"gca (the placement has more than {ALL_CHAINS_LIMIT} chains)"
    # start from GCA's allocation (job servers: truncated to what the rate needs) so the solver always
    # has a solution at least as good as the greedy's, even when the time limit stops it early
    from chaincomp.formulations.common import truncate

    gca_alloc = gca_full if objective == "throughput" else truncate(problem, gca_full)
    key = {(tuple(ch.servers), tuple(ch.blocks)): k for k, ch in enumerate(chain_list)}
    start = {}
    for ch, cap in zip(gca_alloc.chains, gca_alloc.capacities):
        k = key.get((tuple(ch.servers), tuple(ch.blocks)))
        if k is None:
            start = None
            break
        start[k] = start.get(k, 0) + int(cap)
    try:
        with interruptible():
            alloc, res = solve_allocation(problem, placement, chain_list, variant=variant, caps=caps,
                                          objective=objective, solver=solver, start=start,
                                          time_limit_s=time_limit_s or 60.0, mip_gap=mip_gap, threads=threads,
                                          seed=seed, progress=progress, label="§2.2 ILP")
    except SolverUnavailable as exc:
        if not getattr(exc, "size_limited", False):
            raise
        # Gurobi's size-limited licence refused the §2.2 ILP: keep what was already found (the GBP-CR
        # placement with GCA's allocation) and say so — the allocation is then *not* optimal
        log.warning("greedy-ilp: %s could not take the §2.2 ILP (%s); the design keeps GCA's allocation",
                    solver, exc)
        alloc = gca_alloc
        res = SolveResult("solver_refused", None, None, None, time.perf_counter() - t0, 0, 0, 0, 0, solver, "",
                          message=str(exc))
    wall = time.perf_counter() - t0
    info = res.summary()
    if objective == "job-servers" and info.get("bound") is not None and math.isfinite(info["bound"]):
        # Σc is an integer, so the solver's float bound (25.999999999999474) rounds up to the integer
        # bound, with the milp's tolerance (colgen.int_bound)
        info["bound"] = math.ceil(info["bound"] - 1e-6)
        info["gap"] = relative_gap(info.get("objective"), info["bound"])
    if res.status == "solver_refused":
        label = (f"placement from GBP-CR at c = {c_used}{how_c} (heuristic); {solver} could not take the "
                 f"§2.2 ILP over {len(chain_list)} chains ({res.message}); allocation = GCA's (not optimal)")
    else:
        found = ("allocation optimal" if res.proved_optimal else
                 f"allocation not proved optimal ({res.status.replace('_', ' ')}; the ILP's best, at worst GCA's)")
        label = (f"placement from GBP-CR at c = {c_used}{how_c} (heuristic); {found} over "
                 f"{len(chain_list)} chains ({used_chains}), variant {variant}")
    # the ILP's bound and optimality hold for the GBP-CR placement only: another placement may need
    # fewer job servers, so they are not a bound or a proof for the whole problem (SPEC §2.2 vs §2.1)
    info.update({"proved_optimal": res.proved_optimal, "formulation": "cache-allocation (SPEC §2.2)",
                 "exact": False, "bound_scope": "placement", "time_s": wall,
                 "label": label + "; bound and optimality are for this placement only, not the whole problem"})
    tuned = cache_reservation in (None, "auto")
    params = {"cache_reservation": c_used, "tuned": tuned, "tune": (tune or "lower") if tuned else None,
              "chains": used_chains, "variant": variant, "objective": objective, "solver": solver,
              "time_limit_s": time_limit_s, "mip_gap": mip_gap, "threads": threads}
    return Solution.create(problem, "greedy-ilp", placement, alloc, parameters=params, wall_time_s=wall, seed=seed,
                           solver=info)
