"""Pricing for the segment/chain extended formulation (see :mod:`.colgen`); numba kernels.

A chain is a sequence of *hops*: a hop (j, e_prev → e) means server j processes blocks e_prev+1..e
(b = e − e_prev blocks, time τ^c_j + τ^p_j b, SPEC Eq. 2). It is realised by one segment
σ = (j, a, e) with a ≤ e_prev + 1 (the chain rule, SPEC §1) and b ≤ S_σ (otherwise no integer capacity
≥ 1 fits, Eq. 3). Since S depends only on the segment length ℓ = e − a + 1 and is non-increasing in
ℓ, the admissible segments of a hop are ℓ ∈ [b, min(e, ℓmax_j(b))] with ℓmax_j(b) = max{ℓ : S_j(ℓ) ≥ b},
and a hop exists iff S_j(b) ≥ b. For given segment duals π the cheapest realisation costs
b · min_ℓ π_(j, e−ℓ+1, e) (ties → the shortest segment, which has the most slots).

So pricing runs on a small *hop graph*: nodes e = 0..L, arcs (j, e_prev, e) — O(J·L²) arcs instead of
the O(J·L³) (segment, predecessor) pairs. Reduced cost of a chain (minimisation form)::

    rc = const + P − w / T,     P = Σ_hops b·π,  T = Σ_hops (τ^c_j + τ^p_j b)

(job servers: const = 1, w = π_R; throughput: const = 0, w = 1, i.e. −(1/T − P)).

- :meth:`Pricer.hull` — *relaxed* pricing (a server may repeat, but never twice in a row): rc is
  concave and non-decreasing in (T, P), so its minimum over all relaxed chains is attained at an
  extreme point of the lower-left convex hull of (T, P), each of which minimises P + θT for some θ;
  the points are found by slope bisection (Eisner–Severance) with a 2-best-label DAG programme.
  Its minimum is a valid lower bound on the elementary minimum.
- :meth:`Pricer.elementary` — *exact* pricing over simple chains (no server twice; only those can
  carry integer capacity) by depth-first branch and bound in numba: children sorted by a completion
  bound (relaxed minimum time and price to block L), best first; resumable, so the caller can check
  its deadline and Ctrl-C between slices of work.
- :meth:`Pricer.enumerate` — all simple chains (every segment realisation) with rc ≤ δ, or None
  when there are more than a limit (reduced-cost column enumeration, see :mod:`.colgen`).
"""

from __future__ import annotations

import time

import numba
import numpy as np

from chaincomp.formulations.completion_hulls import completion_hulls
from chaincomp.solvers.base import STOP

INF = np.inf


@numba.njit(cache=True)
def _hop_prices(pi, seg_index, lmax, bmax, J, L):  # pragma: no cover - numba
    """price[j, ep, e] = b·min π over the hop's admissible segments; seg[j, ep, e] = that segment."""
    price = np.full((J, L + 1, L + 1), np.inf)
    seg = -np.ones((J, L + 1, L + 1), np.int64)
    for j in range(J):
        for e in range(1, L + 1):
            for b in range(1, min(e, bmax[j]) + 1):
                ep = e - b
                hi = min(e, lmax[j, b])
                best = np.inf
                bs = -1
                for ell in range(b, hi + 1):
                    s = seg_index[j, e - ell + 1, e]
                    if s < 0:
                        continue
                    v = pi[s]
                    if v < best:
                        best = v
                        bs = s
                if bs >= 0:
                    price[j, ep, e] = b * best
                    seg[j, ep, e] = bs
    return price, seg


@numba.njit(cache=True)
def _to_sink(price, tau_c, tau_p, bmax, J, L):  # pragma: no cover - numba
    """Relaxed minimum time and minimum price to finish blocks e+1..L, for every e."""
    tmin = np.full(L + 1, np.inf)
    pmin = np.full(L + 1, np.inf)
    tmin[L] = 0.0
    pmin[L] = 0.0
    for e in range(L - 1, -1, -1):
        for j in range(J):
            for b in range(1, min(bmax[j], L - e) + 1):
                e2 = e + b
                p = price[j, e, e2]
                if p == np.inf or tmin[e2] == np.inf:
                    continue
                t = tau_c[j] + tau_p[j] * b + tmin[e2]
                if t < tmin[e]:
                    tmin[e] = t
                if p + pmin[e2] < pmin[e]:
                    pmin[e] = p + pmin[e2]
    return tmin, pmin


@numba.njit(cache=True)
def _relaxed(price, tau_c, tau_p, bmax, theta, J, L):  # pragma: no cover - numba
    """min P + θT over relaxed chains (no server twice in a row). Returns the hops (j, e) in order."""
    v1 = np.full(L + 1, np.inf)
    v2 = np.full(L + 1, np.inf)
    j1 = np.full(L + 1, -2, np.int64)
    j2 = np.full(L + 1, -2, np.int64)
    pe1 = np.zeros(L + 1, np.int64)
    pr1 = np.zeros(L + 1, np.int64)
    pe2 = np.zeros(L + 1, np.int64)
    pr2 = np.zeros(L + 1, np.int64)
    v1[0] = 0.0
    j1[0] = -1
    for e in range(1, L + 1):
        for j in range(J):
            for b in range(1, min(e, bmax[j]) + 1):
                ep = e - b
                p = price[j, ep, e]
                if p == np.inf:
                    continue
                if j1[ep] != j:
                    v = v1[ep]
                    r = 0
                else:
                    v = v2[ep]
                    r = 1
                if v == np.inf:
                    continue
                c = v + theta * (tau_c[j] + tau_p[j] * b) + p
                if c < v1[e]:
                    if j1[e] != j:
                        v2[e] = v1[e]
                        j2[e] = j1[e]
                        pe2[e] = pe1[e]
                        pr2[e] = pr1[e]
                    v1[e] = c
                    j1[e] = j
                    pe1[e] = ep
                    pr1[e] = r
                elif c < v2[e] and j1[e] != j:
                    v2[e] = c
                    j2[e] = j
                    pe2[e] = ep
                    pr2[e] = r
    hj = np.empty(L, np.int64)
    he = np.empty(L, np.int64)
    if v1[L] == np.inf:
        return hj[:0], he[:0]
    n = 0
    e = L
    r = 0
    while e > 0:
        if r == 0:
            hj[n] = j1[e]
            he[n] = e
            ne, r = pe1[e], pr1[e]
        else:
            hj[n] = j2[e]
            he[n] = e
            ne, r = pe2[e], pr2[e]
        e = ne
        n += 1
    return hj[:n][::-1].copy(), he[:n][::-1].copy()


@numba.njit(cache=True)
def _expand(d, E, T, P, used, price, tau_c, tau_p, bmax, tmin, qt, qp, qn, const, w, cutoff, strict,
            cj, ce, clb, nch, pos, J, L):  # pragma: no cover - numba
    e = E[d]
    n = 0
    for j in range(J):
        if used[j]:
            continue
        for b in range(1, min(bmax[j], L - e) + 1):
            e2 = e + b
            p = price[j, e, e2]
            if p == np.inf or tmin[e2] == np.inf:
                continue
            T2 = T[d] + tau_c[j] + tau_p[j] * b
            P2 = P[d] + p
            best = np.inf
            for k in range(qn[e2]):
                v = qp[e2, k] - w / (T2 + qt[e2, k])
                if v < best:
                    best = v
            lb = const + P2 + best
            if (lb > cutoff) if strict else (lb >= cutoff):
                continue
            cj[d, n] = j
            ce[d, n] = e2
            clb[d, n] = lb
            n += 1
    if n > 1:
        order = np.argsort(clb[d, :n])
        tj = cj[d, :n][order].copy()
        te = ce[d, :n][order].copy()
        tl = clb[d, :n][order].copy()
        cj[d, :n] = tj
        ce[d, :n] = te
        clb[d, :n] = tl
    nch[d] = n
    pos[d] = 0


@numba.njit(cache=True)
def _dfs(st, fst, E, T, P, HJ, used, cj, ce, clb, nch, pos, price, tau_c, tau_p, bmax, tmin, qt, qp, qn,
         const, w, mode, rv, rl, rj, re, budget, J, L):  # pragma: no cover - numba
    """Resumable DFS. st = [depth, started, nres, work]; fst = [cutoff].

    mode 0: keep the rv.size best chains with rc < cutoff (cutoff tightens to the worst kept);
    mode 1: keep every chain with rc ≤ cutoff (returns 2 when more than rv.size exist).
    Returns 0 = budget used up (call again), 1 = complete, 2 = overflow.
    """
    cap = rv.size
    strict = mode == 1
    if st[1] == 0:
        st[1] = 1
        st[0] = 0
        E[0] = 0
        T[0] = 0.0
        P[0] = 0.0
        _expand(0, E, T, P, used, price, tau_c, tau_p, bmax, tmin, qt, qp, qn, const, w, fst[0], strict,
                cj, ce, clb, nch, pos, J, L)
    d = st[0]
    work = 0
    while work < budget:
        cutoff = fst[0]
        if pos[d] >= nch[d]:
            if d == 0:
                st[0] = 0
                st[3] += work
                return 1
            used[HJ[d]] = 0
            d -= 1
            continue
        c = pos[d]
        pos[d] += 1
        lb = clb[d, c]
        if (lb > cutoff) if strict else (lb >= cutoff):
            pos[d] = nch[d]
            continue
        j = cj[d, c]
        e2 = ce[d, c]
        b = e2 - E[d]
        T2 = T[d] + tau_c[j] + tau_p[j] * b
        P2 = P[d] + price[j, E[d], e2]
        work += 1
        if e2 == L:
            val = const + P2 - w / T2
            if mode == 1:
                if val <= cutoff:
                    k = st[2]
                    if k >= cap:
                        st[0] = d
                        st[3] += work
                        return 2
                    for i in range(1, d + 1):
                        rj[k, i - 1] = HJ[i]
                        re[k, i - 1] = E[i]
                    rj[k, d] = j
                    re[k, d] = L
                    rl[k] = d + 1
                    rv[k] = val
                    st[2] = k + 1
            elif val < cutoff:
                k = st[2]
                if k < cap:
                    st[2] = k + 1
                else:  # replace the worst kept
                    k = 0
                    for i in range(1, cap):
                        if rv[i] > rv[k]:
                            k = i
                for i in range(1, d + 1):
                    rj[k, i - 1] = HJ[i]
                    re[k, i - 1] = E[i]
                rj[k, d] = j
                re[k, d] = L
                rl[k] = d + 1
                rv[k] = val
                if st[2] == cap:
                    worst = rv[0]
                    for i in range(1, cap):
                        if rv[i] > worst:
                            worst = rv[i]
                    fst[0] = worst
            continue
        d += 1
        HJ[d] = j
        E[d] = e2
        T[d] = T2
        P[d] = P2
        used[j] = 1
        work += cj.shape[1]
        _expand(d, E, T, P, used, price, tau_c, tau_p, bmax, tmin, qt, qp, qn, const, w, fst[0], strict,
                cj, ce, clb, nch, pos, J, L)
    st[0] = d
    st[3] += work
    return 0


class Pricer:
    """Hop-graph pricing for one problem (see the module docstring)."""

    def __init__(self, problem, segs) -> None:
        self.problem = problem
        self.segs = segs
        J, L = problem.num_servers, problem.num_blocks
        self.J, self.L = J, L
        slots_len = np.zeros((J, L + 1), np.int64)  # S_j(ℓ), 0 where no segment
        slots_len[segs.server, segs.length] = segs.slots
        self.slots_len = slots_len
        lmax = np.zeros((J, L + 1), np.int64)
        for j in range(J):
            for b in range(1, L + 1):
                ok = np.flatnonzero(slots_len[j, 1:] >= b)
                lmax[j, b] = ok[-1] + 1 if ok.size else 0
        self.lmax = lmax
        self.bmax = np.array([max([b for b in range(1, L + 1) if lmax[j, b] >= b], default=0) for j in range(J)],
                             np.int64)
        self.seg_index = np.ascontiguousarray(segs.index)
        self.tau_c = np.ascontiguousarray(problem.tau_comm_s, float)
        self.tau_p = np.ascontiguousarray(problem.tau_comp_s, float)
        self.depth = min(J, L) + 1
        self.width = max(int(self.bmax.sum()), 1)
        self._pi_key = None
        # tiny instances run the kernels' pure-Python originals: no numba compilation on first use
        # (chaincomp/core/jit.py; CHAINCOMP_JIT=always|never|auto)
        from chaincomp.core.jit import pick, use_compiled

        self.compiled = use_compiled(J * L * L)
        for name, fn in (("_hop_prices", _hop_prices), ("_to_sink", _to_sink), ("_completion_hulls", completion_hulls),
                         ("_relaxed", _relaxed), ("_dfs", _dfs)):
            setattr(self, name, pick(fn, self.compiled))

    def forms_no_chain(self) -> bool:
        """True iff no placement has a chain: no hop path 0 → L exists in the hop graph even when a
        server may appear twice (a relaxation of the chain rule, so True is a proof). A hop (j, e′ → e)
        exists iff some range of j ends at e, starts at or before e′ + 1 and leaves ≥ e − e′ slots."""
        self.prepare(np.zeros(self.segs.count))
        return not np.isfinite(self.tmin[0])

    # -- per-dual preparation -------------------------------------------------------------
    def prepare(self, pi: np.ndarray) -> None:
        pi = np.ascontiguousarray(pi, float)
        key = pi.tobytes()
        if key == self._pi_key:
            return
        self.pi = pi
        self.price, self.seg = self._hop_prices(pi, self.seg_index, self.lmax, self.bmax, self.J, self.L)
        self.tmin, self.pmin = self._to_sink(self.price, self.tau_c, self.tau_p, self.bmax, self.J, self.L)
        self.qt, self.qp, self.qn = self._completion_hulls(self.price, self.tau_c, self.tau_p, self.bmax, self.tmin,
                                                      self.pmin, self.J, self.L, 256)
        self._pi_key = key

    def relaxed_min(self, weight: float, const: float = 1.0) -> float:
        """Exact minimum of const + P − w/T over relaxed chains (any server repeats), from Q(0)."""
        if self.qn[0] == 0:
            return np.inf
        return float(const + np.min(self.qp[0, : self.qn[0]] - weight / self.qt[0, : self.qn[0]]))

    def hops_to_path(self, hj, he) -> tuple:
        out, ep = [], 0
        for j, e in zip(hj, he):
            out.append(int(self.seg[int(j), ep, int(e)]))
            ep = int(e)
        return tuple(out)

    def evaluate(self, path: tuple, pi: np.ndarray | None = None):
        """(path, T, P) of a segment path under duals ``pi`` (default: the prepared ones)."""
        pi = self.pi if pi is None else pi
        s = self.segs
        prev, T, P = 0, 0.0, 0.0
        for sg in path:
            j = s.server[sg]
            b = s.last[sg] - prev
            T += self.tau_c[j] + self.tau_p[j] * b
            P += pi[sg] * b
            prev = s.last[sg]
        return path, float(T), float(P)

    def shortest(self, pi: np.ndarray, theta: float):
        """(segment path, T, P) minimising θ·T + P over relaxed chains; None if no chain exists."""
        self.prepare(pi)
        hj, he = self._relaxed(self.price, self.tau_c, self.tau_p, self.bmax, float(theta), self.J, self.L)
        if hj.size == 0:
            return None
        return self.evaluate(self.hops_to_path(hj, he))

    def hull(self, pi: np.ndarray, weight: float, max_points: int = 64, const: float = 1.0):
        """Chains on the lower-left convex hull of (T, P) — among them the relaxed minimiser of
        const + P − w/T. Returns (points, complete); ``complete`` is False when ``max_points`` cut the
        bisection short (the minimum over the points is then not guaranteed to be the relaxed minimum)."""
        self.prepare(pi)
        finite = pi[np.isfinite(pi)]
        scale = max(float(np.max(finite, initial=0.0)), 1e-12)
        A = self.shortest(pi, 1e-9 * scale)  # min P (ties → smaller T)
        if A is None:
            return [], True
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
        return list(pts.values()), not stack

    # -- exact search over simple chains ------------------------------------------------------
    def _search(self, pi, const, w, mode, cutoff, cap, deadline, slice_work=200_000, work_limit=None):
        self.prepare(pi)
        D, W = self.depth, self.width
        st = np.zeros(4, np.int64)
        fst = np.array([cutoff], float)
        E = np.zeros(D + 1, np.int64)
        T = np.zeros(D + 1)
        P = np.zeros(D + 1)
        HJ = np.zeros(D + 1, np.int64)
        used = np.zeros(self.J, np.uint8)
        cj = np.zeros((D + 1, W), np.int64)
        ce = np.zeros((D + 1, W), np.int64)
        clb = np.zeros((D + 1, W))
        nch = np.zeros(D + 1, np.int64)
        pos = np.zeros(D + 1, np.int64)
        rv = np.full(cap, np.inf)
        rl = np.zeros(cap, np.int64)
        rj = np.zeros((cap, D + 1), np.int64)
        re = np.zeros((cap, D + 1), np.int64)
        while True:
            code = self._dfs(st, fst, E, T, P, HJ, used, cj, ce, clb, nch, pos, self.price, self.tau_c, self.tau_p,
                        self.bmax, self.tmin, self.qt, self.qp, self.qn, float(const), float(w), mode, rv, rl, rj, re,
                        slice_work, self.J, self.L)
            if code != 0:
                break
            if STOP.requested or (deadline is not None and time.perf_counter() > deadline):
                break
            if work_limit is not None and st[3] >= work_limit:
                break
        n = int(st[2])
        found = [(float(rv[k]), rj[k, : rl[k]].copy(), re[k, : rl[k]].copy()) for k in range(n)]
        found.sort(key=lambda t: t[0])
        self.last_work = int(st[3])
        return code, found

    def elementary(self, pi, weight, const=1.0, count=8, threshold=-1e-9, deadline=None, work_limit=None):
        """Best ≤ ``count`` simple chains with rc = const + P − weight/T < ``threshold``.

        Returns (list of (path, T, P) sorted by rc, complete). When ``complete`` is True and the list is
        empty, no simple chain has rc < ``threshold``; when it is False (deadline, Ctrl-C or
        ``work_limit``) the list holds what was found so far.
        """
        code, found = self._search(pi, const, weight, 0, threshold, count, deadline, work_limit=work_limit)
        out = [self.evaluate(self.hops_to_path(hj, he)) for _, hj, he in found]
        return out, code == 1

    def enumerate(self, pi, weight, delta, limit, deadline=None, const=1.0):
        """Every simple chain (segment path) with rc = const + P − weight/T ≤ ``delta``; None if more
        than ``limit`` exist (or the deadline / Ctrl-C came first)."""
        code, found = self._search(pi, const, weight, 1, delta, limit + 1, deadline)
        if code != 1:
            return None
        idx = self.seg_index
        out: list[tuple] = []
        for val, hj, he in found:
            # every segment realisation of the hop path whose extra price keeps rc ≤ δ
            options = []
            ep = 0
            for j, e in zip(hj.tolist(), he.tolist()):
                b = e - ep
                base = self.price[j, ep, e]
                opts = []
                for ell in range(b, min(e, int(self.lmax[j, b])) + 1):
                    s = int(idx[j, e - ell + 1, e])
                    if s >= 0:
                        opts.append((b * float(self.pi[s]) - base, s))
                opts.sort()
                options.append(opts)
                ep = e
            slack = delta - val + 1e-12
            stack = [(0, 0.0, ())]
            while stack:
                i, extra, path = stack.pop()
                if i == len(options):
                    out.append(path)
                    if len(out) > limit:
                        return None
                    continue
                for x, s in options[i]:
                    if extra + x > slack:
                        break
                    stack.append((i + 1, extra + x, path + (s,)))
        return out
