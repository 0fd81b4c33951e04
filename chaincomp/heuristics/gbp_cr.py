"""Algorithm 1 — GBP-CR: Greedy Block Placement with Cache Reservation (SPEC §3.1).

Every hosted block reserves cache for c jobs, so server j hosts m_j(c) = min(⌊M_j/(s_m + s_c c)⌋, L)
blocks (Eq. 6) and one pass costs t_j(c) = τ^c_j + τ^p_j m_j(c). Servers are taken by increasing
amortized time t̃_j(c) = t_j(c)/m_j(c) (Eq. 8; stable sort, servers with m_j(c) = 0 skipped) and
tile blocks 1..L chain after chain; a chain's last server is shifted back to end at L (keeping all
its blocks, so it may overlap its predecessor). The loop stops as soon as the chains formed give
Σ_groups (Σ_{j∈group} t_j(c))⁻¹ ≥ λ/(ρ̄ c) (problem (7), Lemma 1). Servers not reached host nothing.
K(c) is the number of chains formed; c·K(c) is the surrogate objective. O(J log J).
Theorem 2: with equal memory GBP-CR solves (7) optimally.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaincomp.core.placement import Placement
from chaincomp.problem import Problem


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
    with np.errstate(divide="ignore", invalid="ignore"):
        amortized = np.where(m > 0, t / np.maximum(m, 1), np.inf)
    return m, t, amortized


def gbp_cr(problem: Problem, c: int) -> GreedyPlacement:
    """Run Algorithm 1 for cache reservation ``c`` ≥ 1 and return the placement and K(c)."""
    if c < 1:
        raise ValueError("cache reservation c must be ≥ 1")
    m_c, t_c, amortized = amortized_times(problem, c)
    return chain_cut(problem, c, np.argsort(amortized, kind="stable"), m_c, t_c)


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
    J = problem.num_servers
    first = np.zeros(J, dtype=np.int64)
    count = np.zeros(J, dtype=np.int64)
    a, nu, T, chains = 1, 0.0, 0.0, 0
    m_list, t_list = m_c.tolist(), t_c.tolist()
    for j in np.asarray(order).tolist():
        mj = m_list[j]
        if mj == 0:
            continue
        first[j] = min(a, L - mj + 1)
        count[j] = mj
        T += t_list[j]
        a = min(a + mj - 1, L) + 1
        if a > L:
            nu += 1.0 / T
            chains += 1
            if nu >= target:
                return GreedyPlacement(c, Placement(first, count), chains, nu, True)
            a, T = 1, 0.0
    hosted = int(m_c.sum())
    if chains == 0:
        reason = (
            f"total memory hosts only {min(hosted, L)} of {L} blocks at c = {c}"
            if hosted < L
            else f"no complete chain can be formed at c = {c}"
        )
    else:
        reason = (
            f"all {chains} chains formable at c = {c} give rate {nu * c:.4g} job/s < λ/ρ̄ = "
            f"{problem.required_rate:.4g}"
        )
    return GreedyPlacement(c, Placement(first, count), chains, nu, False, reason)
