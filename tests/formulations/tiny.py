"""Seeded random tiny / small instances with mixed memories and speeds (for the MILP tests)."""

from __future__ import annotations

import numpy as np

from chaincomp.problem import Problem


def random_instance(seed: int, J: int, L: int) -> Problem:
    rng = np.random.default_rng(seed)
    s_m, s_c = 1.0, 0.25
    # each server hosts between 1 and L blocks at one slot; a few slots more
    blocks = rng.integers(1, L + 1, J)
    memory = s_m * blocks + s_c * rng.integers(1, 2 * L + 2, J) + rng.choice([0.0, 0.1], J)
    tau_c = rng.uniform(0.2, 1.0, J).round(3)
    tau_p = rng.uniform(0.1, 0.6, J).round(3)
    # a rate that needs a handful of job servers
    T = L * float(np.median(tau_p)) + 2 * float(np.median(tau_c))
    rate = 0.7 * rng.uniform(1.0, 4.0) / T
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
        name=f"tiny-{seed}",
    )
