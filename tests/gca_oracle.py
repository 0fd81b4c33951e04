"""Test oracle: the original GCA kernel (Alg. 2, SPEC §3.2), one full DAG shortest path per round.

This is the kernel chaincomp shipped before the incremental one
(:mod:`chaincomp.heuristics.gca_kernel`); it is kept verbatim so tests can check that the
incremental kernel returns the same chains, tie-breaking included. Servers sorted by last block
are a topological order; the predecessors of j with enough slots are the servers whose last block
lies in [max(a_j − 1, e_j − M_j), e_j − 1]. Ties: the dummy source first, then the first
predecessor in that order (smallest last block, then smallest index); among chain ends the
smallest index.
"""

from __future__ import annotations

import numba
import numpy as np

from chaincomp.core.allocation import Allocation, Chain


@numba.njit(cache=True)
def gca_kernel_reference(first, last, tau_c, tau_p, slots, L):  # pragma: no cover - compiled
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



def gca_reference(problem, placement) -> Allocation:
    """GCA with the original full-recomputation kernel and ``Chain.build`` (the old code path)."""
    used = placement.used
    last_all = placement.last_block
    order = used[np.lexsort((used, last_all[used]))]
    slots = problem.residual_slots(placement.num_blocks)[order].astype(np.int64)
    nodes, offsets, caps = gca_kernel_reference(
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
