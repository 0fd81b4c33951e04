"""JFFC-only baseline: the whole model on every server that can hold it (SPEC §4.3).

The paper's "JFFC only" benchmark (Table I) tests the value of cache reservation: no splitting,
every server able to host all L blocks and at least one job's cache becomes a one-server chain,

    c_j = ⌊(M_j − L·s_m)/(L·s_c)⌋   (servers with c_j < 1 are dropped),
    T_j = τ^c_j + τ^p_j·L,

and jobs are dispatched by JFFC (Alg. 3) over these chains. The floor uses the toolkit's
floating-point tolerance (``safe_floor``) like every other slot count.
"""

from __future__ import annotations

import time

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.errors import InfeasibleInstance
from chaincomp.problem import Problem, safe_floor


def jffc_only_capacities(problem: Problem) -> np.ndarray:
    """c_j = ⌊(M_j − L s_m)/(L s_c)⌋, clipped at 0."""
    L = problem.num_blocks
    c = np.asarray(safe_floor((problem.memory_gb - L * problem.block_size_gb) / (L * problem.cache_size_gb)))
    return np.maximum(c, 0)


def jffc_only_allocation(problem: Problem) -> tuple[Placement, Allocation]:
    L, J = problem.num_blocks, problem.num_servers
    caps = jffc_only_capacities(problem)
    keep = np.flatnonzero(caps >= 1)
    if keep.size == 0:
        need = L * (problem.block_size_gb + problem.cache_size_gb)
        raise InfeasibleInstance(
            f"JFFC-only: no server can hold the whole model plus one job's cache "
            f"({need:.4g} GB needed, largest memory {float(problem.memory_gb.max()):.4g} GB)"
        )
    first = np.zeros(J, dtype=np.int64)
    count = np.zeros(J, dtype=np.int64)
    first[keep] = 1
    count[keep] = L
    chains = tuple(Chain.build(problem, (int(j),), (L,)) for j in keep)
    return Placement(first, count), Allocation(chains, tuple(int(caps[j]) for j in keep))


def jffc_only_solution(problem: Problem):
    from chaincomp.core.solution import Solution

    t0 = time.perf_counter()
    placement, allocation = jffc_only_allocation(problem)
    return Solution.create(problem, "jffc-only", placement, allocation, parameters={},
                           wall_time_s=time.perf_counter() - t0,
                           extra={"dispatch": "JFFC over one-server chains (whole model per server)"})
