"""Completion hulls of the hop graph (:mod:`.pricing`): per block e, a point set Q(e) such that every
relaxed completion (time t, price p) of a chain from block e to block L lies in conv(Q(e)) + R²₊.

Q(e) is the lower-left convex hull of ∪_hops (hop + Q(e2)) over the hops (j, e → e2). They bound the
exact pricing search (a partial chain can be cut when no completion can make its reduced cost
negative) and give the relaxed minimum reduced cost, a valid bound on the elementary one.

The kernel builds each Q(e) incrementally: hops are visited best corner first, where the corner
(t_h + tmin(e2), p_h + pmin(e2)) of a hop is component-wise below every point it contributes; a hop
whose corner already lies in conv(H) + R²₊ of the hull H built so far contributes nothing and is
skipped, otherwise H is merged with the hop's (sorted) translated hull in linear time (Andrew's
monotone chain on already sorted input). The result is the same region as hulling all points at
once (the reference kernel in ``tests/formulations/hull_oracle.py``, compared on random hop graphs),
at a fraction of the cost: most hops are dominated, and nothing is sorted but the hops' corners.
Measured: ``benchmarks/bench_pricing.py``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _hull_of_sorted(t_in, p_in, n, t_out, p_out):  # pragma: no cover - numba
    """Lower-left convex hull of n points sorted by t (ties: any order); returns the vertex count.

    Keeps, among equal t, the smallest p; drops points not cheaper than the previous vertex
    (larger t, no smaller p); pops non-convex (or collinear) middle vertices."""
    m = 0
    i = 0
    while i < n:
        t = t_in[i]
        p = p_in[i]
        i2 = i + 1
        while i2 < n and t_in[i2] == t:
            if p_in[i2] < p:
                p = p_in[i2]
            i2 += 1
        i = i2
        if m > 0 and p >= p_out[m - 1]:
            continue
        while m >= 2 and (t_out[m - 1] - t_out[m - 2]) * (p - p_out[m - 2]) - (p_out[m - 1] - p_out[m - 2]) * (t - t_out[m - 2]) <= 0:
            m -= 1
        t_out[m] = t
        p_out[m] = p
        m += 1
    return m


@numba.njit(cache=True)
def _dominated(t, p, ht, hp, m):  # pragma: no cover - numba
    """Is (t, p) in conv(H) + R²₊ for the lower-left hull H (m vertices, t increasing, p decreasing)?"""
    if m == 0 or t < ht[0]:
        return False
    if t >= ht[m - 1]:
        return p >= hp[m - 1]
    lo, hi = 0, m - 1  # ht[lo] ≤ t < ht[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ht[mid] <= t:
            lo = mid
        else:
            hi = mid
    f = hp[lo] + (hp[hi] - hp[lo]) * (t - ht[lo]) / (ht[hi] - ht[lo])
    return p >= f


@numba.njit(cache=True)
def completion_hulls(price, tau_c, tau_p, bmax, tmin, pmin, J, L, width):  # pragma: no cover - numba
    """(qt, qp, qn): Q(e) = the first qn[e] points of qt[e], qp[e] (t increasing); see the module
    docstring. When a hull would exceed ``width`` points it is replaced by the single corner
    (tmin(e), pmin(e)), which still satisfies the inclusion."""
    qt = np.zeros((L + 1, width))
    qp = np.zeros((L + 1, width))
    qn = np.zeros(L + 1, np.int64)
    qn[L] = 1
    cap = 0
    for j in range(J):
        cap += bmax[j]
    size = cap * width + 1
    ht = np.empty(size)
    hp = np.empty(size)
    mt = np.empty(size)
    mp = np.empty(size)
    hop_t = np.empty(cap)
    hop_p = np.empty(cap)
    hop_e2 = np.empty(cap, np.int64)
    key = np.empty(cap)
    for e in range(L - 1, -1, -1):
        if tmin[e] == np.inf:
            continue
        nh = 0
        for j in range(J):
            for b in range(1, min(bmax[j], L - e) + 1):
                e2 = e + b
                p = price[j, e, e2]
                if p == np.inf or qn[e2] == 0:
                    continue
                hop_t[nh] = tau_c[j] + tau_p[j] * b
                hop_p[nh] = p
                hop_e2[nh] = e2
                nh += 1
        if nh == 0:
            continue
        # visit order: corners by a normalised sum (both extremes of the hull come early)
        ts = max(tmin[e], 1e-12)
        ps = max(abs(pmin[e]), 1e-12)
        for h in range(nh):
            key[h] = (hop_t[h] + tmin[hop_e2[h]]) / ts + (hop_p[h] + pmin[hop_e2[h]]) / ps
        order = np.argsort(key[:nh])
        m = 0
        for r in range(nh):
            h = order[r]
            e2 = hop_e2[h]
            t0 = hop_t[h]
            p0 = hop_p[h]
            if _dominated(t0 + tmin[e2], p0 + pmin[e2], ht, hp, m):
                continue
            # merge H (sorted) with the translated Q(e2) (sorted), then re-hull
            k2 = qn[e2]
            a = 0
            c = 0
            n = 0
            while a < m or c < k2:
                if c >= k2 or (a < m and ht[a] <= t0 + qt[e2, c]):
                    mt[n] = ht[a]
                    mp[n] = hp[a]
                    a += 1
                else:
                    mt[n] = t0 + qt[e2, c]
                    mp[n] = p0 + qp[e2, c]
                    c += 1
                n += 1
            m = _hull_of_sorted(mt, mp, n, ht, hp)
        if m > width:
            qt[e, 0] = tmin[e]
            qp[e, 0] = pmin[e]
            qn[e] = 1
        else:
            for k in range(m):
                qt[e, k] = ht[k]
                qp[e, k] = hp[k]
            qn[e] = m
    return qt, qp, qn
