"""Local search over placements for the milp's incumbent (restricted: a heuristic, never a proof).

A *placement* (a_j, m_j) is scored by GCA (Algorithm 2, SPEC §3.2) run on it: the number of job
servers GCA's truncated allocation needs (Σ c after taking the fastest chains until Σ μ c ≥ λ/ρ̄).
The search minimises the *fractional* job-server count F = Σ_{chains taken} c_k, the last one
counted as need/μ_k (so that among placements with the same integer count the one with more spare
rate is preferred); the integer count ⌈F⌉ (GCA's objective) decides the incumbent. Placements on
which GCA cannot reach λ/ρ̄ score BIG + (missing rate)/(λ/ρ̄).

Simulated annealing (Metropolis on F, geometric cooling over the time budget, restart from the best
placement when the walk has not improved for a while). Moves, each keeping every hosted range
admissible (S_j(m_j) ≥ 1 cache slot, blocks inside 1..L):

- shift one server's range by ±1..3 blocks;
- swap two servers' ranges (when both lengths fit the other server's memory; the second server may
  be unused, then the range moves to it);
- grow or shrink one server's range by one block at either end (shrinking to 0 switches it off);
- switch a server off, or switch an unused server on with a range copied from a used server
  (shifted by 0..±2) or a random admissible range.

Each evaluation is one compiled GCA pass (numba; ≈ 10⁴–10⁵ evaluations/s at J = 40, L = 70).
The allocation returned with the best placement is GCA's (a valid design the verifier accepts);
:func:`improve_allocation` then solves the exact SPEC §2.2 MKP over every chain of that placement.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from chaincomp.core.placement import Placement
from chaincomp.formulations.common import truncate
from chaincomp.heuristics.gca import gca
from chaincomp.heuristics.gca_kernel import gca_grouped
from chaincomp.problem import Problem
from chaincomp.solvers.base import STOP

BIG = 1.0e6


@numba.njit(cache=True)
def used_by_last_block(a, m, tau_c, tau_p, slots_len):  # pragma: no cover - numba
    """The used servers of placement (a, m) sorted by last block (ties: index), as arrays
    (first, last, τ^c, τ^p, slots S_j(m_j)) — GCA's server order (Alg. 2)."""
    J = a.size
    n = 0
    for j in range(J):
        if m[j] > 0:
            n += 1
    key = np.empty(n, np.int64)
    idx = np.empty(n, np.int64)
    k = 0
    for j in range(J):
        if m[j] > 0:
            idx[k] = j
            key[k] = (a[j] + m[j] - 1) * (J + 1) + j
            k += 1
    order = idx[np.argsort(key)]
    first = np.empty(n, np.int64)
    last = np.empty(n, np.int64)
    tc = np.empty(n)
    tp = np.empty(n)
    sl = np.empty(n, np.int64)
    for i in range(n):
        j = order[i]
        first[i] = a[j]
        last[i] = a[j] + m[j] - 1
        tc[i] = tau_c[j]
        tp[i] = tau_p[j]
        sl[i] = slots_len[j, m[j]]
    return first, last, tc, tp, sl


@numba.njit(cache=True)
def _score(a, m, tau_c, tau_p, slots_len, L, R):  # pragma: no cover - numba
    """Fractional GCA job-server count of placement (a, m) (see the module docstring)."""
    first, last, tc, tp, sl = used_by_last_block(a, m, tau_c, tau_p, slots_len)
    n = first.size
    if n == 0:
        return BIG + 1.0
    nodes, off, caps, _times = gca_grouped(first, last, tc, tp, sl, L)
    need = R
    count = 0.0
    for r in range(caps.size):
        T = 0.0
        prev = 0
        for q in range(off[r], off[r + 1]):
            v = nodes[q]
            T += tc[v] + tp[v] * (last[v] - prev)
            prev = last[v]
        mu = 1.0 / T
        if mu * caps[r] >= need:
            return count + need / mu
        need -= mu * caps[r]
        count += caps[r]
    return BIG + need / R


def job_servers_of(F: float) -> int | None:
    """Integer GCA count for a fractional score (None: GCA cannot reach the rate)."""
    if F >= BIG:
        return None
    return max(1, math.ceil(F - 1e-9))


@dataclass
class SearchResult:
    placement: Placement
    value: int | None  # GCA job servers of the best placement
    score: float
    evaluations: int
    time_s: float
    history: list = field(default_factory=list)  # (time since start, value) at every improvement
    pool: list = field(default_factory=list)  # distinct improving placements, best last


class PlacementSearch:
    """Simulated annealing over placements scored by GCA (see the module docstring)."""

    def __init__(self, problem: Problem, seed: int | None = None) -> None:
        self.problem = problem
        J, L = problem.num_servers, problem.num_blocks
        self.J, self.L = J, L
        lengths = np.arange(0, L + 1)
        sl = np.zeros((J, L + 1), np.int64)
        for m in range(1, L + 1):
            sl[:, m] = problem.residual_slots(np.full(J, m))
        sl[:, 0] = 0
        self.slots_len = sl
        ok = sl >= 1
        ok[:, 0] = False
        self.mmax = np.array([int(lengths[ok[j]].max()) if ok[j].any() else 0 for j in range(J)], np.int64)
        self.tau_c = np.ascontiguousarray(problem.tau_comm_s, float)
        self.tau_p = np.ascontiguousarray(problem.tau_comp_s, float)
        self.R = float(problem.required_rate)
        self.rng = np.random.default_rng(0 if seed is None else seed)
        self.evaluations = 0
        self.temperatures = (0.6, 0.01)  # start / end temperature in job servers (geometric cooling)

    def score(self, a: np.ndarray, m: np.ndarray) -> float:
        self.evaluations += 1
        return float(_score(a, m, self.tau_c, self.tau_p, self.slots_len, self.L, self.R))

    # -- moves ---------------------------------------------------------------------------------
    def _move(self, a: np.ndarray, m: np.ndarray) -> bool:
        """Apply one random move in place; False if the drawn move was not applicable."""
        rng, L, mmax = self.rng, self.L, self.mmax
        used = np.flatnonzero(m > 0)
        if used.size == 0:
            return False
        kind = rng.random()
        if kind < 0.35:  # shift
            j = int(used[rng.integers(used.size)])
            d = int(rng.integers(1, 4)) * (1 if rng.random() < 0.5 else -1)
            na = min(max(a[j] + d, 1), L - m[j] + 1)
            if na == a[j]:
                return False
            a[j] = na
            return True
        if kind < 0.5:  # swap two servers' ranges (the other may be unused: the range moves over)
            i = int(used[rng.integers(used.size)])
            j = int(rng.integers(self.J))
            if j == i or (m[i] == m[j] and a[i] == a[j]):
                return False
            if m[j] > mmax[i] or m[i] > mmax[j]:
                return False
            a[i], a[j] = a[j], a[i]
            m[i], m[j] = m[j], m[i]
            return True
        if kind < 0.8:  # grow / shrink by one at either end
            j = int(used[rng.integers(used.size)])
            left = rng.random() < 0.5
            if rng.random() < 0.5:  # grow
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
            j = int(used[rng.integers(used.size)])
            a[j] = 0
            m[j] = 0
            return True
        # switch on an unused server
        free = np.flatnonzero((m == 0) & (mmax > 0))
        if free.size == 0:
            return False
        j = int(free[rng.integers(free.size)])
        if rng.random() < 0.6:
            i = int(used[rng.integers(used.size)])
            mm = min(int(m[i]), int(mmax[j]))
            aa = int(a[i]) + int(rng.integers(-2, 3))
        else:
            mm = int(rng.integers(1, mmax[j] + 1))
            aa = int(rng.integers(1, L - mm + 2))
        aa = min(max(aa, 1), L - mm + 1)
        a[j] = aa
        m[j] = mm
        return True

    # -- search ----------------------------------------------------------------------------------
    def run(self, starts: list[Placement], deadline: float, t_ref: float | None = None,
            on_improve=None, max_evals: int | None = None, on_visit=None) -> SearchResult:
        """Anneal from the best of ``starts`` until ``deadline`` (perf_counter), Ctrl-C or ``max_evals``.

        ``on_improve(placement, value)`` is called at each new best integer value, ``on_visit(placement)``
        at each new best fractional score (e.g. to harvest columns)."""
        t0 = time.perf_counter()
        t_ref = t0 if t_ref is None else t_ref
        best = None
        for pl in starts:
            a = np.where(pl.num_blocks > 0, pl.first_block, 0).astype(np.int64)
            m = pl.num_blocks.astype(np.int64).copy()
            f = self.score(a, m)
            if best is None or f < best[0]:
                best = (f, a.copy(), m.copy())
        f_best, a_best, m_best = best
        hist = [(time.perf_counter() - t_ref, job_servers_of(f_best))]
        pool = []
        a, m, f = a_best.copy(), m_best.copy(), f_best
        T0, T1 = self.temperatures
        span = max(deadline - t0, 1e-3)
        stale = 0
        it = 0
        while True:
            it += 1
            if it % 64 == 0:
                now = time.perf_counter()
                if now >= deadline or STOP.requested:
                    break
                frac = (now - t0) / span
                temp = T0 * (T1 / T0) ** frac
            else:
                temp = T0 if it < 64 else temp
            if max_evals is not None and self.evaluations >= max_evals:
                break
            na, nm = a.copy(), m.copy()
            if not self._move(na, nm):
                continue
            nf = self.score(na, nm)
            d = nf - f
            if d <= 0 or (nf < BIG and f < BIG and self.rng.random() < math.exp(-d / max(temp, 1e-9))):
                a, m, f = na, nm, nf
                if f < f_best - 1e-12:
                    improved_int = job_servers_of(f) != job_servers_of(f_best)
                    f_best, a_best, m_best = f, a.copy(), m.copy()
                    stale = 0
                    if on_visit is not None and not improved_int:
                        on_visit(_placement(a_best, m_best))
                    if improved_int:
                        pl = _placement(a_best, m_best)
                        hist.append((time.perf_counter() - t_ref, job_servers_of(f_best)))
                        pool.append(pl)
                        if on_improve is not None:
                            on_improve(pl, job_servers_of(f_best))
                    continue
            stale += 1
            if stale > 4000:  # restart the walk from the best placement
                a, m, f = a_best.copy(), m_best.copy(), f_best
                stale = 0
        best_pl = _placement(a_best, m_best)
        if not pool or not _same(pool[-1], best_pl):
            pool.append(best_pl)
        return SearchResult(best_pl, job_servers_of(f_best), f_best, self.evaluations,
                            time.perf_counter() - t0, hist, pool)


def _same(p: Placement, q: Placement) -> bool:
    return bool(np.array_equal(p.first_block, q.first_block) and np.array_equal(p.num_blocks, q.num_blocks))


def _placement(a: np.ndarray, m: np.ndarray) -> Placement:
    a = np.where(m > 0, a, 0)
    return Placement(a.astype(np.int64).copy(), m.astype(np.int64).copy())


def gca_design(problem: Problem, placement: Placement):
    """GCA's allocation on ``placement``, truncated to the job servers needed (None if short)."""
    al = gca(problem, placement)
    if al.job_servers_needed(problem.required_rate) is None:
        return None
    return truncate(problem, al)


def lp_placement(problem: Problem, segs, y: np.ndarray, threshold: float = 0.25) -> Placement | None:
    """Round an LP solution's segment values: each server takes its largest-y range if y ≥ threshold."""
    a = np.zeros(problem.num_servers, np.int64)
    m = np.zeros(problem.num_servers, np.int64)
    best = np.zeros(problem.num_servers)
    for s in np.flatnonzero(y >= threshold):
        j = int(segs.server[s])
        if y[s] > best[j]:
            best[j] = y[s]
            a[j] = segs.first[s]
            m[j] = segs.length[s]
    return Placement(a, m) if m.any() else None


def search_starts(problem: Problem, greedy, inc: dict, extra_starts=()) -> list[Placement]:
    """Start placements of a placement search: the greedy's of every c (unless ``extra_starts`` are
    given) and the incumbent's, plus ``extra_starts``. When there is no design at all (GBP-CR + GCA
    reach λ/ρ̄ at no c), GBP-CR's short placements of every c: the search's score (rate shortfall
    beyond a design) leads from them to a first design."""
    starts = [pl for _, pl, _ in greedy.candidates] if greedy is not None and not extra_starts else []
    if inc.get("placement") is not None:
        starts.append(inc["placement"])
    starts += [pl for pl in extra_starts if pl is not None]
    if not starts:
        from chaincomp.heuristics.gbp_cr import gbp_cr

        starts = [gbp_cr(problem, c).placement for c in range(1, problem.max_cache_reservation + 1)]
        starts = [pl for pl in starts if pl.used.size]
    return starts


def run_local_search(problem: Problem, segs, master, inc: dict, better, greedy, deadline: float, t0: float,
                     seed: int | None, history: list, on_design=None, extra_starts=()) -> dict:
    """The milp's local-search phase: anneal from the greedy's placements (and the incumbent's) until
    ``deadline``; every placement whose GCA design beats the incumbent becomes the incumbent
    (``inc`` is the milp's incumbent dict, ``history`` its (time, value) list) and its chains join the
    column pool of ``master``. ``on_design(placement, allocation)`` may refine each new incumbent.
    Returns the phase's log (for ``phases``)."""
    from chaincomp.formulations.common import chain_segments

    search = PlacementSearch(problem, seed)
    starts = search_starts(problem, greedy, inc, extra_starts)
    if not starts:
        return {"skipped": "no start placement"}
    log = {"improvements": 0, "starts": len(starts)}

    def on_improve(pl: Placement, value) -> None:
        if value is None or not better(float(value)):
            return
        full = gca(problem, pl)
        al = gca_design(problem, pl)
        if al is None or not better(float(al.total_capacity)):
            return
        inc.update(placement=pl, allocation=al, value=float(al.total_capacity), source="local search")
        history.append((time.perf_counter() - t0, float(al.total_capacity)))
        log["improvements"] += 1
        for ch in full.chains:
            master.add_chain(chain_segments(segs, pl, ch), ch.service_time_s)

    def on_visit(pl: Placement) -> None:  # chains of good placements seed the column pool
        log["harvested"] = log.get("harvested", 0) + 1
        for ch in gca(problem, pl).chains:
            master.add_chain(chain_segments(segs, pl, ch), ch.service_time_s)

    r = search.run(starts, deadline, t_ref=t0, on_improve=on_improve, on_visit=on_visit)
    log.update(evaluations=r.evaluations, time_s=round(r.time_s, 3), best_gca=r.value,
               evals_per_s=round(r.evaluations / max(r.time_s, 1e-9)))
    return log
