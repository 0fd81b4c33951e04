"""Hand-built instances and chain sets for the simulator tests (independent of instance loaders)."""

from __future__ import annotations

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.problem import Problem, TimingModel


def bloom_like(seed: int = 0, arrival_rate: float = 0.2) -> Problem:
    """SPEC §6.1 by hand: L = 70, s_m = 1.32, s_c = 0.11; 4 × (40 GB, τ^p 0.109 s), 16 × (20 GB, 0.175 s);
    τ^c = 20·(RTT + 0.018) with RTT ~ U(10, 60) ms."""
    rng = np.random.default_rng(seed)
    J = 20
    rtt = rng.uniform(0.010, 0.060, J)
    mem = np.array([40.0] * 4 + [20.0] * 16)
    tau_p = np.array([0.109] * 4 + [0.175] * 16)
    return Problem(
        server_ids=tuple(f"s{j}" for j in range(J)),
        memory_gb=mem,
        tau_comm_s=20 * (rtt + 0.018),
        tau_comp_s=tau_p,
        num_blocks=70,
        block_size_gb=1.32,
        cache_size_gb=0.11,
        arrival_rate=arrival_rate,
        target_load=0.7,
        mean_input_tokens=2000,
        mean_output_tokens=20,
        name="bloom-like",
    )


def random_chain_set(rng: np.random.Generator, num_servers: int = 30):
    """A problem plus 1–8 disjoint one- or two-server chains with random times and capacities."""
    K = int(rng.integers(1, 9))
    tau_c = rng.uniform(0.05, 2.0, num_servers)
    tau_p = rng.uniform(0.001, 0.05, num_servers)
    problem = Problem(
        server_ids=tuple(f"s{j}" for j in range(num_servers)),
        memory_gb=np.full(num_servers, 100.0),
        tau_comm_s=tau_c,
        tau_comp_s=tau_p,
        num_blocks=10,
        block_size_gb=1.0,
        cache_size_gb=0.1,
        arrival_rate=1.0,
    )
    perm = rng.permutation(num_servers)
    chains, caps = [], []
    for k in range(K):
        if rng.random() < 0.5:
            chains.append(Chain.build(problem, (int(perm[2 * k]),), (10,)))
        else:
            chains.append(Chain.build(problem, (int(perm[2 * k]), int(perm[2 * k + 1])), (4, 6)))
        caps.append(int(rng.integers(1, 6)))
    return problem, Allocation(tuple(chains), tuple(caps))


def with_timing(problem: Problem, rng: np.random.Generator) -> Problem:
    """Attach a TimingModel (SPEC §1.1 constants) so length-driven service works."""
    from dataclasses import replace

    J = problem.num_servers
    timing = TimingModel(
        rtt_s=rng.uniform(0.01, 0.06, J),
        prefill_s_per_token=rng.uniform(2e-5, 5e-5, J),
        decode_s_per_token=rng.uniform(1e-3, 3e-3, J),
    )
    return replace(problem, timing=timing)
