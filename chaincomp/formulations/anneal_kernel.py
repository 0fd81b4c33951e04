"""Compiled simulated annealing over placements (the moves and score of :mod:`.local_search`).

:class:`.local_search.PlacementSearch` draws each move in Python (≈ 20 µs per move at J = 40 besides
the ≈ 30 µs compiled GCA score); here a whole chunk of moves runs in one numba call, so the search
process of :mod:`.parallel_search` spends its time scoring. Same moves, same acceptance rule
(Metropolis on the fractional GCA job-server count F, SPEC §3.2), same restart from the best
placement after 4 000 non-improving moves; the temperature is constant within a chunk and cooled
geometrically between chunks by the caller (wall clock). numba's own random stream (seeded once per
search) drives the moves, so a run with a given seed and the same number of chunks is repeatable.
"""

from __future__ import annotations

import numba
import numpy as np

from chaincomp.formulations.local_search import BIG, _score, used_by_last_block


@numba.njit(cache=True)
def seed_kernel(seed):  # pragma: no cover - numba
    np.random.seed(seed)


@numba.njit(cache=True)
def score_direct(a, m, tau_c, tau_p, slots_len, L, R):  # pragma: no cover - numba
    """The fractional GCA job-server count of :func:`.local_search._score` by a direct O(n²)-per-round
    GCA (Alg. 2: shortest chain over the servers sorted by last block, capacity = min ⌊M_v/b_v⌋, slots
    decreased) that stops as soon as the chains taken reach the rate R — no rounds beyond the ones the
    score needs. Ties between equally fast chains may be broken differently from the library's GCA,
    so the two can differ on exact ties; the search's results are re-scored by the library GCA
    before they are used (:func:`.parallel_search.harvest`)."""
    first, last, tc, tp, M = used_by_last_block(a, m, tau_c, tau_p, slots_len)
    n = first.size
    if n == 0:
        return BIG + 1.0
    dist = np.empty(n)
    pred = np.empty(n, np.int64)
    need = R
    count = 0.0
    while True:
        best_end = -1
        for v in range(n):
            ev = last[v]
            d = np.inf
            pv = -1
            if first[v] == 1 and M[v] >= ev:
                d = tc[v] + tp[v] * ev
            lo = first[v] - 1
            if ev - M[v] > lo:
                lo = ev - M[v]
            if lo < 1:
                lo = 1
            for u in range(v):
                eu = last[u]
                if eu >= ev:
                    break
                if eu < lo or dist[u] == np.inf:
                    continue
                cand = dist[u] + (tc[v] + tp[v] * (ev - eu))
                if cand < d:
                    d = cand
                    pv = u
            dist[v] = d
            pred[v] = pv
            if ev == L and d < np.inf and (best_end < 0 or d < dist[best_end]):
                best_end = v
        if best_end < 0:
            return BIG + need / R
        # capacity of the chain: min over its servers of ⌊M_v / b_v⌋
        c = 1 << 62
        v = best_end
        while v >= 0:
            u = pred[v]
            b = last[v] - (last[u] if u >= 0 else 0)
            q = M[v] // b
            if q < c:
                c = q
            v = u
        T = dist[best_end]
        mu = 1.0 / T
        if mu * c >= need:
            return count + need / mu
        need -= mu * c
        count += c
        v = best_end
        while v >= 0:
            u = pred[v]
            M[v] -= c * (last[v] - (last[u] if u >= 0 else 0))
            v = u


@numba.njit(cache=True)
def _move(a, m, mmax, L, J):  # pragma: no cover - numba
    """One random move in place (local_search.PlacementSearch._move); False if not applicable."""
    n_used = 0
    for j in range(J):
        if m[j] > 0:
            n_used += 1
    if n_used == 0:
        return False
    used = np.empty(n_used, np.int64)
    k = 0
    for j in range(J):
        if m[j] > 0:
            used[k] = j
            k += 1
    kind = np.random.random()
    if kind < 0.35:  # shift by ±1..3
        j = used[np.random.randint(n_used)]
        d = np.random.randint(1, 4)
        if np.random.random() < 0.5:
            d = -d
        na = a[j] + d
        if na < 1:
            na = 1
        if na > L - m[j] + 1:
            na = L - m[j] + 1
        if na == a[j]:
            return False
        a[j] = na
        return True
    if kind < 0.5:  # swap two servers' ranges (the other may be unused: the range moves over)
        i = used[np.random.randint(n_used)]
        j = np.random.randint(J)
        if j == i or (m[i] == m[j] and a[i] == a[j]):
            return False
        if m[j] > mmax[i] or m[i] > mmax[j]:
            return False
        t = a[i]
        a[i] = a[j]
        a[j] = t
        t = m[i]
        m[i] = m[j]
        m[j] = t
        return True
    if kind < 0.8:  # grow / shrink by one block at either end
        j = used[np.random.randint(n_used)]
        left = np.random.random() < 0.5
        if np.random.random() < 0.5:
            if m[j] + 1 > mmax[j]:
                return False
            if left:
                if a[j] == 1:
                    return False
                a[j] -= 1
            elif a[j] + m[j] > L:
                return False
            m[j] += 1
        else:
            if left:
                a[j] += 1
            m[j] -= 1
            if m[j] == 0:
                a[j] = 0
        return True
    if kind < 0.88:  # switch off
        j = used[np.random.randint(n_used)]
        a[j] = 0
        m[j] = 0
        return True
    n_free = 0
    for j in range(J):
        if m[j] == 0 and mmax[j] > 0:
            n_free += 1
    if n_free == 0:
        return False
    r = np.random.randint(n_free)
    j = -1
    for q in range(J):
        if m[q] == 0 and mmax[q] > 0:
            if r == 0:
                j = q
                break
            r -= 1
    if np.random.random() < 0.6:  # a copy of a used server's range, shifted by 0..±2
        i = used[np.random.randint(n_used)]
        mm = min(m[i], mmax[j])
        aa = a[i] + np.random.randint(-2, 3)
    else:
        mm = np.random.randint(1, mmax[j] + 1)
        aa = np.random.randint(1, L - mm + 2)
    if aa < 1:
        aa = 1
    if aa > L - mm + 1:
        aa = L - mm + 1
    a[j] = aa
    m[j] = mm
    return True


@numba.njit(cache=True)
def anneal_chunk(a, m, f, a_best, m_best, f_best, n_iter, temp, stale, mmax, tau_c, tau_p, slots_len, L, R,
                 direct):  # pragma: no cover
    """``n_iter`` moves at temperature ``temp`` from (a, m) with score f; the best placement seen is
    kept in (a_best, m_best) (in place). Returns (f, f_best, stale, evaluations, improved_fraction)
    where improved_fraction is True if f_best dropped in this chunk."""
    J = a.size
    na = a.copy()
    nm = m.copy()
    evals = 0
    improved = False
    for _ in range(n_iter):
        na[:] = a
        nm[:] = m
        if not _move(na, nm, mmax, L, J):
            continue
        if direct:
            nf = score_direct(na, nm, tau_c, tau_p, slots_len, L, R)
        else:
            nf = _score(na, nm, tau_c, tau_p, slots_len, L, R)
        evals += 1
        d = nf - f
        accept = d <= 0.0
        if not accept and nf < BIG and f < BIG:
            accept = np.random.random() < np.exp(-d / max(temp, 1e-9))
        if accept:
            a[:] = na
            m[:] = nm
            f = nf
            if f < f_best - 1e-12:
                f_best = f
                a_best[:] = a
                m_best[:] = m
                stale = 0
                improved = True
                continue
        stale += 1
        if stale > 4000:  # restart the walk from the best placement
            a[:] = a_best
            m[:] = m_best
            f = f_best
            stale = 0
    return f, f_best, stale, evals, improved


#: up to this many servers the score is :func:`score_direct` (O(n²) per GCA round, stops once the rate is
#: reached: 3–5× faster than the grouped kernel at J = 40–60); above, :func:`.local_search._score`
DIRECT_MAX_SERVERS = 400
CHUNK = 256  # moves per compiled call (≈ 5–15 ms at J = 40): the time / STOP check interval


def run_compiled(search, starts, deadline: float, t_ref: float | None = None, on_improve=None,
                 max_evals: int | None = None, on_visit=None):
    """:meth:`.local_search.PlacementSearch.run` with the moves compiled (same arguments and result).

    ``search`` is a :class:`~.local_search.PlacementSearch` (its problem data, seed, temperatures).
    New best placements are reported once per chunk (the chunk's best)."""
    import time

    from chaincomp.formulations.local_search import SearchResult, _placement, _same, job_servers_of
    from chaincomp.solvers.base import STOP

    t0 = time.perf_counter()
    t_ref = t0 if t_ref is None else t_ref
    seed_kernel(int(search.rng.integers(2**31 - 1)))
    best = None
    for pl in starts:
        a = np.where(pl.num_blocks > 0, pl.first_block, 0).astype(np.int64)
        m = pl.num_blocks.astype(np.int64).copy()
        f = search.score(a, m)
        if best is None or f < best[0]:
            best = (f, a.copy(), m.copy())
    f_best, a_best, m_best = best
    hist = [(time.perf_counter() - t_ref, job_servers_of(f_best))]
    pool = []
    a, m, f = a_best.copy(), m_best.copy(), f_best
    T0, T1 = search.temperatures
    span = max(deadline - t0, 1e-3)
    stale = 0
    chunk = max(4, min(CHUNK, (CHUNK * 40) // max(search.J, 1)))  # ≈ the same wall time per call at any J
    while True:
        now = time.perf_counter()
        if now >= deadline or STOP.requested:
            break
        if max_evals is not None and search.evaluations >= max_evals:
            break
        temp = T0 * (T1 / T0) ** min((now - t0) / span, 1.0)
        v_before = job_servers_of(f_best)
        f, f_new, stale, ev, improved = anneal_chunk(a, m, f, a_best, m_best, f_best, chunk, temp, stale,
                                                     search.mmax, search.tau_c, search.tau_p, search.slots_len,
                                                     search.L, search.R, search.J <= DIRECT_MAX_SERVERS)
        search.evaluations += int(ev)
        if not improved:
            continue
        f_best = f_new
        pl = _placement(a_best, m_best)
        v = job_servers_of(f_best)
        if v != v_before:
            hist.append((time.perf_counter() - t_ref, v))
            pool.append(pl)
            if on_improve is not None:
                on_improve(pl, v)
        elif on_visit is not None:
            on_visit(pl)
    best_pl = _placement(a_best, m_best)
    if not pool or not _same(pool[-1], best_pl):
        pool.append(best_pl)
    return SearchResult(best_pl, job_servers_of(f_best), f_best, search.evaluations,
                        time.perf_counter() - t0, hist, pool)


@numba.njit(cache=True)
def best_range(a, m, j, mmax, tau_c, tau_p, slots_len, L, R):  # pragma: no cover - numba
    """Put server j at its best range given the others (every admissible (first, length), or off);
    in place. Returns the score. Ties keep the earlier candidate (off first, then by length, first)."""
    a[j] = 0
    m[j] = 0
    best = score_direct(a, m, tau_c, tau_p, slots_len, L, R)
    ba, bm = 0, 0
    for mm in range(1, mmax[j] + 1):
        for aa in range(1, L - mm + 2):
            a[j] = aa
            m[j] = mm
            f = score_direct(a, m, tau_c, tau_p, slots_len, L, R)
            if f < best - 1e-12:
                best = f
                ba, bm = aa, mm
    a[j] = ba
    m[j] = bm
    return best


@numba.njit(cache=True)
def lns_step(a, m, f, k, mmax, tau_c, tau_p, slots_len, L, R):  # pragma: no cover - numba
    """Free k servers — those whose ranges meet a random block window (half the time) or k random
    used ones — and re-insert them one by one, in random order, each at its best range given the
    rest (:func:`best_range`). Keeps the result if its score is ≤ f (in place), else restores.
    Returns (score, evaluations)."""
    J = a.size
    a0 = a.copy()
    m0 = m.copy()
    cand = np.empty(J, np.int64)
    nc = 0
    if np.random.random() < 0.5:
        x = np.random.randint(1, L + 1)
        w = np.random.randint(1, 8)
        for j in range(J):
            if m[j] > 0 and a[j] <= x + w and a[j] + m[j] - 1 >= x:
                cand[nc] = j
                nc += 1
    if nc == 0:
        for j in range(J):
            if m[j] > 0:
                cand[nc] = j
                nc += 1
    # k of them at random (partial Fisher–Yates), plus one unused server half the time
    kk = min(k, nc)
    for i in range(kk):
        r = i + np.random.randint(nc - i)
        t = cand[i]
        cand[i] = cand[r]
        cand[r] = t
    freed = list(cand[:kk])
    if np.random.random() < 0.5:
        nfree = 0
        for j in range(J):
            if m[j] == 0 and mmax[j] > 0:
                nfree += 1
        if nfree > 0:
            r = np.random.randint(nfree)
            for j in range(J):
                if m[j] == 0 and mmax[j] > 0:
                    if r == 0:
                        freed.append(j)
                        break
                    r -= 1
    for j in freed:
        a[j] = 0
        m[j] = 0
    evals = 0
    nf = f
    order = np.random.permutation(len(freed))
    for i in order:
        j = freed[i]
        nf = best_range(a, m, j, mmax, tau_c, tau_p, slots_len, L, R)
        evals += 1 + mmax[j] * L
    if nf <= f + 1e-12:
        return nf, evals
    a[:] = a0
    m[:] = m0
    return f, evals


def run_lns(search, placement, end: float, on_improve=None, k: int = 4, patience: int = 60):
    """Large-neighbourhood search from ``placement`` until ``end`` (perf_counter), Ctrl-C, or
    ``patience`` steps in a row without a lower score: repeated :func:`lns_step` (free k servers,
    re-insert each at its best range). ``on_improve(placement, value)`` at each lower GCA count.
    Returns (placement, score, steps)."""
    import time

    from chaincomp.formulations.local_search import _placement, job_servers_of
    from chaincomp.solvers.base import STOP

    a = np.where(placement.num_blocks > 0, placement.first_block, 0).astype(np.int64)
    m = placement.num_blocks.astype(np.int64).copy()
    f = search.score(a, m)
    steps = stale = 0
    if search.J > DIRECT_MAX_SERVERS:  # a step re-scores J·L placements per freed server: too slow there
        return placement, f, 0
    while time.perf_counter() < end and not STOP.requested and stale < patience:
        f2, ev = lns_step(a, m, f, k, search.mmax, search.tau_c, search.tau_p, search.slots_len, search.L, search.R)
        search.evaluations += int(ev)
        steps += 1
        stale = 0 if f2 < f - 1e-12 else stale + 1
        if job_servers_of(f2) != job_servers_of(f) and on_improve is not None:
            on_improve(_placement(a, m), job_servers_of(f2))
        f = f2
    return _placement(a, m), f, steps
