"""PETALS per-request routing for the general engine (SPEC §4.1).

PETALS' client (``petals/client/routing/sequence_manager.py``, "min-latency" inference routing)
builds a graph over block positions and runs Dijkstra for every new inference session:

- node b = "the next block to run is b" (1..L+1); a server j with blocks a_j..e_j and a_j ≤ b ≤ e_j
  gives an edge b → e_j + 1 (a chain leaves a server only at the end of its span; blocks run at the
  first server of the path that hosts them), processing e_j − b + 1 blocks;
- edge cost (seconds, per generated token): RTT_j/2 + 18 ms serialization overhead
  + (e_j − b + 1)/inference_rps_j + 10 s if server j has no free cache for this session
  (the penalty PETALS adds for servers whose ``cache_tokens_left`` is too small);
- the cheapest path is taken; if a server on it has no free cache the session fails to open and the
  client retries with exponential backoff: 1 s, 2 s, 4 s … capped at 60 s (``delay = min(2^(a−1), 60)``
  for attempt a).

Cache: PETALS reserves a fixed budget per server (``attn_cache_tokens`` × hosted blocks, see
:mod:`chaincomp.heuristics.petals`), so a server's free cache is tracked here in job-block slots of
the instance's s_c against that budget (``cache_slots``), not against the physical residual memory;
a session needs m_ij slots on each server of its path. The engine's own slot accounting (physical
memory) is checked too, through ``sim.fits``.

Dijkstra over this DAG is a forward pass over b = 1..L (every edge goes forward). Ties: equal-cost
labels keep the first found, scanning servers by index — deterministic.
RTT_j, inference_rps_j come from :func:`chaincomp.heuristics.petals.server_speeds` (recorded in a
PETALS solution's ``extra["petals"]``).
"""

from __future__ import annotations

import math

import numpy as np

from chaincomp.core.allocation import Chain
from chaincomp.problem import Problem
from chaincomp.sim.engine import Job, Retry, RoutingPolicy, Simulator, Start

SERIALIZATION_OVERHEAD_S = 0.018
NO_CACHE_PENALTY_S = 10.0
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 60.0


def backoff_delay(attempt: int) -> float:
    """Delay before retry number ``attempt`` (1-based): 1 s doubling, capped at 60 s."""
    return min(BACKOFF_INITIAL_S * 2.0 ** min(max(attempt, 1) - 1, 64), BACKOFF_MAX_S)  # 2^64 s ≫ the cap: no overflow


class PetalsRouting(RoutingPolicy):
    """PETALS' client-side routing with a fixed per-server cache budget and exponential backoff.

    Parameters
    ----------
    cache_slots : per server, PETALS' cache budget in job-block slots (``extra["petals"]["cache_slots"]``).
    rtt_s, inference_rps : per server (``extra["petals"]``).
    """

    name = "petals"
    fifo_blocking = False

    def __init__(self, cache_slots, rtt_s, inference_rps,
                 overhead_s: float = SERIALIZATION_OVERHEAD_S, penalty_s: float = NO_CACHE_PENALTY_S):
        self.cache_slots = np.asarray(cache_slots, dtype=np.int64)
        self.rtt_s = np.asarray(rtt_s, dtype=float)
        self.inference_rps = np.asarray(inference_rps, dtype=float)
        self.overhead_s = float(overhead_s)
        self.penalty_s = float(penalty_s)

    @classmethod
    def from_solution(cls, solution) -> "PetalsRouting":
        """Routing inputs from a PETALS-baseline Solution (``extra["petals"]``); UsageError otherwise."""
        from chaincomp.errors import UsageError

        info = (solution.extra or {}).get("petals")
        if not info:
            raise UsageError(
                f"policy 'petals' routes with the PETALS baseline's per-server cache slots, RTTs and throughputs, "
                f"which a design from method {solution.method!r} does not have; simulate a PETALS design instead "
                f"(`--method petals`, which implies `--policy petals`) or pick a chain policy (jffc, jsq, jiq, sed, sa-jsq)")
        return cls(info["cache_slots"], info["rtt_s"], info["inference_rps"])

    def reset(self, sim: Simulator) -> None:
        super().reset(sim)
        if sim.placement is None:
            raise ValueError("PETALS routing needs the placement (Simulator(..., placement=...))")
        p: Problem = sim.problem
        pl = sim.placement
        self.L = p.num_blocks
        self.first = pl.first_block
        self.last = pl.last_block
        # servers covering each block b (1..L), by server index
        self.cover = [[] for _ in range(self.L + 2)]
        for j in pl.used.tolist():
            for b in range(int(self.first[j]), int(self.last[j]) + 1):
                self.cover[b].append(j)
        self.base = self.rtt_s / 2.0 + self.overhead_s
        self.per_block = 1.0 / self.inference_rps
        self.used = np.zeros(p.num_servers, dtype=np.int64)
        self.decisions = {"started": 0, "retries": 0, "penalised_routes": 0}

    def best_path(self, sim: Simulator) -> tuple[Chain, bool]:
        """The min-cost path under the current free cache and whether every hop has free cache."""
        L = self.L
        free = self.cache_slots - self.used
        phys = sim.free_slots
        dist = np.full(L + 2, math.inf)
        pred = [None] * (L + 2)  # (server, from_b)
        dist[1] = 0.0
        for b in range(1, L + 1):
            d = dist[b]
            if not math.isfinite(d):
                continue
            for j in self.cover[b]:
                e = int(self.last[j])
                need = e - b + 1
                c = d + self.base[j] + need * self.per_block[j]
                if free[j] < need or phys[j] < need:
                    c += self.penalty_s
                if c < dist[e + 1]:
                    dist[e + 1] = c
                    pred[e + 1] = (j, b)
        if pred[L + 1] is None:
            raise ValueError("PETALS placement does not cover every block")
        servers, blocks, ok = [], [], True
        node = L + 1
        while node > 1:
            j, b = pred[node]
            servers.append(j)
            blocks.append(node - b)
            if free[j] < node - b or phys[j] < node - b:
                ok = False
            node = b
        servers.reverse()
        blocks.reverse()
        return Chain.build(sim.problem, servers, blocks), ok

    def route(self, job: Job, sim: Simulator):
        chain, ok = self.best_path(sim)
        if ok:
            for j, b in zip(chain.servers, chain.blocks):
                self.used[j] += b
            self.decisions["started"] += 1
            return Start(chain)
        self.decisions["penalised_routes"] += 1
        self.decisions["retries"] += 1
        return Retry(sim.now + backoff_delay(job.attempts))

    def observe_completion(self, job: Job, sim: Simulator) -> None:
        for j, b in zip(job.chain.servers, job.chain.blocks):
            self.used[j] -= b
