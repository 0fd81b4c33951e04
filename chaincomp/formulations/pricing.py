"""Pricing for the segment/chain extended formulation (see :mod:`.colgen`).

Nodes are segments σ = (j, a, e). A chain is a sequence of segments whose servers differ from their
predecessor's, with a_σ ≤ e_prev + 1 ≤ e_σ (the chain rule); the hop into σ processes
b = e_σ − e_prev blocks, costs time τ^c_j + τ^p_j b and b slots of σ; it is only allowed when
b ≤ S_σ (otherwise no integer capacity ≥ 1 fits). Chains start with e_prev = 0 and end at e = L.

:func:`shortest` minimises θ·T + Σ π_σ b over chains (a DAG dynamic programme over the last block,
keeping the two best labels per last block with different servers so that a hop never repeats the
previous server). A non-consecutive repeat of a server is not excluded here; such chains are valid
LP columns of a relaxation (they cannot carry integer capacity) and are dropped before any integer
model is built.
"""

from __future__ import annotations

import time

import numba
import numpy as np

from chaincomp.solvers.base import STOP


@numba.njit(cache=True)
def _shortest(seg_server, seg_first, seg_last, seg_slots, seg_pi, by_end_start, by_end_order, tau_c, tau_p, theta, L):  # pragma: no cover
    nseg = seg_server.size
    dist = np.full(nseg, np.inf)
    pred = np.full(nseg, -2, np.int64)  # −1: from the source
    # best two labels per end block e (different servers): value, segment
    b1v = np.full(L + 1, np.inf)
    b1s = np.full(L + 1, -2, np.int64)
    b1j = np.full(L + 1, -3, np.int64)
    b2v = np.full(L + 1, np.inf)
    b2s = np.full(L + 1, -2, np.int64)
    b1v[0] = 0.0
    b1s[0] = -1
    b1j[0] = -1
    for e in range(1, L + 1):
        for t in range(by_end_start[e], by_end_start[e + 1]):
            s = by_end_order[t]
            j = seg_server[s]
            a = seg_first[s]
            w = theta * tau_p[j] + seg_pi[s]
            best = np.inf
            bp = -2
            lo = a - 1
            if e - seg_slots[s] > lo:
                lo = e - seg_slots[s]
            for ep in range(lo, e):
                if b1j[ep] != j:
                    v = b1v[ep]
                    ps = b1s[ep]
                else:
                    v = b2v[ep]
                    ps = b2s[ep]
                if v == np.inf:
                    continue
                c = v + w * (e - ep)
                if c < best:
                    best = c
                    bp = ps
            if bp != -2:
                best += theta * tau_c[j]
                dist[s] = best
                pred[s] = bp
                if best < b1v[e]:
                    if b1j[e] != j:
                        b2v[e] = b1v[e]
                        b2s[e] = b1s[e]
                    b1v[e] = best
                    b1s[e] = s
                    b1j[e] = j
                elif best < b2v[e] and b1j[e] != j:
                    b2v[e] = best
                    b2s[e] = s
    return dist, pred


class Pricer:
    """Holds the segment arrays; :meth:`shortest` returns the best chain for one θ."""

    def __init__(self, problem, segs) -> None:
        self.problem = problem
        self.segs = segs
        L = problem.num_blocks
        order = np.argsort(segs.last, kind="stable")
        counts = np.bincount(segs.last, minlength=L + 2)
        self.by_end_order = order.astype(np.int64)
        self.by_end_start = np.concatenate(([0], np.cumsum(counts)))[: L + 2].astype(np.int64)
        self.tau_c = np.ascontiguousarray(problem.tau_comm_s, float)
        self.tau_p = np.ascontiguousarray(problem.tau_comp_s, float)
        self.L = L
        self.ends = np.flatnonzero(segs.last == L)

    def shortest(self, pi: np.ndarray, theta: float):
        """(segment path, T, P) minimising θ·T + P, P = Σ π_σ b; None if no chain exists."""
        s = self.segs
        dist, pred = _shortest(
            s.server, s.first, s.last, s.slots, pi, self.by_end_start, self.by_end_order, self.tau_c, self.tau_p,
            float(theta), self.L,
        )
        if self.ends.size == 0:
            return None
        d = dist[self.ends]
        k = int(np.argmin(d))
        if not np.isfinite(d[k]):
            return None
        path = []
        v = int(self.ends[k])
        while v >= 0:
            path.append(v)
            v = int(pred[v])
        path.reverse()
        return self.evaluate(tuple(path), pi)

    def evaluate(self, path: tuple, pi: np.ndarray):
        s = self.segs
        prev, T, P = 0, 0.0, 0.0
        for sg in path:
            j = s.server[sg]
            b = s.last[sg] - prev
            T += self.tau_c[j] + self.tau_p[j] * b
            P += pi[sg] * b
            prev = s.last[sg]
        return path, T, P

    def hull(self, pi: np.ndarray, weight: float, max_points: int = 64):
        """Chains on the lower-left convex hull of (T, P) — among them the minimiser of P − weight/T.

        P − w/T is concave and non-decreasing in (T, P), so its minimum over all chains is attained
        at an extreme point of that hull, and every such point minimises P + θT for some θ ≥ 0.
        Points are found by the usual slope bisection (Eisner–Severance).
        """
        scale = max(float(np.max(pi, initial=0.0)), 1e-12)
        A = self.shortest(pi, 1e-9 * scale)  # min P (ties → smaller T)
        if A is None:
            return []
        B = self.shortest(pi, 1e9 * scale + 1e9)  # min T
        pts = {A[0]: A, B[0]: B}
        stack = [(A, B)]
        while stack and len(pts) < max_points:
            p, q = stack.pop()
            if p[1] - q[1] <= 1e-12 or p[0] == q[0]:
                continue
            theta = (q[2] - p[2]) / (p[1] - q[1])
            if theta <= 0:
                continue
            C = self.shortest(pi, theta)
            if C is None:
                continue
            if C[2] + theta * C[1] < p[2] + theta * p[1] - 1e-9 * (1 + abs(p[2] + theta * p[1])):
                pts[C[0]] = C
                stack.append((p, C))
                stack.append((C, q))
        return list(pts.values())

    def successors(self):
        """succ[e] = segments a chain can enter after finishing block e (chain rule, b ≤ S_σ)."""
        if getattr(self, "_succ", None) is None:
            s = self.segs
            succ: list[list[int]] = [[] for _ in range(self.L + 1)]
            for k in range(s.count):
                a, e, S = int(s.first[k]), int(s.last[k]), int(s.slots[k])
                for ep in range(max(a - 1, e - S), e):
                    succ[ep].append(k)
            self._succ = succ
        return self._succ

    def bounds_to_sink(self, pi: np.ndarray):
        """For each block e = 0..L: min time and min Σπb to finish blocks e+1..L (ignoring server repeats)."""
        s = self.segs
        L = self.L
        tmin = np.full(L + 1, np.inf)
        pmin = np.full(L + 1, np.inf)
        tmin[L] = pmin[L] = 0.0
        for e in range(L - 1, -1, -1):
            # hop into segment with first ≤ e+1 ≤ last, b = last − e
            mask = (s.first <= e + 1) & (s.last >= e + 1) & (s.last - e <= s.slots)
            if not mask.any():
                continue
            b = s.last[mask] - e
            t = self.tau_c[s.server[mask]] + self.tau_p[s.server[mask]] * b + tmin[s.last[mask]]
            pp = pi[mask] * b + pmin[s.last[mask]]
            tmin[e] = t.min()
            pmin[e] = pp.min()
        return tmin, pmin


def elementary_best(pricer: Pricer, pi: np.ndarray, weight: float, jobs: bool, count: int = 8,
                    node_limit: int = 2_000_000, threshold: float = -1e-9, deadline: float | None = None):
    """Exact pricing over *simple* chains (no server twice) by depth-first branch and bound.

    Minimises rc = 1 − weight/T + P (``jobs``) or −(1/T − P) (throughput), returns
    (best chains with rc < ``threshold`` — up to ``count``, sorted —, complete flag). When complete
    and no chain is returned, no simple chain has rc < ``threshold`` (column generation converged). The completion bound uses the relaxed (non-elementary) minimum time and
    price to the last block, so pruning never loses a chain. ``node_limit`` counts successor
    examinations (work), ``deadline`` is a ``time.perf_counter()`` value.
    """
    segs = pricer.segs
    L = pricer.L
    tmin, pmin = pricer.bounds_to_sink(pi)
    tau_c, tau_p = pricer.tau_c, pricer.tau_p
    succ = pricer.successors()
    server = segs.server.tolist()
    last = segs.last.tolist()

    def rc(T, P):
        return (1.0 - weight / T + P) if jobs else (P - 1.0 / T)

    found: list = []  # (rc, path, T, P)
    cutoff = threshold
    best_any = np.inf
    nodes = 0
    stack = [((), 0, 0.0, 0.0, frozenset())]
    while stack:
        path, e, T, P, used = stack.pop()
        nodes += 1 + len(succ[e])
        if nodes > node_limit or STOP.requested or (deadline is not None and time.perf_counter() > deadline):
            found.sort(key=lambda t: t[0])
            return [(p, T_, P_) for _, p, T_, P_ in found[:count]], False
        if e == L:
            r = rc(T, P)
            best_any = min(best_any, r)
            if r < cutoff:
                found.append((r, path, T, P))
                found.sort(key=lambda t: t[0])
                del found[count:]
                if len(found) == count:
                    cutoff = found[-1][0]
            continue
        for s in succ[e]:
            j = server[s]
            if j in used:
                continue
            e2 = last[s]
            b = e2 - e
            T2 = T + tau_c[j] + tau_p[j] * b
            P2 = P + pi[s] * b
            lb = rc(T2 + tmin[e2], P2 + pmin[e2])
            if lb >= cutoff:
                continue
            stack.append((path + (s,), e2, T2, P2, used | {j}))
    return [(p, T_, P_) for _, p, T_, P_ in found], True
