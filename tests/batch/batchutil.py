"""Helpers shared by the batch tests: random small instances (BLOOM-like parameters, SPEC §6.1)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from chaincomp.problem import Problem

PROVIDER = str(Path(__file__).with_name("batch_test_methods.py"))


def random_problem(seed: int, num_servers: int = 8, num_blocks: int = 10) -> Problem:
    """A random small heterogeneous cluster in the style of SPEC §6.1 (BLOOM's s_m = 1.32 GB,
    s_c = 0.11 GB, τ^p of 109/175 ms, τ^c = 20 × (RTT + 18 ms)) with smaller GPUs (16/10 GB, so the
    tuning sweep over c stays short) and λ between 0.1 and 0.6 req/s."""
    rng = np.random.default_rng(seed)
    high = rng.random(num_servers) < 0.3
    rtt = rng.uniform(0.005, 0.06, num_servers)
    return Problem(
        server_ids=tuple(f"s{j + 1}" for j in range(num_servers)),
        memory_gb=np.where(high, 16.0, 10.0),
        tau_comm_s=20 * (rtt + 0.018),
        tau_comp_s=np.where(high, 0.109, 0.175),
        num_blocks=num_blocks,
        block_size_gb=1.32,
        cache_size_gb=0.11,
        arrival_rate=float(rng.uniform(0.1, 0.6)),
        target_load=0.7,
        name=f"rand-{seed}",
    )


def write_instances(folder: Path, count: int, first_seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = folder / f"rand-{first_seed + i:03d}.json"
        p.write_text(json.dumps(random_problem(first_seed + i).to_dict()))
        paths.append(p)
    return paths
