"""Kernel for Algorithm 2 (GCA, SPEC §3.2) whose rounds cost O(L²), not O(|ℰ|).

GCA's rounds are DAG shortest paths over the servers sorted by last block e_j (a topological
order); between rounds only the slots M_j of the chain's servers decrease. Recomputing every
server's distance each round costs O(|ℰ|) ∝ J²/L per round and O(J³/L) in all — and any method
that keeps every server's distance up to date pays Ω(J) per round, because most servers' best
paths run through the few servers of the chain just removed.

This kernel never stores per-server distances. It works on *groups* — the servers with the same
last block e — because every server u of group e' costs a server v the same edge weight
w_v(e') = τ^c_v + τ^p_v (e_v − e'), and edges (u, v) exist iff e' lies in
[max(a_v − 1, e_v − M_v, 1), e_v − 1]. With G[e] = the shortest distance to any server of group
e, and by monotonicity of rounded addition (x ≤ y ⇒ fl(x + w) ≤ fl(y + w)):

    G[e] = min( S[e],  min_{e' < e} fl(G[e'] + W[e', e]) )

where S[e] is the smallest source cost τ^c_v + τ^p_v e over servers of group e with a_v = 1 and
M_v ≥ e, and W[e', e] the smallest w_v(e') over servers v of group e whose current edge set
contains group e'. Both are kept as *sorted lists with a moving front*: the lists are built once
(sorted by weight), an entry becomes invalid only when M_v drops (M_v only decreases), so the
front pointer only moves forward — O(Σ_v m_v) pointer moves over the whole run. A round is then
a DP over L groups (O(L²), from the first changed group on), plus the chain walk.

The chain is exactly the original kernel's (kept as the oracle in ``tests/gca_oracle.py``): the
end is the smallest-index server of group L with distance G[L]; a server v's predecessor is the
dummy source if its source cost equals its distance, else — scanning groups e' in increasing
order — the first group with fl(G[e'] + w_v(e')) equal to v's distance, and in it the
smallest-index server u with fl(dist_u + w_v(e')) ≤ that distance. Such u are found without
knowing dist_u for every u: dist_u ≤ D holds iff one of u's options (its source cost, or
fl(G[e''] + w_u(e'')) for a valid e'') satisfies the rounded test, and per list these are a
prefix from the front (monotonicity again), usually of length one. Distances and T_k are
computed with the original kernel's expressions, so chains, capacities and T_k are bit-identical.
"""

from __future__ import annotations

import numba
import numpy as np

_INF = np.inf


@numba.njit(cache=True)
def _lo_end(first_v, ev, Mv):  # pragma: no cover - compiled
    lo = first_v - 1
    if ev - Mv > lo:
        lo = ev - Mv
    if lo < 1:
        lo = 1
    return lo


@numba.njit(cache=True)
def _first_member(g, w, target, ng, gval, G, W, ptr, bend, ent_v, ent_w, sptr, send, src_v, src_w, M):  # pragma: no cover
    """Smallest position u in group g with fl(dist_u + w) ≤ target (len(M) if none)."""
    best = M.size
    e = gval[g]
    s = sptr[g]
    while s < send[g]:
        if src_w[s] + w > target:
            break
        u = src_v[s]
        if M[u] >= e and u < best:
            best = u
        s += 1
    for gp in range(g):
        pid = gp * ng + g
        if W[pid] == _INF or G[gp] == _INF:
            continue
        x = G[gp]
        if (x + W[pid]) + w > target:
            continue
        k = ptr[pid]
        need = e - gval[gp]
        while k < bend[pid]:
            if (x + ent_w[k]) + w > target:
                break
            u = ent_v[k]
            if M[u] >= need and u < best:
                best = u
            k += 1
    return best


@numba.njit(cache=True)
def _dist(v, first, last, tau_c, tau_p, M, G, gval, gfirst):  # pragma: no cover - compiled
    """Server v's shortest distance, with the original kernel's expressions."""
    ev = last[v]
    tcv = tau_c[v]
    tpv = tau_p[v]
    d = _INF
    if first[v] == 1 and M[v] >= ev:
        d = tcv + tpv * ev
    for gp in range(gfirst[_lo_end(first[v], ev, M[v])], gfirst[ev]):
        if G[gp] == _INF:
            continue
        cand = G[gp] + (tcv + tpv * (ev - gval[gp]))
        if cand < d:
            d = cand
    return d


@numba.njit(cache=True)
def _advance(pid, need_at, ptr, bend, ent_v, ent_w, M, W):  # pragma: no cover - compiled
    """Move list pid's front past entries whose server no longer has ``need_at`` slots."""
    k = ptr[pid]
    while k < bend[pid] and M[ent_v[k]] < need_at:
        k += 1
    ptr[pid] = k
    W[pid] = ent_w[k] if k < bend[pid] else _INF


@numba.njit(cache=True)
def gca_grouped(first, last, tau_c, tau_p, slots, L):  # pragma: no cover - compiled
    """Rounds of Alg. 2 over servers sorted by (last block, server index).

    Returns (flat path positions, offsets, capacities, service times T_k); chain k is
    ``nodes[offsets[k]:offsets[k+1]]`` and T_k its distance, summed hop by hop as Eq. 2 is.
    Groups are the distinct last blocks present (``gval``, ascending); ``gfirst[e]`` is the first
    group whose last block is ≥ e.
    """
    n = first.size
    M = slots.copy()
    ng = 0
    for v in range(n):
        if v == 0 or last[v] != last[v - 1]:
            ng += 1
    gval = np.empty(ng, dtype=np.int64)
    gstart = np.empty(ng + 1, dtype=np.int64)
    g = -1
    for v in range(n):
        if v == 0 or last[v] != last[v - 1]:
            g += 1
            gval[g] = last[v]
            gstart[g] = v
    gstart[ng] = n
    gfirst = np.zeros(L + 2, dtype=np.int64)
    g = 0
    for e in range(L + 2):
        while g < ng and gval[g] < e:
            g += 1
        gfirst[e] = g
    gof = np.empty(n, dtype=np.int64)
    for g in range(ng):
        for v in range(gstart[g], gstart[g + 1]):
            gof[v] = g
    npairs = ng * ng
    # ---- weight lists per (group', group) pair, sorted by weight -----------------------------
    bstart = np.zeros(npairs + 1, dtype=np.int64)
    for v in range(n):
        ev = last[v]
        g = gof[v]
        for gp in range(gfirst[_lo_end(first[v], ev, M[v])], g):
            bstart[gp * ng + g + 1] += 1
    for i in range(npairs):
        bstart[i + 1] += bstart[i]
    total = bstart[npairs]
    ent_v = np.empty(total, dtype=np.int64)
    ent_w = np.empty(total)
    fill = bstart[:npairs].copy()
    for v in range(n):
        ev = last[v]
        g = gof[v]
        tcv = tau_c[v]
        tpv = tau_p[v]
        for gp in range(gfirst[_lo_end(first[v], ev, M[v])], g):
            pid = gp * ng + g
            k = fill[pid]
            ent_v[k] = v
            ent_w[k] = tcv + tpv * (ev - gval[gp])
            fill[pid] = k + 1
    ptr = bstart[:npairs].copy()
    bend = bstart[1:].copy()
    W = np.full(npairs, _INF)
    for pid in range(npairs):
        a = ptr[pid]
        b = bend[pid]
        if b - a > 1:
            o = np.argsort(ent_w[a:b])
            ent_v[a:b] = ent_v[a:b][o]
            ent_w[a:b] = ent_w[a:b][o]
        if b > a:
            W[pid] = ent_w[a]
    # ---- source lists per group ----------------------------------------------------------------
    send = np.zeros(ng + 1, dtype=np.int64)
    for v in range(n):
        if first[v] == 1 and M[v] >= last[v]:
            send[gof[v] + 1] += 1
    for g in range(ng):
        send[g + 1] += send[g]
    sptr = send[:ng].copy()
    src_v = np.empty(send[ng], dtype=np.int64)
    src_w = np.empty(send[ng])
    sfill = sptr.copy()
    for v in range(n):
        ev = last[v]
        if first[v] == 1 and M[v] >= ev:
            k = sfill[gof[v]]
            src_v[k] = v
            src_w[k] = tau_c[v] + tau_p[v] * ev
            sfill[gof[v]] = k + 1
    send = send[1:].copy()
    S = np.full(ng, _INF)
    for g in range(ng):
        a = sptr[g]
        b = send[g]
        if b - a > 1:
            o = np.argsort(src_w[a:b])
            src_v[a:b] = src_v[a:b][o]
            src_w[a:b] = src_w[a:b][o]
        if b > a:
            S[g] = src_w[a]

    G = np.full(ng, _INF)
    path = np.empty(L + 1, dtype=np.int64)
    cap_rounds = 64
    out_nodes = np.empty(cap_rounds * 4, dtype=np.int64)
    out_off = np.zeros(cap_rounds + 1, dtype=np.int64)
    out_cap = np.empty(cap_rounds, dtype=np.int64)
    out_t = np.empty(cap_rounds)
    rounds = 0
    gend = ng - 1  # chains end in the group of last block L, if there is one
    gmin = 0
    while ng > 0 and gval[gend] == L:
        # ---- group DP from the first group that changed ----------------------------------------
        for g in range(gmin, ng):
            best = S[g]
            for gp in range(g):
                wv = W[gp * ng + g]
                if wv == _INF or G[gp] == _INF:
                    continue
                cand = G[gp] + wv
                if cand < best:
                    best = cand
            G[g] = best
        if G[gend] == _INF:
            break
        # ---- the chain, exactly as the original kernel's predecessor pointers give it -----------
        v = _first_member(gend, 0.0, G[gend], ng, gval, G, W, ptr, bend, ent_v, ent_w, sptr, send, src_v, src_w, M)
        dv = G[gend]
        hops = 0
        while True:
            path[hops] = v
            hops += 1
            ev = last[v]
            tcv = tau_c[v]
            tpv = tau_p[v]
            if first[v] == 1 and M[v] >= ev and tcv + tpv * ev == dv:
                break
            u = -1
            for gp in range(gfirst[_lo_end(first[v], ev, M[v])], gof[v]):
                if G[gp] == _INF:
                    continue
                w = tcv + tpv * (ev - gval[gp])
                if G[gp] + w == dv:
                    u = _first_member(gp, w, dv, ng, gval, G, W, ptr, bend, ent_v, ent_w, sptr, send, src_v, src_w, M)
                    break
            v = u
            dv = _dist(v, first, last, tau_c, tau_p, M, G, gval, gfirst)
        # path holds end → start; capacity and slot deduction (Alg. 2)
        cap = np.int64(1) << 62
        for h in range(hops):
            v = path[h]
            m_uv = last[v] - (0 if h == hops - 1 else last[path[h + 1]])
            c_here = M[v] // m_uv
            if c_here < cap:
                cap = c_here
        if rounds == cap_rounds:
            cap_rounds *= 2
            out_off = np.concatenate((out_off, np.zeros(cap_rounds + 1 - out_off.size, dtype=np.int64)))
            out_cap = np.concatenate((out_cap, np.empty(cap_rounds - out_cap.size, dtype=np.int64)))
            out_t = np.concatenate((out_t, np.empty(cap_rounds - out_t.size)))
        start = out_off[rounds]
        if start + hops > out_nodes.size:
            out_nodes = np.concatenate((out_nodes, np.empty(max(out_nodes.size, hops), dtype=np.int64)))
        out_t[rounds] = G[gend]
        gmin = ng
        for h in range(hops):
            v = path[h]
            ev = last[v]
            g = gof[v]
            m_uv = ev - (0 if h == hops - 1 else last[path[h + 1]])
            lo_old = _lo_end(first[v], ev, M[v])
            src_old = first[v] == 1 and M[v] >= ev
            M[v] -= m_uv * cap
            lo_new = _lo_end(first[v], ev, M[v])
            for gp in range(gfirst[lo_old], gfirst[min(lo_new, ev)]):
                pid = gp * ng + g
                if ptr[pid] < bend[pid] and ent_v[ptr[pid]] == v:
                    _advance(pid, ev - gval[gp], ptr, bend, ent_v, ent_w, M, W)
                    if g < gmin:
                        gmin = g
            if src_old and M[v] < ev:
                s = sptr[g]
                while s < send[g] and M[src_v[s]] < ev:
                    s += 1
                if s != sptr[g]:
                    sptr[g] = s
                    S[g] = src_w[s] if s < send[g] else _INF
                    if g < gmin:
                        gmin = g
            out_nodes[start + hops - 1 - h] = v
        out_off[rounds + 1] = start + hops
        out_cap[rounds] = cap
        rounds += 1
    return out_nodes[: out_off[rounds]], out_off[: rounds + 1], out_cap[:rounds], out_t[:rounds]


@numba.njit(cache=True)
def gca_on_placement(first_block, num_blocks, slots, tau_c, tau_p, L):  # pragma: no cover - compiled
    """Sort the used servers by (last block, index) — a stable counting sort — run
    :func:`gca_grouped` and map its output back to server indices.

    Returns (servers, blocks per hop, offsets, capacities, T_k) for chains in the order found,
    which is non-decreasing in T_k (distances only grow as edges are removed).
    """
    J = first_block.size
    count = np.zeros(L + 2, dtype=np.int64)
    for j in range(J):
        if num_blocks[j] > 0:
            count[first_block[j] + num_blocks[j] - 1 + 1] += 1
    for e in range(L + 1):
        count[e + 1] += count[e]
    n = count[L + 1]
    order = np.empty(n, dtype=np.int64)
    for j in range(J):
        if num_blocks[j] > 0:
            e = first_block[j] + num_blocks[j] - 1
            order[count[e]] = j
            count[e] += 1
    first = np.empty(n, dtype=np.int64)
    last = np.empty(n, dtype=np.int64)
    tc = np.empty(n)
    tp = np.empty(n)
    sl = np.empty(n, dtype=np.int64)
    for i in range(n):
        j = order[i]
        first[i] = first_block[j]
        last[i] = first_block[j] + num_blocks[j] - 1
        tc[i] = tau_c[j]
        tp[i] = tau_p[j]
        sl[i] = slots[j]
    nodes, offsets, caps, times = gca_grouped(first, last, tc, tp, sl, L)
    servers = np.empty(nodes.size, dtype=np.int32)  # int32: the sweep keeps these for every c
    blocks = np.empty(nodes.size, dtype=np.int32)
    for k in range(caps.size):
        prev = 0
        for h in range(offsets[k], offsets[k + 1]):
            servers[h] = order[nodes[h]]
            blocks[h] = last[nodes[h]] - prev
            prev = last[nodes[h]]
    return servers, blocks, offsets, caps, times
