"""Random feasible placements for the GBP-CR unit test (SPEC §6.1, the paper's Fig. 1).

Same chain-cutting rule as GBP-CR (Alg. 1) — m_j(c) blocks per server, tile 1..L, the server that
completes a chain pushed back to end at L, stop as soon as Σ_groups (Σ t_j(c))⁻¹ ≥ λ/(ρ̄c) — but
the servers are taken in a seeded uniformly random order instead of by amortized time. Servers with
m_j(c) = 0 are left out of the permutation (they could never contribute). The objective compared
in the paper is c·K(c).
"""

from __future__ import annotations

import numpy as np

from chaincomp.heuristics.gbp_cr import GreedyPlacement, chain_cut
from chaincomp.problem import Problem


def random_placement(problem: Problem, c: int, seed: int = 0) -> GreedyPlacement:
    """One random feasible-order placement at reservation c (seeded)."""
    m_c = problem.blocks_at_reservation(c)
    servers = np.flatnonzero(m_c > 0)
    order = np.random.default_rng(seed).permutation(servers)
    return chain_cut(problem, c, order)


def random_placements(problem: Problem, c: int, count: int = 100, seed: int = 0) -> list[GreedyPlacement]:
    """``count`` independent random placements (seeds derived from ``seed``)."""
    ss = np.random.SeedSequence(seed)
    return [random_placement(problem, c, int(s.generate_state(1)[0])) for s in ss.spawn(count)]


def random_feasible_placement(problem: Problem, c: int, seed: int = 0, max_tries: int = 1000) -> tuple[GreedyPlacement, int]:
    """Draw random orders (one seeded generator) until the chain cutting reaches λ/(ρ̄c).

    Returns the placement and the number of orders drawn. A random order can fail where GBP-CR
    succeeds (a slow server ends up alone in an incomplete chain); after ``max_tries`` failures the
    last attempt is returned (``feasible`` False).
    """
    m_c = problem.blocks_at_reservation(c)
    servers = np.flatnonzero(m_c > 0)
    rng = np.random.default_rng(seed)
    gp = None
    for t in range(1, max_tries + 1):
        gp = chain_cut(problem, c, rng.permutation(servers))
        if gp.feasible:
            return gp, t
    return gp, max_tries
