"""Kuhn–Munkres matching of servers to a new plan's roles (SPEC §9 "Matching"; SpotServe).

A plan computed on the new cluster gives every server j a *role*: the range (a_j, m_j) it should
host. Servers of one class — equal memory M_j and equal per-block compute τ^p_j — can swap roles
without changing any chain's block counts or memory use, so within each class we solve

    min_σ Σ_r newly_loaded(σ(r), role r)      (σ a bijection servers → roles of the class)

with ``scipy.optimize.linear_sum_assignment``, where newly_loaded(j, r) = |range_r \\ held_j|.
Swapping changes chain times only through τ^c_j; as a tie-break (never at the expense of one
reloaded block) the assignment also minimizes Σ_r τ^c_{σ(r)} · w_r, w_r = the number of job
servers (Σ c_k) of the plan's chains through role r. GCA is then re-run on the matched placement.

Why not equal memory only (the SPEC's wording)? With unequal τ^p a swap changes T_k and the
predicted response; equal (M, τ^p) keeps the plan's chain structure exactly. ``by="memory"``
allows the wider swaps.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.elastic.switching import Range, new_blocks
from chaincomp.errors import UsageError
from chaincomp.problem import Problem


def server_classes(problem: Problem, by: str = "memory+compute") -> list[list[int]]:
    """Groups of interchangeable server indices."""
    if by not in ("memory+compute", "memory"):
        raise UsageError(f"matching classes must be 'memory+compute' or 'memory', got {by!r}")
    groups: dict[tuple, list[int]] = defaultdict(list)
    for j in range(problem.num_servers):
        key = (round(float(problem.memory_gb[j]), 9),)
        if by == "memory+compute":
            key += (round(float(problem.tau_comp_s[j]), 12),)
        groups[key].append(j)
    return list(groups.values())


def role_weights(num_servers: int, allocation: Allocation | None) -> np.ndarray:
    """w_r = Σ c_k over the plan's chains through server r."""
    w = np.zeros(num_servers)
    if allocation is not None:
        for ch, c in zip(allocation.chains, allocation.capacities):
            for j in ch.servers:
                w[j] += c
    return w


def match_roles(
    problem: Problem,
    plan: Placement,
    held: dict[str, Range],
    allocation: Allocation | None = None,
    by: str = "memory+compute",
    classes: list[list[int]] | None = None,
) -> tuple[Placement, np.ndarray]:
    """Assign servers to the plan's roles; returns (matched placement, ``assign``: role r → server).

    ``held`` maps server id → the (first, last) range it holds now (absent: holds nothing);
    ``classes`` (from :func:`server_classes`) may be passed to reuse them across plans.
    """
    J = problem.num_servers
    a, m = plan.first_block.astype(float), plan.num_blocks.astype(float)
    e = a + m - 1
    w = role_weights(J, allocation)
    # held range per server (empty: lo > hi)
    h_lo = np.array([held[s][0] if s in held else 1.0 for s in problem.server_ids], dtype=float)
    h_hi = np.array([held[s][1] if s in held else 0.0 for s in problem.server_ids], dtype=float)
    assign = np.arange(J)
    for group in (classes if classes is not None else server_classes(problem, by)):
        if len(group) == 1:
            continue
        g = np.array(group)
        # cost[x, y] = blocks of role g[y] that server g[x] does not hold
        overlap = np.minimum(e[g][None, :], h_hi[g][:, None]) - np.maximum(a[g][None, :], h_lo[g][:, None]) + 1
        cost = m[g][None, :] - np.clip(overlap, 0, None) * (m[g][None, :] > 0)
        tie = problem.tau_comm_s[g][:, None] * w[g][None, :]
        scale = tie.max() * g.size + 1.0
        rows, cols = linear_sum_assignment(cost + tie / scale)
        assign[g[cols]] = g[rows]  # role g[cols[i]] goes to server g[rows[i]]
    a, m = plan.first_block, plan.num_blocks
    first = np.zeros(J, dtype=np.int64)
    count = np.zeros(J, dtype=np.int64)
    first[assign] = a
    count[assign] = m
    return Placement(first, count), assign


def reloaded_blocks(problem: Problem, placement: Placement, held: dict[str, Range]) -> int:
    """Σ_j |range_j \\ held_j| of a placement on ``problem``."""
    return int(sum(new_blocks(held.get(problem.server_ids[j]), int(placement.first_block[j]), int(placement.num_blocks[j]))
                   for j in range(problem.num_servers)))
