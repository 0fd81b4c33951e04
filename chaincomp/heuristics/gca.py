"""Algorithm 2 — GCA: Greedy Cache Allocation for any placement (SPEC §3.2).

    M_j ← M̃_j;  edges ← {(i,j) ∈ ℰ_{a,m} : M_j ≥ m_ij}
    while j₀ reaches j_{J+1}:
        k ← shortest j₀→j_{J+1} path, edge cost τ^c_j + τ^p_j m_ij
        c_k ← min over real j on k of ⌊M_j / m_ij⌋
        M_j ← M_j − m_ij c_k on k
        remove every edge (i,j) with M_j < m_ij (all such edges, not only those on k)

Because M_j only decreases, "edge (i,j) not yet removed" is exactly "M_j ≥ m_ij" with the current
M_j, so the kernel never stores the edge set. Servers sorted by last block e_j are a topological
order, and the predecessors of j with enough slots are the servers whose last block lies in
[max(a_j − 1, e_j − M_j), e_j − 1] — a contiguous range of that order. Each round is one DAG
shortest path, O(|ℰ|), with no heap.

Tie-breaking (documented because equal-time chains are common in constructed instances): among
equal-cost predecessors the dummy source wins, then the predecessor with the smallest last block,
then the smallest server index; among equal-cost chain ends the smallest server index wins.

Kernel choice: the rounds loop runs in a numba-compiled kernel. A straightforward Python version
took 13.7 s for one GCA at J = 400; the compiled kernel takes milliseconds (benchmarks/bench_pipeline.py).
"""

from __future__ import annotations

import numba
import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.problem import Problem


@numba.njit(cache=True)
def _gca_kernel(first, last, tau_c, tau_p, slots, L):  # pragma: no cover - compiled
    """Rounds of Alg. 2 over nodes sorted by last block. Returns (flat path nodes, offsets, caps)."""
    n = first.size
    # pos_by_end[e] = first position in the sorted order whose last block is ≥ e (e = 0..L+1)
    pos_by_end = np.zeros(L + 2, dtype=np.int64)
    p = 0
    for e in range(L + 2):
        while p < n and last[p] < e:
            p += 1
        pos_by_end[e] = p
    M = slots.copy()
    dist = np.empty(n)
    pred = np.empty(n, dtype=np.int64)  # −1: from source, −2: unreachable
    cap_rounds = 64
    out_nodes = np.empty(cap_rounds * 4, dtype=np.int64)
    out_off = np.zeros(cap_rounds + 1, dtype=np.int64)
    out_cap = np.empty(cap_rounds, dtype=np.int64)
    rounds = 0
    while True:
        for v in range(n):
            ev = last[v]
            best = np.inf
            bp = -2
            if first[v] == 1 and M[v] >= ev:
                best = tau_c[v] + tau_p[v] * ev
                bp = -1
            lo_end = first[v] - 1
            if ev - M[v] > lo_end:
                lo_end = ev - M[v]
            if lo_end < 1:
                lo_end = 1
            for u in range(pos_by_end[lo_end], pos_by_end[ev]):
                if pred[u] == -2:
                    continue
                cand = dist[u] + (tau_c[v] + tau_p[v] * (ev - last[u]))
                if cand < best:
                    best = cand
                    bp = u
            dist[v] = best
            pred[v] = bp
        best_end = -1
        best_t = np.inf
        for v in range(pos_by_end[L], n):
            if pred[v] != -2 and dist[v] < best_t:
                best_t = dist[v]
                best_end = v
        if best_end < 0:
            break
        # walk back, compute capacity
        hops = 0
        v = best_end
        cap = np.int64(1) << 62
        while v >= 0:
            u = pred[v]
            m_uv = last[v] - (0 if u < 0 else last[u])
            c_here = M[v] // m_uv
            if c_here < cap:
                cap = c_here
            hops += 1
            v = u
        if rounds == cap_rounds:
            cap_rounds *= 2
            out_off = np.concatenate((out_off, np.zeros(cap_rounds + 1 - out_off.size, dtype=np.int64)))
            out_cap = np.concatenate((out_cap, np.empty(cap_rounds - out_cap.size, dtype=np.int64)))
        start = out_off[rounds]
        if start + hops > out_nodes.size:
            out_nodes = np.concatenate((out_nodes, np.empty(max(out_nodes.size, hops), dtype=np.int64)))
        v = best_end
        k = hops - 1
        while v >= 0:
            u = pred[v]
            m_uv = last[v] - (0 if u < 0 else last[u])
            M[v] -= m_uv * cap
            out_nodes[start + k] = v
            k -= 1
            v = u
        out_off[rounds + 1] = start + hops
        out_cap[rounds] = cap
        rounds += 1
    return out_nodes[: out_off[rounds]], out_off[: rounds + 1], out_cap[:rounds]


def gca(problem: Problem, placement: Placement) -> Allocation:
    """Run Algorithm 2 on ``placement``; chains are returned fastest first with capacities c_k."""
    used = placement.used
    last_all = placement.last_block
    order = used[np.lexsort((used, last_all[used]))]  # by last block, then server index
    slots = problem.residual_slots(placement.num_blocks)[order].astype(np.int64)
    from chaincomp.core.jit import pick, use_compiled  # tiny: pure Python, no compilation (core/jit.py)

    kernel = pick(_gca_kernel, use_compiled(int(order.size) * int(problem.num_blocks)))
    nodes, offsets, caps = kernel(
        placement.first_block[order].astype(np.int64),
        last_all[order].astype(np.int64),
        np.ascontiguousarray(problem.tau_comm_s[order]),
        np.ascontiguousarray(problem.tau_comp_s[order]),
        slots,
        int(problem.num_blocks),
    )
    chains = []
    last_sorted = last_all[order]
    for k in range(len(caps)):
        path = nodes[offsets[k] : offsets[k + 1]]
        ends = last_sorted[path]
        blocks = np.diff(np.concatenate(([0], ends)))
        chains.append(Chain.build(problem, order[path], blocks))
    return Allocation(tuple(chains), tuple(int(c) for c in caps))
