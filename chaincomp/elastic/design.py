"""Carrying a design across cluster changes, and the predicted response Ω it is scored by (SPEC §9).

- :func:`carry_over`: the design D restricted to the servers still present (matched by id): every
  present server keeps its range, a joiner holds nothing, and every chain not through a departed
  server keeps its capacity (the N−1 rule of SPEC §9). It is valid on the new cluster (same ranges
  and a subset of the chains, so memory still fits).
- :func:`predicted`: Ω(D′; λ) — the Theorem-4 lower bound on JFFC's mean response time (SPEC §3.4,
  objective ``response``, seconds) or the job servers needed (SPEC §3.2, objective ``job-servers``);
  ∞ when the design cannot carry λ (λ ≥ ν) or does not reach λ/ρ̄ for job servers.
"""

from __future__ import annotations

import math

import numpy as np

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.errors import UsageError
from chaincomp.problem import Problem

OBJECTIVES = ("response", "job-servers")


def surviving_ranges(old_problem: Problem, placement: Placement, new_problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(first block, block count) per server of ``new_problem``: the range each surviving server
    held in ``placement`` (matched by id), 0 blocks for servers that are new."""
    index = {sid: j for j, sid in enumerate(new_problem.server_ids)}
    J = new_problem.num_servers
    first = np.zeros(J, dtype=np.int64)
    count = np.zeros(J, dtype=np.int64)
    for j_old, sid in enumerate(old_problem.server_ids):
        j = index.get(sid)
        if j is not None and placement.num_blocks[j_old] > 0:
            first[j] = placement.first_block[j_old]
            count[j] = placement.num_blocks[j_old]
    return first, count


def carry_over(old_problem: Problem, placement: Placement, allocation: Allocation, new_problem: Problem) -> tuple[Placement, Allocation]:
    """D on ``new_problem``: surviving ranges and surviving chains (capacities kept)."""
    index = {sid: j for j, sid in enumerate(new_problem.server_ids)}
    first, count = surviving_ranges(old_problem, placement, new_problem)
    chains, caps = [], []
    for ch, c in zip(allocation.chains, allocation.capacities):
        ids = [old_problem.server_ids[j] for j in ch.servers]
        if all(i in index for i in ids):
            chains.append(Chain.build(new_problem, [index[i] for i in ids], ch.blocks))
            caps.append(c)
    return Placement(first, count), Allocation(tuple(chains), tuple(caps))


def predicted(problem: Problem, allocation: Allocation, objective: str = "response") -> float:
    """Ω of the module docstring (∞ when undefined)."""
    if objective not in OBJECTIVES:
        raise UsageError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if objective == "job-servers":
        n = allocation.job_servers_needed(problem.required_rate)
        return math.inf if n is None else float(n)
    if not allocation.chains:
        return math.inf
    return float(jffc_bounds(problem.arrival_rate, allocation.rates, allocation.capacity_array).lower_s)


def meets_target(problem: Problem, allocation: Allocation) -> bool:
    """ν ≥ λ/ρ̄ (with a 1e-12 relative tolerance) and λ < ν."""
    nu = allocation.service_rate
    return nu > 0 and nu >= problem.required_rate * (1 - 1e-12) and problem.arrival_rate < nu


def design_reservation(problem: Problem, placement: Placement, parameters: dict | None = None) -> int:
    """The design's cache reservation c: ``parameters.cache_reservation`` when present, else the
    median over hosting servers of ⌊(M_j/m_j − s_m)/s_c⌋ (the c its block counts imply, Eq. 6)."""
    c = (parameters or {}).get("cache_reservation")
    if isinstance(c, (int, np.integer)) and c >= 1:
        return int(c)
    used = placement.used
    if used.size == 0:
        return 1
    per = (problem.memory_gb[used] / placement.num_blocks[used] - problem.block_size_gb) / problem.cache_size_gb
    return max(1, int(np.median(np.floor(per + 1e-9))))
