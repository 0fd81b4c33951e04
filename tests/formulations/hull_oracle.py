"""Reference kernel for the completion hulls (the pricing's kernel before issue 10's incremental
version in :mod:`chaincomp.formulations.completion_hulls`): hulls all translated points at once.
Test oracle only."""

from __future__ import annotations

import numpy as np


def completion_hulls_reference(price, tau_c, tau_p, bmax, tmin, pmin, J, L, width):
    """Per block e, points Q(e) with every relaxed completion (t, p) from e in conv(Q(e)) + R²₊.

    Q(e) is the lower-left convex hull of ∪_hops (hop + Q(e2)) (Andrew's monotone chain). When it
    would exceed ``width`` points it is replaced by the single corner (tmin(e), pmin(e)), which still
    satisfies the inclusion. min_{q∈Q(e)} f(q) then bounds min f over completions for every f that
    is concave and non-decreasing in (t, p), such as p − w/(T + t).
    """
    qt = np.zeros((L + 1, width))
    qp = np.zeros((L + 1, width))
    qn = np.zeros(L + 1, np.int64)
    qn[L] = 1
    cap = 0
    for j in range(J):
        cap += bmax[j]
    ct = np.empty(cap * width)
    cp = np.empty(cap * width)
    for e in range(L - 1, -1, -1):
        if tmin[e] == np.inf:
            continue
        n = 0
        for j in range(J):
            for b in range(1, min(bmax[j], L - e) + 1):
                e2 = e + b
                p = price[j, e, e2]
                if p == np.inf or qn[e2] == 0:
                    continue
                t = tau_c[j] + tau_p[j] * b
                for k in range(qn[e2]):
                    ct[n] = t + qt[e2, k]
                    cp[n] = p + qp[e2, k]
                    n += 1
        order = np.argsort(ct[:n])
        m = 0
        ht = np.empty(n)
        hp = np.empty(n)
        i = 0
        while i < n:
            # among equal t keep the smallest p
            t = ct[order[i]]
            p = cp[order[i]]
            i2 = i + 1
            while i2 < n and ct[order[i2]] == t:
                if cp[order[i2]] < p:
                    p = cp[order[i2]]
                i2 += 1
            i = i2
            if m > 0 and p >= hp[m - 1]:
                continue  # dominated: later (larger t) and not cheaper
            while m >= 2 and (ht[m - 1] - ht[m - 2]) * (p - hp[m - 2]) - (hp[m - 1] - hp[m - 2]) * (t - ht[m - 2]) <= 0:
                m -= 1
            ht[m] = t
            hp[m] = p
            m += 1
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
