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

import numpy as np

from chaincomp.errors import InfeasibleInstance, SolverUnavailable
from chaincomp.formulations.common import GreedyStart, chain_segments, greedy_start, segments, throughput_start
from chaincomp.formulations.local_search import lp_placement, run_local_search
from chaincomp.formulations.column_generation import RC_TOL, _Bound, _column_generation, _simple
from chaincomp.formulations.integer_phases import _dives, _integer_master, _placement_pool
from chaincomp.formulations.master import BIG, _LP, _Master
from chaincomp.formulations import parallel_search as parallel_mod
from chaincomp.formulations.colgen_result import ColgenResult, primal_integral  # noqa: F401 - re-exported
from chaincomp.formulations.parallel_search import harvest, start_search
from chaincomp.formulations.pricing import Pricer
from chaincomp.problem import Problem
from chaincomp.solvers import SolveOptions, SolveResult, solve
from chaincomp.solvers.base import STOP, ProgressDisplay


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
    greedy = start if start is not None else (greedy_start if jobs else throughput_start)(problem)
    inc = {"placement": None, "allocation": None, "value": None, "source": "greedy"}
    greedy_value = None
    if greedy is not None:
        for c, pl, al in greedy.candidates:
            for ch in al.chains:
                master.add_chain(chain_segments(segs, pl, ch), ch.service_time_s)
        if jobs:
            inc.update(placement=greedy.placement, allocation=greedy.allocation, value=float(greedy.job_servers))
        else:  # throughput: common.throughput_start's best ν (GCA's full allocation; candidates likewise)
            inc.update(placement=greedy.placement, allocation=greedy.allocation, value=greedy.allocation.service_rate)
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

    def infeasible(message: str) -> InfeasibleInstance:
        """A proof of infeasibility ends the solve: stop the search process first."""
        if psearch is not None:
            psearch.close(0.0)
        return InfeasibleInstance(message)

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
        raise infeasible(
            f"proved infeasible: no placement and allocation reaches λ/ρ̄ = {problem.required_rate:.4g} job/s: even the LP relaxation of "
            f"the exact model falls short (column generation converged with {lp.art:.4g} job/s missing)"
        )
    # throughput without any column: the empty master's duals are 0, so a converged (complete, exact)
    # pricing found no simple chain with rc = −1/T < −RC_TOL; every simple chain has T ≤ Σ τ^c + L·max τ^p
    if not jobs and inc["value"] is None and not master.chains and (
            (converged and problem.tau_comm_s.sum() + problem.num_blocks * problem.tau_comp_s.max() < 0.5 / RC_TOL)
            or pricer.forms_no_chain()):
        raise infeasible("proved infeasible: no placement forms a chain — no sequence of hosted ranges covers "
                         "blocks 1..L with a free cache slot for every block a server would process")
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
            raise infeasible(
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
                raise infeasible(
                    f"proved infeasible: the exact integer master over every chain a design could use ({len(pool)} "
                    "chains, reduced-cost enumeration with the converged column-generation duals) has no solution")
            if res.status == "optimal" and (mip_gap in (None, 0.0)) and inc["value"] is not None:
                extra_bound["value"] = inc["value"]  # optimal over every column any design can use: proved
            elif res.bound is not None and math.isfinite(res.bound):
                extra_bound["value"] = math.ceil(res.bound - 1e-6)
        elif pool is not None and not pool:
            raise infeasible("proved infeasible: no chain can carry a job server in any design "
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
    closed_form = False
    if jobs and ib is None:  # no bound from column generation yet: the closed form ⌈(λ/ρ̄)·T_min⌉ is still valid
        from chaincomp.core.exact import ExactInstance, closed_form_bound

        ib, closed_form = closed_form_bound(ExactInstance.of(problem)), True
    is_proved = proved() or (closed_form and inc["value"] is not None and inc["value"] <= ib)
    if is_proved:
        status = "optimal"
        if closed_form:
            label = f"proved optimal (equals the closed-form bound ⌈(λ/ρ̄)·T_min⌉); incumbent from {inc['source']}"
        else:
            how = "exact reduced-cost column enumeration" if extra_bound["value"] is not None else "LP bound"
            label = f"proved optimal (column-generation bound + {how}); incumbent from {inc['source']}"
        ib = inc["value"]
    else:
        # time_limit only when the budget ran out (the last phase needs > 1 s); else the search stopped
        status = "interrupted" if interrupted else ("time_limit" if left() <= 1.0 else "stopped")
        parts = ["bound ⌈(λ/ρ̄)·T_min⌉ (closed form: column generation ended before its first bound)" if closed_form else
                 "valid bound from column generation" + (
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
