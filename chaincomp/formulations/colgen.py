"""Column generation for BPCA (Eq. 5): a valid lower bound at every size, incumbents, and exactness.

Extended formulation (this toolkit's own; exact for integer variables)
---------------------------------------------------------------------
Segments σ = (j, a, e) with S_σ = ⌊(M_j − s_m(e − a + 1))/s_c⌋ ≥ 1 slots (see :mod:`.common`);
chains k = sequences of segments obeying the chain rule (see :mod:`.pricing`), μ_k = 1/T_k::

    min Σ_k x_k
    s.t. Σ_k μ_k x_k ≥ λ/ρ̄                         (rate)
         S_σ y_σ − Σ_k b_σk x_k ≥ 0        ∀σ      (memory of the segment's server, slot units)
         Σ_{σ of j} y_σ ≤ 1                  ∀j      (one range per server)
         y ∈ {0,1}, x ∈ ℕ

Exactness: an integer solution picks at most one range per server (y), and a chain can carry
capacity only through chosen segments (S_σ y_σ = 0 otherwise); a chain visiting two segments of one
server needs two ranges for that server and is therefore impossible. So integer solutions are
exactly the placements + allocations of (5). ``objective="throughput"``: max Σ μ_k x_k, no rate row.
Only *simple* chains (no server twice) enter the master; they are the only ones that can carry
integer capacity, and they give a stronger LP bound than all chains.

Algorithm (wall-clock budget T = ``time_limit_s`` for everything)
-----------------------------------------------------------------
1. Greedy warm start: GBP-CR + GCA for every c (truncated to the job servers needed); its chains
   seed the column pool and its value is the first incumbent (so the result is never worse).
2. Column generation on the LP relaxation, until converged, or ``cg_share``·T (default 50 %; plus
   the local search's share, see 2b), or
   (job servers, ``early_stop``) ⌈bound⌉ = ⌈z_RMP⌉: the restricted master's value is ≥ LP*, so the
   rounded bound cannot rise any more.
   Pricing (:mod:`.pricing`, numba): the relaxed hull pricing (a server may repeat) and the exact
   elementary branch and bound over simple chains, every iteration. Segment rows enter the master
   lazily (an absent row is priced at u_j/S_σ, and present rows are lifted to max(π_σ, u_j/S_σ):
   another optimal dual of the master, see :meth:`_Master.solve`). **Valid bound at every iteration** (Lagrangian / Farley): with
   the row duals (π_R, π ≥ 0, u_j ≥ max_σ S_σ π_σ so that every y column is dual feasible) and γ =
   max(1, 1 − rc_min), where rc_min is the exact elementary minimum reduced cost (or the relaxed one,
   a lower bound on it, if the exact search was cut short), (π_R, π, u)/γ is dual feasible for the
   LP over *all* columns, so (λ/ρ̄ · π_R − Σ_j u_j)/γ ≤ LP* ≤ OPT; the integer bound is its ceiling.
   Throughput (max): Σ_j u_j + max(0, −rc_min)·X̄ ≥ OPT with X̄ = Σ_j max_σ S_σ / L ≥ Σ x
   (each job server holds L slots).
   2b. (job servers) when the first 10 % of T did not settle the bound: simulated annealing over
   placements scored by GCA (:mod:`.local_search`, ``ls_share``·T, default 20 %); every placement
   it improves on seeds the column pool with its GCA chains (this also breaks the master's
   degenerate start at the greedy's vertex), then column generation resumes.
   2c. a second, shorter local search (``ls2_share``·T) from the incumbent and the rounded LP.
   The exact search starts capped at 2·10⁶ work units per round (many cheap rounds; a capped search
   returns the columns found so far and the bound then uses the relaxed minimum); the cap grows ×4
   when a capped search finds nothing and shrinks back once columns are found again.
3. Incumbents (restricted: labelled so) —
   0. the local search's best placement: its own LP (ranges fixed, other servers off) priced to
      optimality, then the §2.2 allocation MKP over its chains (skipped when ⌈that LP⌉ shows it
      cannot beat GCA's allocation);
   a. price-and-branch: the integer master over the generated columns (HiGHS/Gurobi MIP);
   b. diving: fix the most-used segment of the LP (all y ≥ 0.99 at once), forbid the server's other
      segments, re-run column generation under the fixings, repeat until the placement is integral;
      then solve the exact allocation MKP (SPEC §2.2) over *every* chain of that placement (or the
      generated ones when there are too many). Dives stop as soon as the fixed LP shows they cannot
      beat the incumbent. Several dives (different first fixings) while time allows.
4. Proof (job servers, after column generation converged): with the converged duals scaled to be
   dual feasible, any solution better than the incumbent UB uses only chains with reduced cost
   ≤ UB − 1 − z'. They are enumerated (numba DFS); if there are at most ``enum_limit``, the integer
   master over them is *exact* for the whole problem and proving it optimal proves the design optimal.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.errors import InfeasibleInstance, SolverUnavailable
from chaincomp.formulations.common import (
    GreedyStart,
    Segments,
    chain_from_segments,
    chain_segments,
    greedy_start,
    placement_from_segments,
    segments,
)
from chaincomp.formulations.local_search import lp_placement, run_local_search
from chaincomp.formulations.master import BIG, _LP, _Master
from chaincomp.formulations import parallel_search as parallel_mod
from chaincomp.formulations.parallel_search import harvest, start_search
from chaincomp.formulations.pricing import Pricer
from chaincomp.problem import Problem
from chaincomp.solvers import MilpModel, SolveOptions, SolveResult, solve
from chaincomp.solvers.base import STOP, ProgressDisplay

RC_TOL = 1e-7  # a column "improves" when its reduced cost is below −RC_TOL (relative to cost 1)


@dataclass
class ColgenResult:
    objective: str
    placement: Placement | None
    allocation: Allocation | None
    value: float | None  # incumbent objective (Σ c or ν)
    bound: float | None  # valid bound on the optimum (lower for job servers, upper for throughput)
    lp_bound: float | None
    lp_converged: bool
    proved_optimal: bool
    status: str
    label: str
    greedy_value: float | None
    incumbent_source: str = "greedy"
    phases: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)
    solver_name: str = "highs"
    solver_version: str = ""
    history: list = field(default_factory=list)  # (seconds since start, incumbent value) at each improvement


def primal_integral(history: list, value_final: float, t_end: float) -> float:
    """Primal integral ∫₀ᵀ (v(t) − v*)/v(t) dt in seconds: how long the search ran with a worse
    design than its final one v*, weighted by how much worse. ``history`` = (time, value) at each
    improvement; the integrand is 1 before the first incumbent."""
    total, prev_t, prev_v = 0.0, 0.0, None
    for t, v in list(history) + [(t_end, None)]:
        t = min(t, t_end)
        gap = 1.0 if prev_v is None else (prev_v - value_final) / prev_v
        total += gap * max(t - prev_t, 0.0)
        prev_t, prev_v = t, (v if v is not None else prev_v)
    return total


def _rc(jobs: bool, piR: float, T: float, P: float) -> float:
    """Reduced cost in minimisation form: 1 − π_R/T + P (job servers) or P − 1/T (throughput)."""
    return (1.0 - piR / T + P) if jobs else (P - 1.0 / T)


@dataclass
class _Bound:
    """A valid bound from one dual vector (see the module docstring, step 2)."""

    value: float  # lower bound on the LP over all columns (job servers) / upper bound (throughput)
    piR: float  # dual-feasible duals (already divided by γ for job servers)
    pi: np.ndarray
    exact_pricing: bool


def _lagrangian(problem: Problem, segs: Segments, jobs: bool, x_bar: float, piR: float, pi: np.ndarray,
                rc_lb: float, tp_min: float = 0.0) -> tuple[float, float, np.ndarray]:
    """Bound from duals (π_R, π ≥ 0) and a lower bound ``rc_lb`` on the minimum reduced cost over
    every simple chain: u_j = max_σ S_σ π_σ makes every y column dual feasible.

    Throughput also uses scaling: with ``tp_min`` ≤ min_k T_k·P_k (P_k = Σ b π), γ = 1/tp_min ≥
    max_k μ_k/P_k, so (γπ, γu) is dual feasible and γ·Σu ≥ OPT; the smaller of the two bounds is kept."""
    u = np.zeros(problem.num_servers)
    np.maximum.at(u, segs.server, segs.slots * pi)
    if jobs:
        gamma = max(1.0, 1.0 - rc_lb)
        return (problem.required_rate * piR - float(u.sum())) / gamma, piR / gamma, pi / gamma
    value = float(u.sum()) + max(0.0, -rc_lb) * x_bar
    if tp_min > 0.0:
        value = min(value, float(u.sum()) / tp_min)
    return value, piR, pi


def _column_generation(master: _Master, pricer: Pricer, jobs: bool, deadline: float, on_bound=None,
                       elem_count: int = 64, x_bar: float = 0.0, alpha0: float = 0.5, max_rounds: int | None = None,
                       work_limit: int = 10_000_000, restricted_tries: int = 6):
    """Column generation until converged, the deadline, or Ctrl-C. Returns (converged, last _LP).

    Dual stabilisation (Wentges smoothing): pricing runs at π_in = α·π_center + (1 − α)·π_LP, where
    the center is the dual vector with the best Lagrangian bound so far; columns are added when their
    reduced cost at π_LP is negative; a mis-price (none is) sets α = 0 for the next round, and only a
    complete exact pricing at π_LP itself with no improving simple chain declares convergence.
    ``on_bound(_Bound, _LP)`` receives the valid bound of every pricing round; returning True stops.
    """
    problem, segs = master.problem, master.segs
    const = 1.0 if jobs else 0.0
    converged = False
    lp = None
    center = None  # (value, piR, pi) of the best bound so far
    alpha = alpha0
    need_lp = True
    rounds = 0
    work_cap = work_limit
    rng = np.random.default_rng(0)
    while not STOP.requested and time.perf_counter() < deadline:
        rounds += 1
        if max_rounds is not None and rounds > max_rounds:
            break
        if need_lp:
            lp = master.solve(deadline)
            if lp is None:
                break
        if center is None or alpha <= 0.0:
            piR_in, pi_in, a = lp.piR, lp.pi.copy(), 0.0
        else:
            a = alpha
            piR_in = a * center[1] + (1 - a) * lp.piR
            pi_in = a * center[2] + (1 - a) * lp.pi
        pi_price = pi_in.copy()
        pi_price[master.forbidden] = np.inf
        w = piR_in if jobs else 1.0
        pts, hull_complete = pricer.hull(pi_price, w, const=const)
        # a valid lower bound on the minimum reduced cost at π_in without the exact search: the relaxed
        # minimum from the completion hull Q(0) (see pricing._completion_hulls)
        relaxed = pricer.relaxed_min(w, const)
        # the exact search is capped (its cost can explode at some dual vectors); a capped search
        # still returns the columns found so far, and the cap grows whenever a capped search found none
        elem, complete = pricer.elementary(pi_price, w, const=const, count=elem_count, threshold=-RC_TOL,
                                           deadline=deadline, work_limit=work_cap)
        if not complete and not elem:
            work_cap *= 4
        elif elem and work_limit is not None and work_cap > work_limit:
            work_cap = max(work_limit, work_cap // 2)  # columns again: back toward the cheap cap
        if complete:
            rc_lb = min(_rc(jobs, piR_in, T, P) for _, T, P in elem) if elem else -RC_TOL
        else:
            rc_lb = relaxed
        rc_lb = min(rc_lb, 0.0)
        if not master.fixed:  # bounds only mean something for the unrestricted master
            tp_min = 0.0
            if not jobs and pricer.qn[0] > 0:
                # T·P is quasi-concave and monotone on R²₊: its minimum over the relaxed chains is ≥ the
                # minimum over the completion-hull vertices Q(0)
                n0 = int(pricer.qn[0])
                tp_min = float(np.min(pricer.qt[0, :n0] * pricer.qp[0, :n0]))
            value, bR, bpi = _lagrangian(problem, segs, jobs, x_bar, piR_in, pi_in, rc_lb, tp_min)
            if on_bound is not None and on_bound(_Bound(value, bR, bpi, complete), lp):
                break  # the caller's early termination (the rounded bound cannot improve any more)
            if center is None or (value > center[0] if jobs else value < center[0]):
                center = (value, piR_in, pi_in)
        if not complete and not elem and not STOP.requested:
            # the capped exact search found nothing (its tree can explode at degenerate duals): price
            # restricted hop graphs (a random half of the servers removed) — small trees, simple chains;
            # heuristic columns only (the bound above and the convergence test use the full search)
            for _ in range(restricted_tries):
                drop = np.flatnonzero(rng.random(problem.num_servers) < 0.5)
                pi_sub = pi_price.copy()
                pi_sub[np.isin(segs.server, drop)] = np.inf
                sub, _c = pricer.elementary(pi_sub, w, const=const, count=elem_count, threshold=-RC_TOL,
                                            deadline=deadline, work_limit=work_limit)
                if sub:
                    elem = sub
                    work_cap = max(work_limit, work_cap // 4)  # undo this round's growth
                    break
        # add the columns that improve the current LP (reduced cost at π_LP)
        added = 0
        for p, T, _ in elem + [q for q in pts if _simple(segs, q[0])]:
            _, _, P_out = pricer.evaluate(p, lp.pi)
            if _rc(jobs, lp.piR, T, P_out) < -RC_TOL:
                added += master.add_chain(p, T)
        if added:
            need_lp = True
            alpha = min(alpha0, alpha + 0.1) if a > 0 else alpha
            continue
        if a > 0:  # mis-price: price at π_LP itself without re-solving the LP
            need_lp = False
            alpha = 0.0
            continue
        converged = complete and not elem
        if not converged and not complete:
            need_lp = False  # cut short (work cap, deadline, Ctrl-C): retry with the larger cap
            continue
        break
    return converged, lp


def solve_colgen(
    problem: Problem,
    objective: str = "job-servers",
    solver: str = "highs",
    time_limit_s: float = 60.0,
    mip_gap: float | None = None,
    threads: int | None = None,
    seed: int | None = None,
    progress: bool = False,
    enum_limit: int = 60_000,
    cg_share: float = 0.5,
    dive: bool = True,
    early_stop: bool = True,
    start: GreedyStart | None = None,
    local_search: bool = True,
    ls_share: float = 0.2,
    ls2_share: float = 0.1,
    elem_count: int = 64,
    parallel_search: bool = True,
) -> ColgenResult:
    """Run the algorithm of the module docstring within ``time_limit_s`` (wall clock, all phases).

    ``parallel_search`` (job servers): run the placement search in a second process meanwhile
    (:mod:`.parallel_search`; two processes in all); False keeps the milp in one process."""
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    jobs = objective != "throughput"
    segs = segments(problem)
    pricer = Pricer(problem, segs)
    master = _Master(problem, segs, objective)
    phases: dict = {}
    display = ProgressDisplay(bool(progress), "milp (column generation)", "min" if jobs else "max")

    # 1. greedy warm start
    greedy = start if start is not None else greedy_start(problem)
    inc = {"placement": None, "allocation": None, "value": None, "source": "greedy"}
    greedy_value = None
    if greedy is not None:
        for c, pl, al in greedy.candidates:
            for ch in al.chains:
                master.add_chain(chain_segments(segs, pl, ch), ch.service_time_s)
        if jobs:
            inc.update(placement=greedy.placement, allocation=greedy.allocation, value=float(greedy.job_servers))
        else:
            # greedy design for throughput: GCA's full allocation at the best c (all chains, full capacity)
            from chaincomp.heuristics.gca import gca

            best = None
            for c, pl, _ in greedy.candidates:
                al = gca(problem, pl)
                if best is None or al.service_rate > best[2]:
                    best = (pl, al, al.service_rate)
            inc.update(placement=best[0], allocation=best[1], value=best[2])
            for ch in best[1].chains:
                master.add_chain(chain_segments(segs, best[0], ch), ch.service_time_s)
        greedy_value = inc["value"]
    phases["greedy_s"] = time.perf_counter() - t0
    history: list = []
    if inc["value"] is not None:
        history.append((phases["greedy_s"], inc["value"]))
    # 1b. the placement search on the second core until just before the end (harvested below)
    ps_log: dict = {}
    psearch = None
    if jobs and parallel_search:
        phases["parallel_search"] = ps_log
        psearch = start_search(problem, greedy, inc, deadline - 0.3, seed, ps_log)

    def ps_harvest(final: bool = False) -> None:
        if psearch is not None:
            msgs = psearch.close(0.0 if proved() else 0.3) if final else psearch.poll()
            harvest(psearch, msgs, problem, segs, master, inc, better, history, t0, ps_log)

    def better(val) -> bool:
        if val is None:
            return False
        if inc["value"] is None:
            return True
        return val < inc["value"] - 1e-9 if jobs else val > inc["value"] * (1 + 1e-12) + 1e-12

    # 2. column generation (root)
    max_slots = np.zeros(problem.num_servers)
    np.maximum.at(max_slots, segs.server, segs.slots)
    x_bar = float(max_slots.sum()) / problem.num_blocks
    bound = {"lp": -math.inf if jobs else math.inf, "iters": 0, "best": None, "early": False}

    def on_bound(b: _Bound, lp: _LP) -> bool:
        bound["iters"] += 1
        ps_harvest()
        if (b.value > bound["lp"]) if jobs else (b.value < bound["lp"]):
            bound["lp"] = b.value
            bound["best"] = b
        display.update(inc["value"], int_bound() if jobs else bound["lp"])
        # early termination (job servers): the restricted master's LP value z ≥ LP* and the bound ≤ LP*;
        # once ⌈bound⌉ = ⌈z⌉ further column generation cannot raise the integer bound
        # (never while there is no incumbent: the integer phases must still look for a first design)
        if jobs and early_stop and inc["value"] is not None and lp.art <= 1e-9 and bound["best"] is not None \
                and b.exact_pricing and math.ceil(bound["lp"] - 1e-6) >= math.ceil(lp.z - 1e-6):
            bound["early"] = True
            return True
        return False

    def int_bound():
        b = bound["lp"]
        if not math.isfinite(b):
            return None
        return math.ceil(b - 1e-6) if jobs else b

    cg_deadline = t0 + cg_share * time_limit_s
    work_limit = 2_000_000 if jobs else 10_000_000  # small first cap: many cheap rounds (grows ×4 when a capped search finds nothing)
    if jobs and local_search and ls_share > 0:
        # 2a. a first part of column generation: small instances settle here and need no search
        first = t0 + 0.2 * cg_share * time_limit_s
        converged, lp = _column_generation(master, pricer, jobs, first, on_bound, x_bar=x_bar,
                                           elem_count=elem_count, work_limit=work_limit)
        settled_a = converged or bound["early"]
        if not settled_a and not STOP.requested and not (inc["value"] is not None and int_bound() is not None
                                                         and inc["value"] <= int_bound()):
            # 2b. local search over placements (restricted: a heuristic); its designs' chains join the pool
            if not parallel_mod.replaces_in_process(psearch):
                ls_end = min(deadline, time.perf_counter() + ls_share * time_limit_s)
                phases["local_search"] = run_local_search(problem, segs, master, inc, better, greedy, ls_end, t0,
                                                          seed, history)
            cg_deadline += ls_share * time_limit_s
        if not settled_a and not STOP.requested:
            converged, lp = _column_generation(master, pricer, jobs, min(cg_deadline, deadline), on_bound,
                                               x_bar=x_bar, elem_count=elem_count, work_limit=work_limit)
    else:
        converged, lp = _column_generation(master, pricer, jobs, cg_deadline, on_bound, x_bar=x_bar,
                                           elem_count=elem_count, work_limit=work_limit)
    display.close()
    if jobs and converged and lp is not None and lp.art > 1e-7:
        display.close()
        raise InfeasibleInstance(
            f"proved infeasible: no placement and allocation reaches λ/ρ̄ = {problem.required_rate:.4g} job/s: even the LP relaxation of "
            f"the exact model falls short (column generation converged with {lp.art:.4g} job/s missing)"
        )
    phases["colgen_s"] = time.perf_counter() - t0 - phases["greedy_s"]
    phases["colgen_iterations"] = bound["iters"]
    phases["colgen_converged"] = converged
    phases["colgen_stopped_early"] = bound["early"]
    # for the integer phases an early stop is as good as convergence: the rounded bound is final
    settled = converged or bound["early"]
    phases["columns"] = len(master.chains)
    lp_value = lp.z if (converged and lp is not None and (not jobs or lp.z < BIG / 2)) else None
    phases["lp_value"] = lp_value

    size: dict = {"rows": master.nrows, "columns": master.ncols, "integers": 0, "model": "LP master (column generation)"}
    solver_version = ""
    extra_bound = {"value": None}

    def proved() -> bool:
        if inc["value"] is None:
            return False
        ib = int_bound()
        eb = extra_bound["value"]
        if jobs:
            return (ib is not None and inc["value"] <= ib) or (eb is not None and inc["value"] <= eb)
        ub = min(b for b in (ib, eb, math.inf) if b is not None)
        return inc["value"] >= ub - 1e-9 * max(1.0, abs(ub))

    def run_master(pool, limit, label, fixed_segments=None):
        nonlocal solver_version, size
        model, decode = _integer_master(problem, segs, pool, objective, inc["placement"], inc["allocation"],
                                        fixed_segments=fixed_segments)
        opts = SolveOptions(time_limit_s=max(limit, 0.2), mip_gap=mip_gap if mip_gap is not None else 0.0,
                            threads=threads, seed=seed, progress=bool(progress), label=label)
        try:
            res = solve(model, solver, opts)
        except SolverUnavailable as exc:
            # e.g. Gurobi's size-limited licence refuses this integer master: keep the incumbent and the
            # bound found so far, and say which part the solver could not take
            phases.setdefault("solver_refused", []).append(f"{label}: {exc}")
            return SolveResult("no_solution", None, None, None, 0.0, 0, model.num_rows, model.num_cols,
                               model.num_integers, solver, "", message=str(exc))
        solver_version = res.solver_version
        size = {"rows": res.rows, "columns": res.columns, "integers": res.integers, "model": label}
        if res.has_solution:
            pl, al, val = decode(res.values)
            if better(val):
                inc.update(placement=pl, allocation=al, value=val, source=label)
                history.append((time.perf_counter() - t0, val))
        return res

    def left() -> float:
        return deadline - time.perf_counter()

    ps_harvest()
    # 2c. a second local search, from the incumbent and the rounded LP placement (restricted: heuristic)
    if jobs and local_search and ls2_share > 0 and lp is not None and not proved() and not STOP.requested \
            and left() > 2.0 and not parallel_mod.replaces_in_process(psearch):
        rounded = lp_placement(problem, segs, lp.y)
        phases["local_search_2"] = run_local_search(
            problem, segs, master, inc, better, greedy, time.perf_counter() + min(ls2_share * time_limit_s, 0.5 * left()),
            t0, None if seed is None else seed + 1, history, extra_starts=[rounded])

    ps_harvest()
    # 3a'. the local search's best placement: the exact §2.2 allocation MKP over all its chains
    if jobs and inc["source"] in ("local search", "parallel search") and not proved() and not STOP.requested and left() > 1.0:
        # the placement's own LP (ranges fixed, other servers off) priced to optimality first, so the MKP
        # sees the chains its LP wants (the placements have far too many chains to list them all)
        pl = inc["placement"]
        chosen = [int(segs.index[j, pl.first_block[j], pl.last_block[j]]) for j in pl.used]
        mkp_end = time.perf_counter() + min(left() - 0.5, max(2.0, 0.08 * time_limit_s))
        for s_ in chosen:
            master.fix(s_)
        master.forbid_servers([j for j in range(problem.num_servers) if pl.num_blocks[j] == 0])
        conv_f, lp_f = _column_generation(master, pricer, jobs, mkp_end - 0.3 * (mkp_end - time.perf_counter()),
                                          elem_count=64, alpha0=0.0, max_rounds=60)
        master.reset_fixings()
        entry = {"lp_converged": conv_f, "lp": None if lp_f is None else lp_f.z}
        if lp_f is None or not conv_f or math.ceil(lp_f.z - 1e-6) < inc["value"]:
            pool, how = _placement_pool(problem, segs, pl, [p for p in master.chains if set(p) <= set(chosen)])
            res = run_master(pool, max(mkp_end - time.perf_counter(), 0.5), "local search + §2.2 MKP",
                             fixed_segments=chosen)
            entry.update(status=res.status, objective=res.objective, columns=len(pool), chains=how,
                         time_s=res.wall_time_s)
        phases["local_search_mkp"] = entry

    # 3a. price-and-branch on the generated pool
    if not proved() and not STOP.requested and master.chains and left() > 0.2:
        pool = [p for p in master.chains if _simple(segs, p)]
        share = 0.15 * time_limit_s if not settled or not jobs else 0.25 * left()
        res = run_master(pool, min(left() - 0.75, max(share, 0.5)), "price-and-branch")
        phases["price_and_branch"] = {"status": res.status, "objective": res.objective, "bound": res.bound,
                                      "time_s": res.wall_time_s, "columns": len(pool)}

    # 3b. diving (restricted: a heuristic)
    if dive and not proved() and not STOP.requested and left() > 1.0 and master.chains:
        dive_deadline = time.perf_counter() + (0.6 if (jobs and settled) else 0.9) * left()
        phases["dives"] = _dives(problem, segs, pricer, master, jobs, dive_deadline, inc, better, run_master,
                                 lambda: proved() or (jobs and inc["value"] is not None and int_bound() is not None
                                                      and inc["value"] <= int_bound()))

    # 4. reduced-cost enumeration → exact master
    exact_master = False

    def exact_master_over(pool, delta: float, time_s: float, improve_bound) -> None:
        """Solve the integer master over ``pool`` (every chain a better design could use, plus the
        incumbent's); proved optimal → the incumbent is optimal, else ``improve_bound`` its MIP bound."""
        nonlocal exact_master
        phases["enumeration"] = {"delta": delta, "columns": None if pool is None else len(pool),
                                 "time_s": time_s, "limit": enum_limit}
        if pool is None or STOP.requested or left() <= 0.2:
            return
        if inc["allocation"] is not None:  # keep the incumbent's chains so the start stays feasible
            have = set(pool)
            for ch in inc["allocation"].chains:
                p = chain_segments(segs, inc["placement"], ch)
                if p not in have:
                    pool.append(p)
                    have.add(p)
        value_before = inc["value"]
        res = run_master(pool, left() - 0.75, "exact master")
        exact_master = True
        phases["exact_master"] = {"status": res.status, "objective": res.objective, "bound": res.bound,
                                  "time_s": res.wall_time_s, "columns": len(pool)}
        if res.status == "optimal" and (mip_gap in (None, 0.0)):
            # optimal over every column that can beat value_before: the incumbent is optimal
            extra_bound["value"] = inc["value"]
        elif res.bound is not None:
            extra_bound["value"] = improve_bound(value_before, res.bound)

    if jobs and settled and not proved() and not STOP.requested and inc["value"] is not None \
            and bound["best"] is not None and left() > 0.2:
        bb: _Bound = bound["best"]
        pi_s, piR_s, z_s = bb.pi, bb.piR, bb.value
        # any design with Σx ≤ UB − 1 satisfies Σ_k rc_k x_k ≤ UB − 1 − z', so every chain it uses has rc ≤ that
        delta = inc["value"] - 1.0 - z_s + 1e-6
        te = time.perf_counter()
        pool = pricer.enumerate(pi_s, piR_s, delta, enum_limit, deadline=deadline)
        exact_master_over(pool, delta, time.perf_counter() - te,
                          lambda before, mip_bound: min(before, math.ceil(mip_bound - 1e-6)))

    # 4''. no design at all (job servers): every design has Σx ≤ X̄ (a job server holds L slots in all), so
    # with the scaled duals every chain it uses has rc ≤ ⌊X̄⌋ − z'; if the exact master over all of them is
    # infeasible, so is the instance (a proof, not a budget verdict)
    if jobs and settled and inc["value"] is None and not STOP.requested and bound["best"] is not None \
            and left() > 0.2:
        bb = bound["best"]
        v_max = math.floor(x_bar + 1e-9)
        if math.ceil(bb.value - 1e-6) > v_max:
            raise InfeasibleInstance(
                f"proved infeasible: at least {math.ceil(bb.value - 1e-6)} job servers are needed (column-generation "
                f"bound) but memory holds at most {v_max} (Σ_j max slots / L)")
        te = time.perf_counter()
        pool = pricer.enumerate(bb.pi, bb.piR, v_max - bb.value + 1e-6, enum_limit, deadline=deadline)
        phases["enumeration_no_incumbent"] = {"columns": None if pool is None else len(pool),
                                              "time_s": time.perf_counter() - te, "limit": enum_limit}
        if pool is not None and pool and not STOP.requested and left() > 0.2:
            res = run_master(pool, left() - 0.75, "exact master (any design)")
            phases["exact_master_no_incumbent"] = {"status": res.status, "time_s": res.wall_time_s,
                                                   "columns": len(pool)}
            if res.status == "infeasible":
                raise InfeasibleInstance(
                    f"proved infeasible: the exact integer master over every chain a design could use ({len(pool)} "
                    "chains, reduced-cost enumeration with the converged column-generation duals) has no solution")
            if res.status == "optimal" and (mip_gap in (None, 0.0)) and inc["value"] is not None:
                extra_bound["value"] = inc["value"]  # optimal over every column any design can use: proved
            elif res.bound is not None and math.isfinite(res.bound):
                extra_bound["value"] = math.ceil(res.bound - 1e-6)
        elif pool is not None and not pool:
            raise InfeasibleInstance("proved infeasible: no chain can carry a job server in any design "
                                     "(reduced-cost enumeration with the converged duals found none)")

    # 4'. throughput: with converged duals (every simple chain has d_k = P_k − μ_k ≥ −RC_TOL),
    # Σ μ x ≤ Σ_j u_j − Σ_k d_k x_k for every design, so a design better than the incumbent V only uses
    # chains with d_k ≤ Σ u − V + RC_TOL·X̄: enumerate them; the integer master over them is exact
    if not jobs and converged and lp is not None and not proved() and not STOP.requested \
            and inc["value"] is not None and left() > 0.2:
        U0 = float(lp.u.sum()) + RC_TOL * x_bar
        delta = U0 - inc["value"] + 1e-9
        te = time.perf_counter()
        pool = pricer.enumerate(lp.pi, 1.0, delta, enum_limit, deadline=deadline, const=0.0)
        exact_master_over(pool, delta, time.perf_counter() - te, max)

    # 5. time left: the restricted integer master over every column generated so far (root + dives)
    if not proved() and not STOP.requested and left() > 1.0 and len(master.chains) > phases.get(
            "price_and_branch", {}).get("columns", 0):
        pool = [p for p in master.chains if _simple(segs, p)]
        res = run_master(pool, left() - 0.75, "price-and-branch (all columns)")  # margin: model build + decode
        phases["price_and_branch_all"] = {"status": res.status, "objective": res.objective, "bound": res.bound,
                                          "time_s": res.wall_time_s, "columns": len(pool)}
    ps_harvest(final=True)
    display.close()

    interrupted = STOP.requested
    ib = int_bound()
    if extra_bound["value"] is not None:
        if jobs:
            ib = max(ib, extra_bound["value"]) if ib is not None else extra_bound["value"]
        else:
            ib = min(ib, extra_bound["value"]) if ib is not None else extra_bound["value"]
    is_proved = proved()
    if is_proved:
        status = "optimal"
        how = "exact reduced-cost column enumeration" if extra_bound["value"] is not None else "LP bound"
        label = f"proved optimal (column-generation bound + {how}); incumbent from {inc['source']}"
        ib = inc["value"]
    else:
        # time_limit only when the budget ran out (the last phase needs > 1 s); else the search stopped
        status = "interrupted" if interrupted else ("time_limit" if left() <= 1.0 else "stopped")
        parts = ["valid bound from column generation" + (
            "" if converged else " (stopped early: the rounded Lagrangian bound equals the rounded master LP)"
            if bound["early"] else " (Lagrangian bound, CG not converged)")]
        parts.append(f"incumbent from {inc['source']} (restricted: not proved optimal)")
        if exact_master:
            parts.append("exact master over enumerated columns not finished")
        if phases.get("solver_refused"):
            parts.append(f"{solver} could not take: " + " | ".join(phases["solver_refused"]))
            if status == "time_limit" and left() > 1.0:
                status = "stopped"
        label = "; ".join(parts)
    if inc["value"] is None:
        status = "interrupted" if interrupted else ("no_solution" if left() <= 1.0 else "no_solution_stopped")
    result = ColgenResult(
        objective=objective,
        placement=inc["placement"],
        allocation=inc["allocation"],
        value=inc["value"],
        bound=ib,
        lp_bound=(bound["lp"] if math.isfinite(bound["lp"]) else None),
        lp_converged=converged,
        proved_optimal=is_proved,
        status=status,
        label=label,
        greedy_value=greedy_value,
        incumbent_source=inc["source"],
        phases=phases,
        size=size,
        solver_name=solver,
        solver_version=solver_version,
        history=history,
    )
    # for the exact near-tie check of the caller (formulations/exact_master.py): the converged duals
    result.exact_context = {"segs": segs, "pricer": pricer, "best": bound["best"], "settled": settled}
    return result


def _dives(problem, segs, pricer, root: _Master, jobs, deadline, inc, better, run_master, done, max_dives=8):
    """Diving heuristic over the column-generation LP (see the module docstring, step 3b)."""

    log = []
    tried_first: set = set()
    for d in range(max_dives):
        if STOP.requested or time.perf_counter() > deadline or done():
            break
        root.reset_fixings()
        m = root
        steps = 0
        outcome = "incomplete"
        first = None
        while not STOP.requested and time.perf_counter() < deadline:
            conv, lp = _column_generation(m, pricer, jobs, deadline, elem_count=32, alpha0=0.0, max_rounds=6)
            if lp is None:
                break
            if jobs and conv and lp.art > 1e-7:
                outcome = "infeasible"
                break
            if inc["value"] is not None and conv and (
                    (jobs and math.ceil(lp.z - 1e-6) >= inc["value"]) or (not jobs and lp.z <= inc["value"] * (1 + 1e-9))):
                outcome = "pruned"
                break
            # per free server: its largest y
            free = np.ones(segs.count, bool)
            for j in m.fixed:
                free[segs.server == j] = False
            yv = np.where(free, lp.y, 0.0)
            frac = (yv > 1e-6) & (yv < 1 - 1e-6)
            if not frac.any():
                outcome = "integral"
                break
            sure = np.flatnonzero(free & (lp.y >= 0.99))
            cand = np.argsort(-yv)
            if sure.size:
                pick = list(sure)
            else:
                pick = [int(s) for s in cand[: max(1, problem.num_servers // 10)] if yv[s] > 1e-6]
                if first is None:  # vary the first fractional fixing between dives
                    order = [int(s) for s in cand if yv[s] > 1e-6 and int(s) not in tried_first]
                    if not order:
                        outcome = "exhausted"
                        break
                    pick = [order[0]] + [s for s in pick if s != order[0]]
                    first = order[0]
            chosen_servers: set = set()
            for s in pick:
                j = int(segs.server[s])
                if j in chosen_servers or j in m.fixed:
                    continue
                chosen_servers.add(j)
                m.fix(int(s))
            steps += 1
        if first is not None:
            tried_first.add(first)
        entry = {"steps": steps, "outcome": outcome, "fixed": len(m.fixed)}
        if outcome == "integral" and not STOP.requested:
            chosen = sorted({int(s) for s in np.flatnonzero(lp.y > 0.5)} | set(m.fixed.values()))
            by_server: dict = {}
            for s in chosen:
                by_server.setdefault(int(segs.server[s]), s)
            chosen = sorted(by_server.values())
            pl = placement_from_segments(problem, segs, chosen)
            # settle the placement (chosen ranges fixed, other servers off) and price its chains to LP
            # optimality, so the allocation MKP below sees every chain its LP wants
            for s_ in chosen:
                if int(segs.server[s_]) not in m.fixed:
                    m.fix(int(s_))
            m.forbid_servers([j for j in range(problem.num_servers) if j not in by_server])
            _column_generation(m, pricer, jobs, deadline, elem_count=64, alpha0=0.0, max_rounds=40)
            pool, entry["chains"] = _placement_pool(problem, segs, pl, [p for p in m.chains if set(p) <= set(chosen)])
            before = inc["value"]
            res = run_master(pool, max(deadline - time.perf_counter(), 0.5), "dive", fixed_segments=chosen)
            entry.update(value=res.objective, status=res.status, columns=len(pool), improved=inc["value"] != before)
        log.append(entry)
        if first is None:
            break  # the first step had nothing to vary: further dives would repeat this one
    root.reset_fixings()
    return log


def _placement_pool(problem, segs, pl, pool, limit: int = 20_000):
    """``pool`` plus every chain of placement ``pl`` that can carry ≥ 1 unit (or only ``pool`` when
    the placement has more than ``limit`` chains). Returns (pool, "all" | "generated")."""
    from chaincomp.errors import UsageError
    from chaincomp.formulations.cache_allocation import all_chains

    pool = list(pool)
    have = set(pool)
    try:
        chains = all_chains(problem, pl, limit=limit)
    except UsageError:  # too many chains: the generated ones only
        return pool, "generated"
    for ch in chains:
        p = chain_segments(segs, pl, ch)
        if p not in have and all(int(segs.slots[s]) >= b for s, b in zip(p, ch.blocks)):
            pool.append(p)
            have.add(p)
    return pool, "all"


def _simple(segs: Segments, path: tuple) -> bool:
    """No server twice (such LP columns can never carry integer capacity)."""
    servers = segs.server[list(path)]
    return len(set(servers.tolist())) == len(servers)


def _integer_master(problem, segs, pool, objective, inc_placement, inc_alloc, fixed_segments=None):
    """MilpModel of the extended formulation over ``pool`` (+ a start from the incumbent).

    ``fixed_segments``: only these segments may be chosen (a fixed placement: the model is then the
    SPEC §2.2 allocation MKP over the pool's chains)."""
    jobs = objective != "throughput"
    if fixed_segments is not None:
        allowed = set(fixed_segments)
        pool = [p for p in pool if set(p) <= allowed]
    used = sorted({s for p in pool for s in p})
    pos = {s: i for i, s in enumerate(used)}
    K, S = len(pool), len(used)
    T = np.empty(K)
    rows_m, cols_m, vals_m = [], [], []
    cap = np.empty(K)
    for k, p in enumerate(pool):
        prev, t = 0, 0.0
        c_k = math.inf
        for s in p:
            j = int(segs.server[s])
            b = int(segs.last[s]) - prev
            prev = int(segs.last[s])
            t += float(problem.tau_comm_s[j]) + float(problem.tau_comp_s[j]) * b
            rows_m.append(pos[s])
            cols_m.append(k)
            vals_m.append(-float(b))
            c_k = min(c_k, int(segs.slots[s]) // b)
        T[k] = t
        cap[k] = c_k
    mu = 1.0 / T if K else np.zeros(0)
    m = MilpModel("bpca_master", "min" if jobs else "max")
    x = m.add_vars("x", K, lb=0, ub=cap, integer=True, obj=1.0 if jobs else mu)
    y_lb = np.zeros(S)
    if fixed_segments is not None:
        y_lb[:] = 1.0  # the placement is fixed (its chains need their segments; unused ones dropped in decode)
    y = m.add_vars("y", S, lb=y_lb, ub=1, integer=True)
    if jobs:
        m.add_row("rate", x, mu, lower=problem.required_rate)
    seg_slots = segs.slots[used].astype(float)
    m.add_rows("memory", np.concatenate([np.asarray(rows_m, np.int64), np.arange(S)]),
               np.concatenate([x[np.asarray(cols_m, np.int64)], y]),
               np.concatenate([np.asarray(vals_m), seg_slots]), np.zeros(S), np.full(S, np.inf))
    srv = segs.server[used]
    m.add_rows("one_range", srv, y, 1.0, np.full(problem.num_servers, -np.inf), np.ones(problem.num_servers))
    if inc_alloc is not None:
        xs = np.zeros(m.num_cols)
        index = {p: k for k, p in enumerate(pool)}
        ok = True
        for ch, c in zip(inc_alloc.chains, inc_alloc.capacities):
            p = chain_segments(segs, inc_placement, ch)
            if p not in index:
                ok = False
                break
            xs[x[index[p]]] += c
        for j in inc_placement.used:
            s = int(segs.index[j, inc_placement.first_block[j], inc_placement.last_block[j]])
            if s in pos:
                xs[y[pos[s]]] = 1.0
        if ok and m.violation(xs) <= 1e-7:
            m.set_start(xs)

    def decode(values):
        xv = np.round(values[x]).astype(int)
        yv = np.round(values[y]).astype(int)
        chosen = [used[i] for i in range(S) if yv[i] == 1]
        # drop ranges of servers no chain uses (harmless, but keep the design minimal)
        in_use = {s for k in range(K) if xv[k] > 0 for s in pool[k]}
        chosen = [s for s in chosen if s in in_use]
        pl = placement_from_segments(problem, segs, chosen)
        chains = [chain_from_segments(problem, segs, pool[k]) for k in range(K) if xv[k] > 0]
        caps = [int(xv[k]) for k in range(K) if xv[k] > 0]
        al = Allocation(tuple(chains), tuple(caps))
        val = float(sum(caps)) if jobs else al.service_rate
        return pl, al, val

    return m, decode
