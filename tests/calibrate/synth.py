"""Synthetic measurements with known parameters (SPEC §1.1 model + multiplicative noise)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

#: true per-GPU-type parameters (s): t_o, t^I per token, t^O per token — all per block
TRUE_COMPUTE = {
    "A100-MIG-3g.40gb": (2.0e-3, 15e-6, 2.0e-3),
    "A100-MIG-2g.20gb": (3.0e-3, 25e-6, 3.5e-3),
}
#: true RTT + o per server (s) and each server's GPU type
TRUE_COMM = {"hi1": 0.031, "hi2": 0.045, "hi3": 0.060, "lo1": 0.028, "lo2": 0.052, "lo3": 0.070}
SERVER_GPU = {"hi1": "A100-MIG-3g.40gb", "hi2": "A100-MIG-3g.40gb", "hi3": "A100-MIG-3g.40gb",
              "lo1": "A100-MIG-2g.20gb", "lo2": "A100-MIG-2g.20gb", "lo3": "A100-MIG-2g.20gb"}


def rows(n: int = 300, noise: float = 0.05, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    servers = list(TRUE_COMM)
    for _ in range(n):
        s = servers[rng.integers(len(servers))]
        g = SERVER_GPU[s]
        t_o, t_i, t_out = TRUE_COMPUTE[g]
        b = int(rng.integers(1, 17))
        l_in = int(rng.integers(200, 4001))
        l_out = int(rng.integers(1, 129))
        comp = b * (t_o + t_i * l_in + t_out * (l_out - 1)) * (1 + noise * rng.standard_normal())
        comm = l_out * TRUE_COMM[s] * (1 + noise * rng.standard_normal())
        out.append({"server": s, "gpu": g, "blocks": b, "input_tokens": l_in, "output_tokens": l_out,
                    "compute_s": f"{max(comp, 0):.6f}", "comm_s": f"{max(comm, 0):.6f}"})
    return out


def write(path: Path, data: list[dict], columns=("server", "gpu", "blocks", "input_tokens", "output_tokens", "compute_s", "comm_s")) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        w.writerows(data)
    return path


CLUSTER = {"name": "mig-measured", "servers": [
    {"id": s, "gpu": g, "rtt_ms": 20.0} for s, g in SERVER_GPU.items()] + [{"id": "spare", "gpu": "A100-MIG-3g.40gb", "rtt_ms": 25.0}]}
