"""BLOOM-like random instances for the MILP benchmark and tests (seeded; SPEC §6.1 scaled to J × L).

Servers are high-performance (τ^p = 0.109 s/block, memory enough for ≈ 43 % of the model at one
cache slot per block) with probability ``eta``, else low-performance (τ^p = 0.175 s, ≈ 21 %). At
L = 70 this is exactly SPEC §6.1 (40 GB / 20 GB, s_m = 1.32 GB, s_c = 0.11 GB). τ^c = 20 · (RTT +
18 ms) with RTT uniform in 5–60 ms. λ is set so that ≈ ``load_servers`` · J job servers are needed.
"""

from __future__ import annotations

import numpy as np

from chaincomp.problem import Problem


def bloom_like(J: int, L: int, seed: int = 0, eta: float = 0.3, load_servers: float = 0.5) -> Problem:
    rng = np.random.default_rng(seed)
    s_m, s_c = 1.32, 0.11
    scale = L / 70.0
    high = rng.random(J) < eta
    if not high.any():
        high[0] = True
    memory = np.where(high, 40.0, 20.0) * scale
    memory = np.maximum(memory, s_m + s_c + 1e-9)
    tau_p = np.where(high, 0.109, 0.175)
    rtt = rng.uniform(0.005, 0.060, J)
    tau_c = 20 * (rtt + 0.018)
    t_chain = float(np.mean(tau_p)) * L + 3 * float(np.mean(tau_c))
    rate = 0.7 * load_servers * J / t_chain
    return Problem(
        server_ids=tuple(f"s{j}" for j in range(J)),
        memory_gb=memory,
        tau_comm_s=tau_c,
        tau_comp_s=tau_p,
        num_blocks=L,
        block_size_gb=s_m,
        cache_size_gb=s_c,
        arrival_rate=rate,
        target_load=0.7,
        name=f"bloom-like-{J}x{L}-s{seed}",
    )
