"""SPEC §2.3 — the compact exact MILP for BPCA (Eq. 5) with K̄ chain slots.

Variables (all built as one :class:`~chaincomp.solvers.MilpModel`):

- ``y[σ]`` ∈ {0,1}: server j hosts segment σ = (j, a, e) (only segments leaving ≥ 1 slot);
  Σ_{σ of j} y ≤ 1.
- Template DAG: nodes (j, e) "the chain leaves server j after block e", source s, sink t. Arcs
  s → (j, e) (b = e blocks), (i, e) → (j, e') for i ≠ j, e < e' (b = e' − e), (j, L) → t. An arc into
  j is kept only if some admissible segment (a ≤ e + 1, end e') has ≥ b slots. Arc time
  t_h = τ^c_j + τ^p_j b_h.
- Per chain slot k = 1..K̄: path ``z[k,h]`` ∈ {0,1} (flow conservation, Σ_{s-arcs} z = u_k),
  ``u[k]`` ∈ {0,1}; linking z[k,h] ≤ Σ_{σ admissible for h} y[σ].
- Rate: r_k ∈ [0, r̄], r_k ≤ r̄ u_k (needed for exactness), v[k,h] ≥ r_k − r̄(1 − z[k,h]), v ≥ 0 and
  Σ_h t_h v[k,h] ≤ 1 ⇔ r_k ≤ 1/T_k. r̄ = 1/T_min over the template DAG.
- Capacity c_k = Σ_b 2^b β[k,b]; p[k,b] ≤ r_k, p[k,b] ≤ r̄ β[k,b]; Σ 2^b p ≥ λ/ρ̄ ⇔ Σ c_k/T_k ≥ λ/ρ̄.
- Memory (slot units, floor with tolerance): q[k,h] ≥ c_k − c̄(1 − z[k,h]), q ≥ 0 and
  Σ_k Σ_{h into j} b_h q[k,h] ≤ Σ_{σ of j} S_σ y[σ] (exact: the chosen range's slots, 0 if unused).
- min Σ c_k; symmetry breaking c_k ≥ c_{k+1}, u_k ≤ c_k ≤ c̄ u_k.

K̄ = the greedy's job-server count (any feasible objective value bounds the number of distinct chains
with c ≥ 1), so the model is exact; c̄ = min(K̄, max slots). ``objective="throughput"``: max Σ 2^b p
with no rate row; K̄ = ⌊Σ_j max slots_j / L⌋ (every job server holds L slots in total).
The model grows as K̄·J²·L²: use it for tiny instances and as a cross-check of :mod:`.colgen`.
A full warm start (every variable) from the GBP-CR + GCA design is passed to the solver.
"""

from __future__ import annotations

import math

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.errors import InfeasibleInstance, UsageError
from chaincomp.formulations.common import GreedyStart, Segments, greedy_start, segments
from chaincomp.problem import Problem
from chaincomp.solvers import MilpModel, SolveResult, solve

MAX_COLUMNS = 400_000


def _arcs(problem: Problem, segs: Segments):
    """Template DAG arcs: (from_end e or −1 for source is e=0, to server j, to end e', blocks b, time)."""
    J, L = problem.num_servers, problem.num_blocks
    arcs = []  # (i or -1, e, j, e2, b, t, admissible segment ids)
    for j in range(J):
        for e2 in range(1, L + 1):
            for e in range(0, e2):
                b = e2 - e
                adm = [int(segs.index[j, a, e2]) for a in range(1, e + 2) if segs.index[j, a, e2] >= 0
                       and segs.slots[segs.index[j, a, e2]] >= b]
                if not adm:
                    continue
                t = float(problem.tau_comm_s[j] + problem.tau_comp_s[j] * b)
                if e == 0:
                    arcs.append((-1, 0, j, e2, b, t, adm))
                else:
                    for i in range(J):
                        if i != j:
                            arcs.append((i, e, j, e2, b, t, adm))
    return arcs


def _t_min(problem: Problem, arcs) -> float:
    L = problem.num_blocks
    best = {}  # node (j, e) -> min time from source
    for (i, e, j, e2, b, t, _) in sorted(arcs, key=lambda a: a[3]):
        pre = 0.0 if i < 0 else best.get((i, e), math.inf)
        if pre + t < best.get((j, e2), math.inf):
            best[(j, e2)] = pre + t
    ends = [v for (j, e), v in best.items() if e == L]
    return min(ends) if ends else math.inf


def build(problem: Problem, objective: str = "job-servers", start: GreedyStart | None = None, k_bar: int | None = None):
    """Build the model; returns (model, decode) with decode(values) → (placement, allocation, value)."""
    jobs = objective != "throughput"
    segs = segments(problem)
    arcs = _arcs(problem, segs)
    J, L = problem.num_servers, problem.num_blocks
    T_min = _t_min(problem, arcs)
    if not math.isfinite(T_min):
        raise InfeasibleInstance("no chain can cover blocks 1..L with at least one cache slot on every server")
    r_bar = 1.0 / T_min
    max_slots = np.zeros(J, np.int64)
    np.maximum.at(max_slots, segs.server, segs.slots)
    if k_bar is None:
        if jobs:
            if start is None:
                raise UsageError("the compact model needs K̄ (e.g. the greedy's job servers); none is feasible")
            k_bar = int(start.job_servers)
        else:
            k_bar = max(1, int(max_slots.sum()) // L)
    c_bar = int(min(k_bar if jobs else max_slots.max(), max_slots.max()))
    nb = max(1, int(math.floor(math.log2(c_bar))) + 1)
    H, K, S = len(arcs), k_bar, segs.count
    est = K * (3 * H + 3 + 2 * nb) + S
    if est > MAX_COLUMNS:
        raise UsageError(
            f"the compact §2.3 model would have ≈{est} columns (K̄ = {K}, {H} arcs); use formulation 'colgen'"
        )
    m = MilpModel("bpca_compact", "min" if jobs else "max")
    y = m.add_vars("y", S, ub=1, integer=True)
    z = m.add_vars("z", (K, H), ub=1, integer=True)
    zt = {}  # sink arcs per node (j, L): variable per k
    end_nodes = sorted({(j, e2) for (_, _, j, e2, *_r) in arcs if e2 == L})
    zt_idx = m.add_vars("z_sink", (K, len(end_nodes)), ub=1, integer=True)
    for n_i, node in enumerate(end_nodes):
        zt[node] = n_i
    u = m.add_vars("u", K, ub=1, integer=True)
    r = m.add_vars("r", K, ub=r_bar)
    v = m.add_vars("v", (K, H))
    pw = 2.0 ** np.arange(nb)
    beta = m.add_vars("beta", (K, nb), ub=1, integer=True, obj=np.tile(pw, (K, 1)) if jobs else 0.0)
    p = m.add_vars("p", (K, nb), ub=r_bar, obj=0.0 if jobs else np.tile(pw, (K, 1)))
    q = m.add_vars("q", (K, H))
    # one range per server
    m.add_rows("one_range", segs.server, y, 1.0, np.full(J, -np.inf), np.ones(J))
    # flow conservation per slot and node
    nodes = sorted({(j, e2) for (_, _, j, e2, *_r) in arcs})
    node_id = {n: i for i, n in enumerate(nodes)}
    rows, cols, vals = [], [], []
    src_rows, src_cols, src_vals = [], [], []
    for k in range(K):
        base = k * len(nodes)
        for h, (i, e, j, e2, b, t, adm) in enumerate(arcs):
            rows.append(base + node_id[(j, e2)]); cols.append(z[k, h]); vals.append(1.0)  # into (j,e2)
            if i >= 0:
                rows.append(base + node_id[(i, e)]); cols.append(z[k, h]); vals.append(-1.0)  # out of (i,e)
            else:
                src_rows.append(k); src_cols.append(z[k, h]); src_vals.append(1.0)
        for node, n_i in zt.items():
            rows.append(base + node_id[node]); cols.append(zt_idx[k, n_i]); vals.append(-1.0)
        src_rows.append(k); src_cols.append(u[k]); src_vals.append(-1.0)
    m.add_rows("flow", rows, cols, vals, np.zeros(K * len(nodes)), np.zeros(K * len(nodes)))
    m.add_rows("start", src_rows, src_cols, src_vals, np.zeros(K), np.zeros(K))
    # linking z ≤ Σ admissible y
    rows, cols, vals = [], [], []
    n = 0
    for k in range(K):
        for h, arc in enumerate(arcs):
            rows.append(n); cols.append(z[k, h]); vals.append(1.0)
            for s in arc[6]:
                rows.append(n); cols.append(y[s]); vals.append(-1.0)
            n += 1
    m.add_rows("link", rows, cols, vals, np.full(n, -np.inf), np.zeros(n))
    times = np.array([a[5] for a in arcs])
    blocks = np.array([a[4] for a in arcs], float)
    kk = np.repeat(np.arange(K), H)
    hh = np.tile(np.arange(H), K)
    ar = np.arange(K * H)
    # r_k ≤ r̄ u_k
    m.add_rows("rate_used", np.r_[np.arange(K), np.arange(K)], np.r_[r, u], np.r_[np.ones(K), -r_bar * np.ones(K)],
               np.full(K, -np.inf), np.zeros(K))
    # v ≥ r − r̄(1 − z)  ⇔  v − r − r̄ z ≥ −r̄
    m.add_rows("mccormick_v", np.r_[ar, ar, ar], np.r_[v.reshape(-1), r[kk], z.reshape(-1)],
               np.r_[np.ones(K * H), -np.ones(K * H), -r_bar * np.ones(K * H)], np.full(K * H, -r_bar), np.full(K * H, np.inf))
    # Σ_h t_h v ≤ 1
    m.add_rows("chain_time", kk, v.reshape(-1), times[hh], np.full(K, -np.inf), np.ones(K))
    # p ≤ r, p ≤ r̄ β
    kb = np.arange(K * nb)
    m.add_rows("p_le_r", np.r_[kb, kb], np.r_[p.reshape(-1), np.repeat(r, nb)], np.r_[np.ones(K * nb), -np.ones(K * nb)],
               np.full(K * nb, -np.inf), np.zeros(K * nb))
    m.add_rows("p_le_beta", np.r_[kb, kb], np.r_[p.reshape(-1), beta.reshape(-1)],
               np.r_[np.ones(K * nb), -r_bar * np.ones(K * nb)], np.full(K * nb, -np.inf), np.zeros(K * nb))
    if jobs:
        m.add_row("rate", p.reshape(-1), np.tile(pw, K), lower=problem.required_rate)
    # c_k = Σ 2^b β: q ≥ c − c̄(1 − z)  ⇔  q − Σ2^bβ − c̄ z ≥ −c̄
    rows = np.r_[ar, np.repeat(ar, nb), ar]
    cols = np.r_[q.reshape(-1), beta[kk].reshape(-1), z.reshape(-1)]
    vals = np.r_[np.ones(K * H), -np.tile(pw, K * H), -c_bar * np.ones(K * H)]
    m.add_rows("mccormick_q", rows, cols, vals, np.full(K * H, -float(c_bar)), np.full(K * H, np.inf))
    # memory per server: Σ b q (arcs into j) − Σ S y ≤ 0
    arc_server = np.array([a[2] for a in arcs])
    m.add_rows("memory", np.r_[arc_server[hh], segs.server], np.r_[q.reshape(-1), y],
               np.r_[blocks[hh], -segs.slots.astype(float)], np.full(J, -np.inf), np.zeros(J))
    # c_k ≥ u_k, c_k ≤ c̄ u_k, c_k ≥ c_{k+1}
    kb_rows = np.repeat(np.arange(K), nb)
    m.add_rows("c_ge_u", np.r_[kb_rows, np.arange(K)], np.r_[beta.reshape(-1), u], np.r_[np.tile(pw, K), -np.ones(K)],
               np.zeros(K), np.full(K, np.inf))
    m.add_rows("c_le_cbar_u", np.r_[kb_rows, np.arange(K)], np.r_[beta.reshape(-1), u],
               np.r_[np.tile(pw, K), -c_bar * np.ones(K)], np.full(K, -np.inf), np.zeros(K))
    if K > 1:
        rr = np.repeat(np.arange(K - 1), nb)
        m.add_rows("symmetry", np.r_[rr, rr], np.r_[beta[:-1].reshape(-1), beta[1:].reshape(-1)],
                   np.r_[np.tile(pw, K - 1), -np.tile(pw, K - 1)], np.zeros(K - 1), np.full(K - 1, np.inf))
        # the objective cap: Σ c ≤ K̄ (any better solution has fewer job servers)
    if jobs:
        m.add_row("objective_cap", beta.reshape(-1), np.tile(pw, K), upper=float(k_bar))
    arc_index = {(a[0], a[1], a[2], a[3]): h for h, a in enumerate(arcs)}

    def decode(values):
        yv = np.round(values[y]).astype(int)
        a_ = np.zeros(J, np.int64)
        m_ = np.zeros(J, np.int64)
        chains, caps = [], []
        for k in range(K):
            c = int(round(float(pw @ np.round(values[beta[k]]))))
            if c <= 0 or round(values[u[k]]) != 1:
                continue
            used_arcs = [arcs[h] for h in range(H) if values[z[k, h]] > 0.5]
            # walk from the source
            path, e, prev = [], 0, -1
            while e < L:
                nxt = [a for a in used_arcs if a[0] == prev and a[1] == e]
                if not nxt:
                    break
                arc = nxt[0]
                path.append((arc[2], arc[4]))
                prev, e = arc[2], arc[3]
            chains.append(Chain.build(problem, [s for s, _ in path], [b for _, b in path]))
            caps.append(c)
        for s in np.flatnonzero(yv == 1):
            j = int(segs.server[s])
            a_[j], m_[j] = segs.first[s], segs.length[s]
        used = {j for ch in chains for j in ch.servers}
        for j in range(J):
            if j not in used:
                a_[j] = m_[j] = 0
        al = Allocation(tuple(chains), tuple(caps))
        return Placement(a_, m_), al, (float(sum(caps)) if jobs else al.service_rate)

    if start is not None and jobs:
        x = np.zeros(m.num_cols)
        pl, al = start.placement, start.allocation
        if len(al.chains) <= K:
            for j in pl.used:
                x[y[int(segs.index[j, pl.first_block[j], pl.last_block[j]])]] = 1
            order = sorted(range(len(al.chains)), key=lambda k: -al.capacities[k])
            for k, ci in enumerate(order):
                ch, c = al.chains[ci], al.capacities[ci]
                x[u[k]] = 1
                rate = 1.0 / ch.service_time_s
                x[r[k]] = rate
                prev, e = -1, 0
                for j, b in zip(ch.servers, ch.blocks):
                    h = arc_index[(prev, e, j, e + b)]
                    x[z[k, h]] = 1
                    x[v[k, h]] = rate
                    x[q[k, h]] = c
                    prev, e = j, e + b
                x[zt_idx[k, zt[(prev, L)]]] = 1
                bits = [(c >> i) & 1 for i in range(nb)]
                x[beta[k]] = bits
                x[p[k]] = np.array(bits) * rate
            if m.violation(x) <= 1e-7:
                m.set_start(x)
    return m, decode


def solve_compact(problem: Problem, objective: str = "job-servers", solver: str = "highs",
                  start: GreedyStart | None = None, **options) -> tuple[Placement, Allocation, float, SolveResult]:
    start = start if start is not None else greedy_start(problem)
    model, decode = build(problem, objective, start)
    res = solve(model, solver, **options)
    if res.status == "infeasible":
        raise InfeasibleInstance("the exact model is infeasible: no placement reaches λ/ρ̄")
    if not res.has_solution:
        return None, None, None, res
    pl, al, val = decode(res.values)
    return pl, al, val, res
