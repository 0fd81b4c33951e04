"""Straightforward reference implementations written directly from the paper's pseudocode
(SPEC §3.1, §3.2), deliberately naive: explicit edge sets, no sorting tricks, no compiled kernels.
They exist only to check the optimized implementations in the package.
"""

from __future__ import annotations

import math


def ref_gbp_cr(M, tau_c, tau_p, L, s_m, s_c, lam, rho, c):
    """Return (first_blocks, num_blocks, K, feasible) following Algorithm 1 literally."""
    J = len(M)
    m_c = [min(math.floor(M[j] / (s_m + s_c * c) + 1e-9), L) for j in range(J)]
    t_c = [tau_c[j] + tau_p[j] * m_c[j] for j in range(J)]
    amort = [t_c[j] / m_c[j] if m_c[j] > 0 else math.inf for j in range(J)]
    order = sorted(range(J), key=lambda j: amort[j])  # Python's sort is stable
    a_out, m_out = [0] * J, [0] * J
    a, nu, T, K = 1, 0.0, 0.0, 0
    for j in order:
        if m_c[j] == 0:
            continue
        a_out[j] = min(a, L - m_c[j] + 1)
        m_out[j] = m_c[j]
        T += t_c[j]
        a = min(a + m_c[j] - 1, L) + 1
        if a > L:
            nu += 1 / T
            K += 1
            if nu >= lam / (rho * c):
                return a_out, m_out, K, True
            a, T = 1, 0.0
    return a_out, m_out, K, False


def ref_gca(first, count, M, tau_c, tau_p, L, s_m, s_c):
    """Algorithm 2 literally: explicit edge set, DAG shortest path by repeated relaxation.

    Returns a list of (servers tuple, blocks tuple, T, capacity) in the order found.
    """
    J = len(M)
    used = [j for j in range(J) if count[j] > 0]
    end = {j: first[j] + count[j] - 1 for j in used}
    SRC, SNK = "src", "snk"
    end[SRC] = 0
    slots = {j: math.floor((M[j] - s_m * count[j]) / s_c + 1e-9) for j in used}

    def m_ij(i, j):
        return end[j] - end[i]

    edges = set()
    for j in used:
        if first[j] == 1:
            edges.add((SRC, j))
        if end[j] == L:
            edges.add((j, SNK))
        for i in used:
            if i != j and first[j] <= end[i] + 1 <= end[j]:
                edges.add((i, j))
    edges = {(i, j) for (i, j) in edges if j == SNK or slots[j] >= m_ij(i, j)}
    chains = []
    nodes = [SRC] + sorted(used, key=lambda j: end[j]) + [SNK]
    while True:
        dist = {SRC: 0.0}
        pred = {}
        for v in nodes[1:]:
            best, bp = math.inf, None
            for u in nodes:
                if (u, v) in edges and u in dist:
                    w = 0.0 if v == SNK else tau_c[v] + tau_p[v] * m_ij(u, v)
                    if dist[u] + w < best:
                        best, bp = dist[u] + w, u
            if bp is not None:
                dist[v], pred[v] = best, bp
        if SNK not in dist:
            return chains
        path = []
        v = pred[SNK]
        while v != SRC:
            path.append(v)
            v = pred[v]
        path.reverse()
        prevs = [SRC] + path[:-1]
        blocks = [m_ij(u, v) for u, v in zip(prevs, path)]
        cap = min(slots[v] // b for v, b in zip(path, blocks))
        for v, b in zip(path, blocks):
            slots[v] -= b * cap
        edges = {(i, j) for (i, j) in edges if j == SNK or slots[j] >= m_ij(i, j)}
        T = sum(tau_c[v] + tau_p[v] * b for v, b in zip(path, blocks))
        chains.append((tuple(path), tuple(blocks), T, cap))
