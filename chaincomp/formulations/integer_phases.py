"""Integer phases of the milp (:mod:`.colgen`, step 3): dives over the column-generation LP, the
pool of every chain of a fixed placement, and the integer master (the extended formulation over a
column pool, SPEC §2.3; with a fixed placement it is the §2.2 allocation MKP)."""

from __future__ import annotations

import math
import time

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.formulations.column_generation import _column_generation
from chaincomp.formulations.common import chain_from_segments, chain_segments, placement_from_segments
from chaincomp.formulations.master import _Master
from chaincomp.solvers import MilpModel
from chaincomp.solvers.base import STOP


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
