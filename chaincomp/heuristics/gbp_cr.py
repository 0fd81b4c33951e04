"""Algorithm 1 — GBP-CR: Greedy Block Placement with Cache Reservation (SPEC §3.1).

Every hosted block reserves cache for c jobs, so server j hosts m_j(c) = min(⌊M_j/(s_m + s_c c)⌋, L)
blocks (Eq. 6) and one pass costs t_j(c) = τ^c_j + τ^p_j m_j(c). Servers are taken by increasing
amortized time t̃_j(c) = t_j(c)/m_j(c) (Eq. 8; stable sort, servers with m_j(c) = 0 skipped) and
tile blocks 1..L chain after chain; a chain's last server is shifted back to end at L (keeping all
its blocks, so it may overlap its predecessor). The loop stops as soon as the chains formed give
Σ_groups (Σ_{j∈group} t_j(c))⁻¹ ≥ λ/(ρ̄ c) (problem (7), Lemma 1). Servers not reached host nothing.
K(c) is the number of chains formed; c·K(c) is the surrogate objective. O(J log J): one stable
sort, then the chain-cutting loop in a numba kernel (issue 14; it was a Python loop over J).
Theorem 2: with equal memory GBP-CR solves (7) optimally.

Memory bound (used by the c-sweep, SPEC §3.5): m_j(c) is non-increasing in c, so once
Σ_j m_j(c) < L no chain can form at c or at any larger c (:func:`hosted_blocks`,
:func:`memory_bound_placement`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from chaincomp.core.jit import pick, use_compiled
from chaincomp.core.placement import Placement
from chaincomp.problem import Problem, safe_floor


@dataclass(frozen=True)
class GreedyPlacement:
    """GBP-CR's output for one c.

    ``feasible`` is False when all servers together cannot reach λ/(ρ̄ c) (K(c) = ∞); then
    ``placement`` still holds what the pass built and ``reason`` says why.
    """

    cache_reservation: int
    placement: Placement
    num_chains: int  # K(c)
    group_rate: float  # Σ_groups (Σ t_j(c))⁻¹
    feasible: bool
    reason: str = ""

    @property
    def surrogate(self) -> float:
        """c·K(c) (∞ if infeasible)."""
        return float(self.cache_reservation * self.num_chains) if self.feasible else float("inf")


def amortized_times(problem: Problem, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """m_j(c) (Eq. 6), t_j(c) = τ^c_j + τ^p_j m_j(c), and t̃_j(c) = t_j(c)/m_j(c) (Eq. 8, ∞ if m = 0)."""
    m = problem.blocks_at_reservation(c)
    t = problem.tau_comm_s + problem.tau_comp_s * m
    amortized = np.divide(t, m, out=np.full(m.shape, np.inf), where=m > 0)
    return m, t, amortized


def hosted_blocks(problem: Problem, reservations) -> np.ndarray:
    """Σ_j m_j(c) (Eq. 6) for each c in ``reservations``; non-increasing in c.

    Computed per distinct memory size (with its multiplicity), by the same expression as
    :meth:`Problem.blocks_at_reservation`, so the sums are exactly ``m_c.sum()``.
    """
    mem, count = np.unique(problem.memory_gb, return_counts=True)
    cs = np.asarray(list(reservations), dtype=np.int64)
    out = np.empty(cs.size, dtype=np.int64)
    step = max(1, 1_000_000 // max(mem.size, 1))  # bound the (memory sizes × c's) block
    for i in range(0, cs.size, step):
        denom = problem.block_size_gb + problem.cache_size_gb * cs[i : i + step].astype(float)
        m = np.minimum(safe_floor(mem[:, None] / denom[None, :]), problem.num_blocks)
        out[i : i + step] = count @ m
    return out


def memory_bound_reason(problem: Problem, c: int, hosted: int) -> str:
    """The reason GBP-CR gives when Σ_j m_j(c) < L (no chain can form)."""
    return f"total memory hosts only {min(hosted, problem.num_blocks)} of {problem.num_blocks} blocks at c = {c}"


@numba.njit(cache=True)
def _chain_cut_kernel(order, m, t, L, target):  # pragma: no cover - compiled
    J = m.size
    first = np.zeros(J, dtype=np.int64)
    count = np.zeros(J, dtype=np.int64)
    a = 1
    nu = 0.0
    T = 0.0
    chains = 0
    for i in range(order.size):
        j = order[i]
        mj = m[j]
        if mj == 0:
            continue
        first[j] = min(a, L - mj + 1)
        count[j] = mj
        T += t[j]
        a = min(a + mj - 1, L) + 1
        if a > L:
            nu += 1.0 / T
            chains += 1
            if nu >= target:
                return first, count, chains, nu, True
            a = 1
            T = 0.0
    return first, count, chains, nu, False


def gbp_cr(problem: Problem, c: int, order_cache: dict | None = None) -> GreedyPlacement:
    """Run Algorithm 1 for cache reservation ``c`` ≥ 1 and return the placement and K(c).

    ``order_cache`` (a dict the caller keeps across c's) reuses t_j(c) and the sorted order of the
    previous c when m(c) is the same — only the stopping target differs. m_j(c) is non-increasing in
    c, so c's with equal m(c) are consecutive and one remembered entry suffices.
    """
    if c < 1:
        raise ValueError("cache reservation c must be ≥ 1")
    return _gbp_cr_with_blocks(problem, c, problem.blocks_at_reservation(c), order_cache)


def blocks_for_reservations(problem: Problem, reservations) -> np.ndarray:
    """m_j(c) for several c at once (row i: c = reservations[i]); the same arithmetic as
    :meth:`Problem.blocks_at_reservation`, so every row equals it exactly."""
    cs = np.asarray(list(reservations), dtype=np.int64)
    denom = problem.block_size_gb + problem.cache_size_gb * cs.astype(float)
    return np.minimum(safe_floor(problem.memory_gb[None, :] / denom[:, None]), problem.num_blocks)


def _gbp_cr_with_blocks(problem: Problem, c: int, m_c: np.ndarray, order_cache: dict | None) -> GreedyPlacement:
    """:func:`gbp_cr` with m(c) given (``m_c`` must be ``problem.blocks_at_reservation(c)``)."""
    hit = None
    if order_cache is not None:
        last = order_cache.get("last")  # m_j(c) is monotone in c: equal m's come in consecutive c's
        if last is not None and np.array_equal(last[0], m_c):
            hit = last[1:]
    order, t_c = hit if hit is not None else (_NO_ORDER, _NO_TIMES)
    target = problem.arrival_rate / (problem.target_load * c)
    kernel = pick(_gbp_cr_kernel, use_compiled(problem.num_servers * problem.num_blocks))
    order, t_c, first, count, chains, nu, ok = kernel(
        m_c, problem.tau_comm_s, problem.tau_comp_s, int(problem.num_blocks), float(target), order, t_c
    )
    if order_cache is not None and hit is None:
        order_cache["last"] = (m_c, order, t_c)
    return _greedy_placement(problem, c, m_c, first, count, chains, nu, ok)


_NO_ORDER = np.zeros(0, dtype=np.int64)
_NO_TIMES = np.zeros(0)


@numba.njit(cache=True)
def _gbp_cr_kernel(m, tau_c, tau_p, L, target, order, t):  # pragma: no cover - compiled
    """Alg. 1 for one c: unless given (``order.size == m.size``), t_j(c) and the stable order of
    increasing t̃_j(c) (Eq. 8, ∞ where m = 0) — the same arithmetic as :func:`amortized_times`
    and ``np.argsort(kind="stable")`` — then the chain cut. Returns (order, t, first, count, K, rate, ok)."""
    J = m.size
    if order.size != J:
        amortized = np.empty(J)
        t = np.empty(J)
        for j in range(J):
            t[j] = tau_c[j] + tau_p[j] * m[j]
            amortized[j] = t[j] / m[j] if m[j] > 0 else np.inf
        order = np.argsort(amortized, kind="mergesort")
    first, count, chains, nu, ok = _chain_cut_kernel(order, m, t, L, target)
    return order, t, first, count, chains, nu, ok


def chain_cut(
    problem: Problem,
    c: int,
    order,
    m_c: np.ndarray | None = None,
    t_c: np.ndarray | None = None,
) -> GreedyPlacement:
    """Algorithm 1's chain-cutting loop over servers in the given ``order``.

    GBP-CR passes the order of increasing t̃_j(c); the random-placement baseline (SPEC §6.1) passes
    a random permutation. Servers with m_j(c) = 0 are skipped.
    """
    if c < 1:
        raise ValueError("cache reservation c must be ≥ 1")
    if m_c is None or t_c is None:
        m_c, t_c, _ = amortized_times(problem, c)
    L = problem.num_blocks
    target = problem.arrival_rate / (problem.target_load * c)
    kernel = pick(_chain_cut_kernel, use_compiled(problem.num_servers * problem.num_blocks))
    first, count, chains, nu, ok = kernel(
        np.asarray(order, dtype=np.int64), np.asarray(m_c, dtype=np.int64), np.asarray(t_c, dtype=float), int(L), float(target)
    )
    return _greedy_placement(problem, c, m_c, first, count, chains, nu, ok)


def _greedy_placement(problem, c, m_c, first, count, chains, nu, ok) -> GreedyPlacement:
    L = problem.num_blocks
    if ok:
        return GreedyPlacement(c, Placement.from_owned_arrays(first, count), int(chains), float(nu), True)
    hosted = int(m_c.sum())
    if chains == 0:
        reason = (
            memory_bound_reason(problem, c, hosted)
            if hosted < L
            else f"no complete chain can be formed at c = {c}"
        )
    else:
        reason = (
            f"all {chains} chains formable at c = {c} give rate {nu * c:.4g} job/s < λ/ρ̄ = "
            f"{problem.required_rate:.4g}"
        )
    return GreedyPlacement(c, Placement(first, count), chains, nu, False, reason)


class LazyGreedyPlacement(GreedyPlacement):
    """An infeasible GBP-CR result kept without its placement (J entries per c of the sweep):
    K(c), the rate and the reason are stored; the partial placement the pass builds is rebuilt
    (by running GBP-CR again, deterministic) only if someone reads ``placement``."""

    def __init__(self, problem: Problem, c: int, num_chains: int, group_rate: float, reason: str):
        d = self.__dict__
        d["cache_reservation"] = c
        d["num_chains"] = num_chains
        d["group_rate"] = group_rate
        d["feasible"] = False
        d["reason"] = reason
        d["_problem"] = problem

    @property
    def placement(self) -> Placement:  # type: ignore[override]
        cached = self.__dict__.get("_placement")
        if cached is None:
            cached = gbp_cr(self._problem, self.cache_reservation).placement
            self.__dict__["_placement"] = cached
        return cached


class MemoryBoundPlacement(LazyGreedyPlacement):
    """GBP-CR's (infeasible) result at a c with Σ_j m_j(c) < L, built without running the pass:
    K = 0, rate 0, the memory reason; the partial placement is computed only if read."""

    def __init__(self, problem: Problem, c: int, hosted: int):
        super().__init__(problem, c, 0, 0.0, memory_bound_reason(problem, c, hosted))
