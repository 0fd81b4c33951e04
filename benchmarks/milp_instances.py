"""BLOOM-like random instances for the MILP benchmark (seeded; SPEC §6.1, scaled to J × L).

Servers are high-performance (τ^p = 0.109 s/block) with probability ``eta``, else low-performance
(τ^p = 0.175 s); τ^c = 20 · (RTT + 18 ms) with RTT uniform in 5–60 ms; s_m = 1.32 GB, s_c = 0.11 GB.
At L = 70 memories are SPEC §6.1's 40 GB / 20 GB. For smaller L they are scaled so that a high
server hosts ≈ 43 % and a low one ≈ 21 % of the model while keeping ≈ 6 cache slots per hosted block.
λ is ``fraction`` × ρ̄ × the largest ν any GBP-CR + GCA design reaches with every server used, so the
instance is feasible and needs a fair share of the cluster.
"""

from __future__ import annotations

import numpy as np

from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from chaincomp.problem import Problem


def bloom_like(J: int, L: int, seed: int = 0, eta: float = 0.3, fraction: float = 0.5) -> Problem:
    rng = np.random.default_rng(seed)
    s_m, s_c = 1.32, 0.11
    high = rng.random(J) < eta
    if not high.any():
        high[0] = True
    if L == 70:
        memory = np.where(high, 40.0, 20.0)
    else:
        blocks = np.where(high, max(2, round(0.43 * L)), max(1, round(0.21 * L)))
        memory = blocks * (s_m + 6 * s_c) + 2 * s_c
    tau_p = np.where(high, 0.109, 0.175)
    rtt = rng.uniform(0.005, 0.060, J)
    tau_c = 20 * (rtt + 0.018)
    p = Problem(
        server_ids=tuple(f"s{j}" for j in range(J)),
        memory_gb=memory.astype(float),
        tau_comm_s=tau_c,
        tau_comp_s=tau_p,
        num_blocks=L,
        block_size_gb=s_m,
        cache_size_gb=s_c,
        arrival_rate=1e9,
        target_load=0.7,
        name=f"bloom-like-{J}x{L}-s{seed}",
    )
    nu = 0.0
    for c in range(1, p.max_cache_reservation + 1):
        g = gbp_cr(p, c)
        if g.num_chains:
            nu = max(nu, gca(p, g.placement).service_rate)
    return p.with_workload(arrival_rate=max(fraction * 0.7 * nu, 1e-6))
