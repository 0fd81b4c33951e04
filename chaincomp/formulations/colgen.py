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

Algorithm
---------
1. Greedy warm start: GBP-CR + GCA for every c (truncated to the job servers needed); its chains
   seed the column pool and its value is the first incumbent (so the result is never worse).
2. Column generation on the LP relaxation. Pricing minimises 1 − π_R/T + Σ π_σ b (or maximises
   1/T − Σ π_σ b for throughput) exactly, through the lower convex hull of (T, Σπb) (see
   :meth:`.pricing.Pricer.hull`). Segment rows enter the master lazily (an absent row has dual 0,
   which is dual-feasible). Every iteration gives a *valid* lower bound (Farley):
   z_RMP / (1 − min(0, rc_min)); for throughput the upper bound z_RMP + max(0, rc_max)·X̄ with
   X̄ = Σ_j max_σ S_σ / L ≥ Σ x. The integer bound is ⌈·⌉ of the job-server bound.
3. Price-and-branch: the integer master over the generated columns (restricted: labelled so).
4. Reduced-cost column enumeration (job-server objective, after CG converged): with dual-feasible
   duals π' and LP value z', any solution better than the incumbent UB uses only chains with
   reduced cost ≤ UB − 1 − z'. All such chains are enumerated (DFS with completion bounds); if there
   are at most ``enum_limit`` of them, the integer master over them is *exact* for the whole problem,
   and proving it optimal proves the design optimal.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.formulations.common import (
    GreedyStart,
    Segments,
    chain_from_segments,
    chain_segments,
    greedy_start,
    placement_from_segments,
    segments,
)
from chaincomp.formulations.pricing import Pricer, elementary_best
from chaincomp.errors import InfeasibleInstance
from chaincomp.problem import Problem
from chaincomp.solvers import MilpModel, SolveOptions, solve
from chaincomp.solvers.base import STOP

BIG = 1e6


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
    phases: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)
    solver_name: str = "highs"
    solver_version: str = ""


class _Master:
    """The LP master in highspy (columns and segment rows added incrementally, warm-started)."""

    def __init__(self, problem: Problem, segs: Segments, objective: str) -> None:
        import highspy

        from chaincomp.solvers.highs import new_highs

        self.hp = highspy
        self.problem, self.segs, self.objective = problem, segs, objective
        self.h = h = new_highs()
        h.setOptionValue("output_flag", False)
        J = problem.num_servers
        self.jobs = objective != "throughput"
        if not self.jobs:
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        inf = highspy.kHighsInf
        # row 0: rate (jobs) — kept also for throughput as a free row so indices match
        h.addRow(problem.required_rate if self.jobs else -inf, inf, 0, np.array([], np.int32), np.array([]))
        for _ in range(J):
            h.addRow(-inf, 1.0, 0, np.array([], np.int32), np.array([]))
        self.nrows = 1 + J
        self.seg_row = -np.ones(segs.count, np.int64)
        self.seg_col = -np.ones(segs.count, np.int64)
        self.ncols = 0
        self.chains: list[tuple] = []
        self.chain_T: list[float] = []
        self.known: set = set()
        if self.jobs:  # artificial column keeps the LP feasible from the start
            h.addCol(BIG, 0.0, inf, 1, np.array([0], np.int32), np.array([1.0]))
            self.ncols += 1

    def _ensure_segment(self, s: int) -> None:
        if self.seg_row[s] >= 0:
            return
        inf = self.hp.kHighsInf
        self.h.addRow(0.0, inf, 0, np.array([], np.int32), np.array([]))
        r = self.nrows
        self.nrows += 1
        self.seg_row[s] = r
        j = int(self.segs.server[s])
        self.h.addCol(0.0, 0.0, 1.0, 2, np.array([r, 1 + j], np.int32), np.array([float(self.segs.slots[s]), 1.0]))
        self.seg_col[s] = self.ncols
        self.ncols += 1

    def add_chain(self, path: tuple, T: float) -> bool:
        if path in self.known:
            return False
        self.known.add(path)
        for s in path:
            self._ensure_segment(s)
        prev = 0
        idx, val = [], []
        for s in path:
            b = int(self.segs.last[s]) - prev
            prev = int(self.segs.last[s])
            idx.append(int(self.seg_row[s]))
            val.append(-float(b))
        mu = 1.0 / T
        if self.jobs:
            idx.insert(0, 0)
            val.insert(0, mu)
        cost = 1.0 if self.jobs else mu
        # merge duplicate rows (a server visited twice through the same segment cannot happen: e increases)
        self.h.addCol(cost, 0.0, self.hp.kHighsInf, len(idx), np.array(idx, np.int32), np.array(val))
        self.ncols += 1
        self.chains.append(path)
        self.chain_T.append(T)
        return True

    def solve(self):
        self.h.run()
        sol = self.h.getSolution()
        z = float(self.h.getInfo().objective_function_value)
        y = np.asarray(sol.row_dual, float)
        sign = 1.0 if self.jobs else -1.0
        pi = np.zeros(self.segs.count)
        present = self.seg_row >= 0
        pi[present] = np.maximum(sign * y[self.seg_row[present]], 0.0)
        piR = max(y[0], 0.0) if self.jobs else 1.0
        return z, piR, pi, np.asarray(sol.col_value, float)


def _reduced_cost(jobs: bool, piR: float, T: float, P: float) -> float:
    return (1.0 - piR / T + P) if jobs else (1.0 / T - P)


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
    elem_nodes: int = 3_000_000,
    start: GreedyStart | None = None,
) -> ColgenResult:
    """Run the algorithm of the module docstring within ``time_limit_s`` (wall clock, all phases)."""
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    jobs = objective != "throughput"
    segs = segments(problem)
    pricer = Pricer(problem, segs)
    master = _Master(problem, segs, objective)
    phases: dict = {}

    # 1. greedy warm start
    greedy = start if start is not None else greedy_start(problem)
    inc_placement = inc_alloc = None
    inc_value = None
    greedy_value = None
    if greedy is not None:
        for c, pl, al in greedy.candidates:
            for ch in al.chains:
                master.add_chain(chain_segments(segs, pl, ch), ch.service_time_s)
        inc_placement, inc_alloc = greedy.placement, greedy.allocation
        if jobs:
            inc_value = greedy_value = float(greedy.job_servers)
        else:
            # greedy design for throughput: GCA's full allocation at the best c (all chains, full capacity)
            from chaincomp.heuristics.gca import gca

            best = None
            for c, pl, _ in greedy.candidates:
                al = gca(problem, pl)
                if best is None or al.service_rate > best[2]:
                    best = (pl, al, al.service_rate)
            inc_placement, inc_alloc, inc_value = best
            greedy_value = inc_value
            for ch in inc_alloc.chains:
                master.add_chain(chain_segments(segs, inc_placement, ch), ch.service_time_s)
    phases["greedy_s"] = time.perf_counter() - t0

    # 2. column generation
    max_slots = np.zeros(problem.num_servers)
    np.maximum.at(max_slots, segs.server, segs.slots)
    x_bar = float(max_slots.sum()) / problem.num_blocks
    best_bound = -math.inf if jobs else math.inf
    converged = False
    iters = 0
    cg_deadline = t0 + 0.6 * time_limit_s
    z = piR = None
    pi = None
    rc_min = 0.0
    art = 0.0
    elem_calls = 0
    while True:
        if STOP.requested or time.perf_counter() > cg_deadline:
            break
        z, piR, pi, xval = master.solve()
        art = float(xval[0]) if jobs and xval.size else 0.0
        iters += 1
        weight = piR if jobs else 1.0
        pts = pricer.hull(pi, weight)
        if not pts:
            break
        rcs = [_reduced_cost(jobs, piR, T, P) for (_, T, P) in pts]
        relaxed_best = min(rcs) if jobs else -max(rcs)  # in "minimise" form
        if jobs:
            rc_min = min(rcs)
            if art <= 1e-9:  # artificial out of the solution: a meaningful bound
                best_bound = max(best_bound, z / (1.0 - min(rc_min, 0.0)))
        else:
            best_bound = min(best_bound, z + max(-relaxed_best, 0.0) * x_bar)
        improving = [p for p, r in zip(pts, rcs) if (r < -1e-9 if jobs else r > 1e-9) and _simple(segs, p[0])]
        if not improving and relaxed_best < -1e-9:
            # the relaxed pricing only finds chains that repeat a server: price simple chains exactly
            improving, complete = elementary_best(pricer, pi, weight, jobs, node_limit=elem_nodes,
                                                  threshold=-1e-9, deadline=cg_deadline)
            elem_calls += 1
            if not improving:
                converged = complete
                if complete:  # exact over simple chains: min rc ≥ −1e-9
                    rc_min = -1e-9
                    if jobs and art <= 1e-9:
                        best_bound = max(best_bound, z / (1.0 + 1e-9))
                    elif not jobs:
                        best_bound = min(best_bound, z + 1e-9 * x_bar)
                break
        added = sum(master.add_chain(p[0], p[1]) for p in improving)
        if progress:
            _progress(progress, t0, "column generation", inc_value, best_bound, iters)
        if added == 0:
            converged = not improving
            break
        if not improving:
            converged = True
            break
    if jobs and converged and art > 1e-7:
        raise InfeasibleInstance(
            f"no placement and allocation reaches λ/ρ̄ = {problem.required_rate:.4g} job/s: even the LP relaxation of "
            f"the exact model falls short (column generation converged with {art:.4g} job/s missing)"
        )
    phases["colgen_s"] = time.perf_counter() - t0 - phases["greedy_s"]
    phases["colgen_iterations"] = iters
    phases["elementary_pricing_calls"] = elem_calls
    phases["colgen_converged"] = converged
    phases["columns"] = len(master.chains)
    lp_value = z if (converged and z is not None and (not jobs or z < BIG / 2)) else None
    if jobs and math.isfinite(best_bound):
        int_bound = math.ceil(best_bound - 1e-6)
    elif not jobs and math.isfinite(best_bound):
        int_bound = best_bound
    else:
        int_bound = None

    def done() -> bool:
        return jobs and inc_value is not None and int_bound is not None and inc_value <= int_bound

    solver_version = ""
    size: dict = {"rows": master.nrows, "columns": master.ncols, "integers": 0, "model": "LP master (column generation)"}
    proved = done()
    exact_master = False

    def run_master(pool, limit, label):
        nonlocal inc_value, inc_placement, inc_alloc, solver_version, size
        model, decode = _integer_master(problem, segs, pool, objective, inc_placement, inc_alloc)
        opts = SolveOptions(time_limit_s=max(limit, 0.5), mip_gap=mip_gap if mip_gap is not None else 0.0,
                            threads=threads, seed=seed, progress=bool(progress), label=label)
        if jobs and inc_value is not None:
            # only strictly better solutions are of interest: Σx ≤ UB − 1 (start stays feasible if equal → skip)
            pass
        res = solve(model, solver, opts)
        solver_version = res.solver_version
        size = {"rows": res.rows, "columns": res.columns, "integers": res.integers, "model": label}
        if res.has_solution:
            pl, al, val = decode(res.values)
            if inc_value is None or (val < inc_value - 1e-9 if jobs else val > inc_value + 1e-12):
                inc_value, inc_placement, inc_alloc = val, pl, al
        return res

    # 3. price-and-branch on the generated pool
    pb = None
    if not proved and not STOP.requested and master.chains:
        left = deadline - time.perf_counter()
        pool = [p for p in master.chains if _simple(segs, p)]
        pb = run_master(pool, 0.5 * left if (jobs and converged) else left, "price-and-branch")
        phases["price_and_branch"] = {"status": pb.status, "objective": pb.objective, "bound": pb.bound,
                                      "time_s": pb.wall_time_s, "columns": len(pool)}
        proved = done()

    # 4. reduced-cost enumeration → exact master
    if jobs and converged and not proved and not STOP.requested and inc_value is not None and pi is not None:
        scale = 1.0 / (1.0 - min(rc_min, 0.0))
        pi_s, piR_s, z_s = pi * scale, piR * scale, z * scale
        delta = inc_value - 1.0 - z_s + 1e-6
        te = time.perf_counter()
        pool = _enumerate(pricer, segs, pi_s, piR_s, delta, enum_limit, deadline)
        phases["enumeration"] = {"delta": delta, "columns": None if pool is None else len(pool),
                                 "time_s": time.perf_counter() - te, "limit": enum_limit}
        if pool is not None and not STOP.requested:
            if inc_alloc is not None:  # keep the incumbent's chains so the start stays feasible
                for ch in inc_alloc.chains:
                    p = chain_segments(segs, inc_placement, ch)
                    if p not in pool:
                        pool.append(p)
            res = run_master(pool, deadline - time.perf_counter(), "exact master")
            exact_master = True
            phases["exact_master"] = {"status": res.status, "objective": res.objective, "bound": res.bound,
                                      "time_s": res.wall_time_s, "columns": len(pool)}
            if res.status == "optimal" and (mip_gap in (None, 0.0)):
                proved = True
                int_bound = inc_value
            elif res.bound is not None:
                int_bound = max(int_bound, min(inc_value, math.ceil(res.bound - 1e-6)))
                proved = done()

    interrupted = STOP.requested
    if proved:
        status, label = "optimal", "proved optimal (column-generation bound + exact reduced-cost column enumeration)"
        if inc_value is not None:
            int_bound = inc_value if jobs else int_bound
    else:
        status = "interrupted" if interrupted else "time_limit"
        parts = ["valid bound from column generation" + ("" if converged else " (Farley bound, CG not converged)")]
        parts.append("incumbent from the greedy" if (inc_value == greedy_value) else "incumbent from the restricted integer master")
        if exact_master:
            parts.append("exact master over enumerated columns not finished")
        label = "; ".join(parts)
    if inc_value is None:
        status = "interrupted" if interrupted else "no_solution"
    return ColgenResult(
        objective=objective,
        placement=inc_placement,
        allocation=inc_alloc,
        value=inc_value,
        bound=int_bound,
        lp_bound=(best_bound if math.isfinite(best_bound) else None),
        lp_converged=converged,
        proved_optimal=proved,
        status=status,
        label=label,
        greedy_value=greedy_value,
        phases=phases,
        size=size,
        solver_name=solver,
        solver_version=solver_version,
    )


def _simple(segs: Segments, path: tuple) -> bool:
    """No server twice (such LP columns can never carry integer capacity)."""
    servers = segs.server[list(path)]
    return len(set(servers.tolist())) == len(servers)


def _progress(enabled, t0, phase, inc, bound, it):  # pragma: no cover - terminal output
    if time.perf_counter() - t0 < 1.0:
        return
    from rich.console import Console

    Console(stderr=True).print(f"[dim]{phase}: iteration {it}, incumbent {inc}, bound {bound:.4f}, {time.perf_counter() - t0:.1f} s[/]", end="\r")


def _integer_master(problem, segs, pool, objective, inc_placement, inc_alloc):
    """MilpModel of the extended formulation over ``pool`` (+ a start from the incumbent)."""
    jobs = objective != "throughput"
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
    mu = 1.0 / T
    m = MilpModel("bpca_master", "min" if jobs else "max")
    x = m.add_vars("x", K, lb=0, ub=cap, integer=True, obj=1.0 if jobs else mu)
    y = m.add_vars("y", S, lb=0, ub=1, integer=True)
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


def _enumerate(pricer: Pricer, segs: Segments, pi, piR, delta, limit, deadline):
    """All simple chains with reduced cost 1 − piR/T + Σπb ≤ delta, or None if more than ``limit``."""
    if delta < 0:
        return []
    tmin, pmin = pricer.bounds_to_sink(pi)
    L = pricer.L
    tau_c, tau_p = pricer.tau_c, pricer.tau_p
    # successors by "prev end" e: segments with first ≤ e+1 ≤ last and last − e ≤ slots
    by_prev: list[list[int]] = [[] for _ in range(L + 1)]
    for s in range(segs.count):
        a, e, S = int(segs.first[s]), int(segs.last[s]), int(segs.slots[s])
        for ep in range(max(a - 1, e - S), e):
            by_prev[ep].append(s)
    out: list[tuple] = []
    stack = [((), 0, 0.0, 0.0, frozenset())]
    n = 0
    while stack:
        path, e, T, P, used = stack.pop()
        n += 1
        if n % 4096 == 0 and (time.perf_counter() > deadline or STOP.requested):
            return None
        if e == L:
            if 1.0 - piR / T + P <= delta:
                out.append(path)
                if len(out) > limit:
                    return None
            continue
        for s in by_prev[e]:
            j = int(segs.server[s])
            if j in used:
                continue
            e2 = int(segs.last[s])
            b = e2 - e
            T2 = T + tau_c[j] + tau_p[j] * b
            P2 = P + pi[s] * b
            if 1.0 - piR / (T2 + tmin[e2]) + P2 + pmin[e2] > delta:
                continue
            stack.append((path + (s,), e2, T2, P2, used | {j}))
    return out
