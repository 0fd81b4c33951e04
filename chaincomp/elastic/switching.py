"""Switching cost ω(D, D′) of moving from design D to D′ (SPEC §3.6 and §9).

For every server j of the new cluster:

    newly loaded blocks n_j = |range′_j \\ range_j|  (range_j = what j held under D; ∅ for a joiner)
    reload_gb_j = n_j · s_m,   reload_s_j = reload_gb_j / b_j      (b_j = load bandwidth, GB/s)

plus the KV cache of the jobs the move drops: a job in service on a chain of D survives unless a
server of that chain changes its range (a server that reloads serves nothing until loaded, and its
reserved cache is reshaped). Chains broken by the event itself (a failed or leaving server) are the
event's cost, the same for every candidate, and are not charged. The expected number of jobs in
service on chain k is the fluid JFFC fill at the current λ — chains fastest first, each taking
min(c_k, λ_rest/μ_k) busy job servers — and each such job holds s_c GB on every one of the L blocks.

    ω = Σ_j reload_s_j + dropped_kv_gb / b̄     (seconds; b̄ = mean load bandwidth of the new cluster)

``reload_time_s`` in outputs is Σ_j reload_s_j (server-seconds of loading, the figure ω uses);
``reload_makespan_s`` = max_j reload_s_j is the time until the whole new design is loaded (servers
load in parallel).

Load bandwidth b_j, in order of precedence: the CLI / function argument; the server's
``load_bandwidth_gb_s`` in ``meta.servers`` (join records carry it); ``meta.elastic.load_bandwidth_gb_s``
of the instance; the default :data:`DEFAULT_LOAD_BANDWIDTH_GB_S` = 1 GB/s (reading NF4/fp16 weights
from a local disk cache through host memory into the GPU; a remote hub download is 10–100× slower,
a warm host-memory copy over PCIe 4.0 ~20× faster — set the figure for your cluster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.problem import Problem

DEFAULT_LOAD_BANDWIDTH_GB_S = 1.0

Range = tuple[int, int]  # (first, last) block, 1-based inclusive


def load_bandwidths(problem: Problem, override: float | None = None) -> np.ndarray:
    """b_j per server (GB/s), by the precedence in the module docstring."""
    if override is not None:
        from chaincomp.io import limits

        limits.check_load_bandwidth(override)
        return np.full(problem.num_servers, float(override))
    from chaincomp.elastic.events import server_meta

    default = float(((problem.meta or {}).get("elastic") or {}).get("load_bandwidth_gb_s") or DEFAULT_LOAD_BANDWIDTH_GB_S)
    out = np.empty(problem.num_servers)
    for j, sid in enumerate(problem.server_ids):
        out[j] = float(server_meta(problem, sid).get("load_bandwidth_gb_s") or default)
    return out


def held_ranges(problem: Problem, placement: Placement) -> dict[str, Range]:
    """Server id → (first, last) block it holds (servers hosting nothing are absent)."""
    out = {}
    for j in placement.used:
        a = int(placement.first_block[j])
        out[problem.server_ids[j]] = (a, a + int(placement.num_blocks[j]) - 1)
    return out


def new_blocks(held: Range | None, first: int, count: int) -> int:
    """|{first..first+count−1} \\ held|."""
    if count <= 0:
        return 0
    if held is None:
        return count
    lo, hi = max(first, held[0]), min(first + count - 1, held[1])
    return count - max(0, hi - lo + 1)


def busy_job_servers(rates: np.ndarray, capacities: np.ndarray, arrival_rate: float) -> np.ndarray:
    """Fluid JFFC fill: expected busy job servers per chain (rates given fastest first)."""
    rest = float(arrival_rate)
    busy = np.zeros(len(rates))
    for k, (mu, c) in enumerate(zip(rates, capacities)):
        if rest <= 0:
            break
        busy[k] = min(float(c), rest / mu)
        rest -= busy[k] * mu
    return busy


@dataclass
class SwitchCost:
    """What moving to the new design costs (see the module docstring)."""

    moved_servers: list[str]
    reloaded_blocks: int
    reload_gb: float
    reload_time_s: float
    reload_makespan_s: float
    dropped_jobs: float
    dropped_kv_gb: float
    omega_s: float
    per_server: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "moved_servers": self.moved_servers,
            "reloaded_blocks": self.reloaded_blocks,
            "reload_gb": self.reload_gb,
            "reload_time_s": self.reload_time_s,
            "reload_makespan_s": self.reload_makespan_s,
            "dropped_jobs_expected": self.dropped_jobs,
            "dropped_kv_gb": self.dropped_kv_gb,
            "switching_cost_s": self.omega_s,
        }


def switching_cost(
    old_problem: Problem,
    old_placement: Placement,
    old_allocation: Allocation,
    new_problem: Problem,
    new_placement: Placement,
    load_bandwidth: float | None = None,
    bandwidths: np.ndarray | None = None,
) -> SwitchCost:
    """ω(D, D′) with D on ``old_problem`` and D′ on ``new_problem`` (servers matched by id).
    ``bandwidths`` (b_j of ``new_problem``) may be passed precomputed."""
    held = held_ranges(old_problem, old_placement)
    bw = load_bandwidths(new_problem, load_bandwidth) if bandwidths is None else bandwidths
    s_m = new_problem.block_size_gb
    moved, per_server = [], []
    total_blocks, reload_s, makespan = 0, 0.0, 0.0
    changed_ids = set()
    for j, sid in enumerate(new_problem.server_ids):
        m = int(new_placement.num_blocks[j])
        a = int(new_placement.first_block[j])
        new_rng = (a, a + m - 1) if m > 0 else None
        old_rng = held.get(sid)
        if new_rng == old_rng:
            continue
        changed_ids.add(sid)
        n = new_blocks(old_rng, a, m)
        t = n * s_m / bw[j]
        moved.append(sid)
        total_blocks += n
        reload_s += t
        makespan = max(makespan, t)
        per_server.append({"server": sid, "old": list(old_rng) if old_rng else None, "new": list(new_rng) if new_rng else None,
                           "load_blocks": n, "reload_gb": n * s_m, "reload_s": t})
    present = set(new_problem.server_ids)
    busy = busy_job_servers(old_allocation.rates, old_allocation.capacity_array, new_problem.arrival_rate)
    dropped = 0.0
    for k, ch in enumerate(old_allocation.chains):
        ids = [old_problem.server_ids[j] for j in ch.servers]
        if any(i not in present for i in ids):
            continue  # broken by the event, not by the move
        if any(i in changed_ids for i in ids):
            dropped += float(busy[k])
    kv_gb = dropped * new_problem.cache_size_gb * new_problem.num_blocks
    mean_bw = float(bw.mean()) if bw.size else DEFAULT_LOAD_BANDWIDTH_GB_S
    omega = float(reload_s + kv_gb / mean_bw)
    return SwitchCost(moved, total_blocks, total_blocks * s_m, reload_s, makespan, dropped, kv_gb, omega, per_server)
