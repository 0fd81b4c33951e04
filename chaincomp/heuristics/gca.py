"""Algorithm 2 — GCA: Greedy Cache Allocation for any placement (SPEC §3.2).

    M_j ← M̃_j;  edges ← {(i,j) ∈ ℰ_{a,m} : M_j ≥ m_ij}
    while j₀ reaches j_{J+1}:
        k ← shortest j₀→j_{J+1} path, edge cost τ^c_j + τ^p_j m_ij
        c_k ← min over real j on k of ⌊M_j / m_ij⌋
        M_j ← M_j − m_ij c_k on k
        remove every edge (i,j) with M_j < m_ij (all such edges, not only those on k)

Because M_j only decreases, "edge (i,j) not yet removed" is exactly "M_j ≥ m_ij" with the current
M_j, so the kernel never stores the edge set. Servers sorted by last block e_j are a topological
order, and the predecessors of j with enough slots are the servers whose last block lies in
[max(a_j − 1, e_j − M_j), e_j − 1] — a contiguous range of that order. Each round is one DAG
shortest path.

Tie-breaking (documented because equal-time chains are common in constructed instances): among
equal-cost predecessors the dummy source wins, then the predecessor with the smallest last block,
then the smallest server index; among equal-cost chain ends the smallest server index wins.

Kernel (issue 14): the rounds run in :func:`chaincomp.heuristics.gca_kernel.gca_incremental`, a
numba kernel that after each round recomputes only the chain's servers and the shortest-path-tree
descendants whose distance changed, with one look-up per last-block group instead of one per
predecessor — the same chains, capacities and T_k, bit for bit, as the original kernel that
recomputed the whole DAG every round (kept as the test oracle in ``tests/gca_oracle.py``).
A straightforward Python version took 13.7 s for one GCA at J = 400; the compiled kernels take
milliseconds (benchmarks/bench_pipeline.py).

:func:`gca_arrays` returns the kernel's output as flat arrays (:class:`GCAResult`), which is all
the c-sweep needs (rates and capacities for Theorem 4); :func:`gca` turns it into an
:class:`~chaincomp.core.allocation.Allocation` without recomputing anything per chain: T_k is the
kernel's shortest distance, summed hop by hop exactly as Eq. 2 is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.heuristics.gca_kernel import gca_on_placement
from chaincomp.problem import Problem


@dataclass(frozen=True)
class GCAResult:
    """GCA's chains as flat arrays, fastest first: chain k visits ``servers[offsets[k]:offsets[k+1]]``
    (original server indices), processing ``blocks[...]`` blocks per hop, with T_k =
    ``service_times[k]`` (Eq. 2) and capacity ``capacities[k]``."""

    servers: np.ndarray
    blocks: np.ndarray
    offsets: np.ndarray
    capacities: np.ndarray
    service_times: np.ndarray

    @property
    def num_chains(self) -> int:
        return int(self.capacities.size)

    @cached_property
    def rates(self) -> np.ndarray:
        """μ_k = 1/T_k."""
        return 1.0 / self.service_times

    @cached_property
    def service_rate(self) -> float:
        """ν = Σ_k μ_k c_k (Eq. 4), computed as :attr:`Allocation.service_rate` does."""
        return float(np.dot(self.rates, self.capacities)) if self.capacities.size else 0.0

    @cached_property
    def allocation(self) -> Allocation:
        """:meth:`to_allocation`, built once."""
        return self.to_allocation()

    def to_allocation(self) -> Allocation:
        """The :class:`Allocation` (Chain objects with the kernel's T_k; nothing recomputed)."""
        sv = self.servers.tolist()
        bl = self.blocks.tolist()
        off = self.offsets.tolist()
        ts = self.service_times.tolist()
        chains = tuple(Chain(tuple(sv[off[k] : off[k + 1]]), tuple(bl[off[k] : off[k + 1]]), ts[k]) for k in range(len(ts)))
        return Allocation(chains, tuple(self.capacities.tolist()))


def gca_arrays(problem: Problem, placement: Placement) -> GCAResult:
    """Run Algorithm 2 on ``placement``; the chains as flat arrays (:class:`GCAResult`), fastest first."""
    from chaincomp.core.jit import pick, use_compiled  # tiny: pure Python, no compilation (core/jit.py)

    kernel = pick(gca_on_placement, use_compiled(int(problem.num_servers) * int(problem.num_blocks)))
    servers, blocks, offsets, caps, times = kernel(
        placement.first_block,
        placement.num_blocks,
        problem.residual_slots(placement.num_blocks),
        problem.tau_comm_s,
        problem.tau_comp_s,
        int(problem.num_blocks),
    )
    return GCAResult(servers, blocks, offsets, caps, times)


def gca(problem: Problem, placement: Placement) -> Allocation:
    """Run Algorithm 2 on ``placement``; chains are returned fastest first with capacities c_k."""
    return gca_arrays(problem, placement).to_allocation()
