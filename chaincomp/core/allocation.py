"""Server chains and cache allocations (SPEC §1, Eqs. 2–4).

A :class:`Chain` is a j₀ → j_{J+1} path through real servers; ``blocks[h]`` is m_ij, the number of
blocks the h-th server processes. Its service time is T_k = Σ (τ^c_j + τ^p_j m_ij) (Eq. 2).
An :class:`Allocation` gives every chain a capacity c_k (concurrent jobs); the chain then acts as
c_k parallel job servers of rate μ_k = 1/T_k, and ν = Σ_k μ_k c_k (Eq. 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from chaincomp.problem import Problem


def chain_service_time(problem: Problem, servers: tuple[int, ...], blocks: tuple[int, ...]) -> float:
    """T_k = Σ_{(i,j)∈k} (τ^c_j + τ^p_j m_ij) (Eq. 2), summed hop by hop in chain order."""
    total = 0.0
    for j, b in zip(servers, blocks):
        total += float(problem.tau_comm_s[j]) + float(problem.tau_comp_s[j]) * b
    return total


@dataclass(frozen=True)
class Chain:
    """One server chain: server indices in order, blocks processed per hop, service time T_k (s)."""

    servers: tuple[int, ...]
    blocks: tuple[int, ...]
    service_time_s: float

    @property
    def rate(self) -> float:
        """μ_k = 1/T_k."""
        return 1.0 / self.service_time_s

    @classmethod
    def build(cls, problem: Problem, servers, blocks) -> "Chain":
        servers = tuple(int(s) for s in servers)
        blocks = tuple(int(b) for b in blocks)
        return cls(servers, blocks, chain_service_time(problem, servers, blocks))


@dataclass(frozen=True)
class Allocation:
    """Chains with capacities c_k, kept fastest first (decreasing μ_k; stable for ties)."""

    chains: tuple[Chain, ...]
    capacities: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.chains) != len(self.capacities):
            raise ValueError("one capacity per chain")
        order = sorted(range(len(self.chains)), key=lambda k: self.chains[k].service_time_s)
        object.__setattr__(self, "chains", tuple(self.chains[k] for k in order))
        object.__setattr__(self, "capacities", tuple(int(self.capacities[k]) for k in order))

    @property
    def rates(self) -> np.ndarray:
        return np.array([ch.rate for ch in self.chains], dtype=float)

    @property
    def capacity_array(self) -> np.ndarray:
        return np.array(self.capacities, dtype=np.int64)

    @property
    def total_capacity(self) -> int:
        """C = Σ_k c_k."""
        return int(sum(self.capacities))

    @property
    def service_rate(self) -> float:
        """ν = Σ_k μ_k c_k (Eq. 4)."""
        return float(np.dot(self.rates, self.capacity_array)) if self.chains else 0.0

    def slot_use(self, num_servers: int) -> np.ndarray:
        """Cache slots reserved on each server: Σ_{(i,j)∈k} m_ij c_k (Eq. 3 LHS)."""
        use = np.zeros(num_servers, dtype=np.int64)
        for ch, c in zip(self.chains, self.capacities):
            for j, b in zip(ch.servers, ch.blocks):
                use[j] += b * c
        return use

    def job_servers_needed(self, required_rate: float) -> int | None:
        """GCA's objective value for (5) (SPEC §3.2).

        Take chains by decreasing μ_k with c_k job servers each, the last one only partly, until
        Σ μ c ≥ λ/ρ̄; the count of job servers used is returned. ``None`` if all chains together
        fall short of ``required_rate``.
        """
        need = float(required_rate)
        count = 0
        for ch, c in zip(self.chains, self.capacities):
            if need <= 1e-12 * max(1.0, required_rate):
                return count
            mu = ch.rate
            if mu * c >= need:
                return count + max(1, math.ceil(need / mu - 1e-9))
            need -= mu * c
            count += c
        return count if need <= 1e-12 * max(1.0, required_rate) else None

    def to_records(self, problem: Problem) -> list[dict]:
        """JSON records, fastest first: {servers, blocks, service_time_s, capacity}."""
        return [
            {
                "servers": [problem.server_ids[j] for j in ch.servers],
                "blocks": list(ch.blocks),
                "service_time_s": ch.service_time_s,
                "capacity": c,
            }
            for ch, c in zip(self.chains, self.capacities)
        ]
