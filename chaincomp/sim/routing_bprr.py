"""BPRR's online routing WS-RR (waiting-penalised shortest-path request routing; SPEC §4.2).

For every arrival the orchestrator runs a shortest path over the routing DAG of the CG-BP placement
(:func:`chaincomp.heuristics.bprr.shortest_chain`), where the link into server j processing m_ij
blocks costs

    t^W_j(m_ij) + τ^c_j + τ^p_j·m_ij,

t^W_j(n) = the *estimated* time until server j has n free cache slots: the orchestrator knows the
slots of every running request and its estimated completion (dispatch + mean service time,
``expected_completion_s``; the true one is hidden), and of every request it already committed to a
path but that has not started yet (it holds its slots from its estimated start to its estimated
end). t^W_j(n) = 0 if n slots are free and not promised to committed requests; otherwise the
earliest estimated release after which enough slots are free; ∞ if M̃_j < n (the link is unusable).
The request is then committed to the path (``Hold``): it starts as soon as every server of the
path has the slots — the "max over its path" of the waits, or later when estimates were too
optimistic ("surprise waiting"). Estimated releases already in the past count as "now".

Ties in the shortest path: see :func:`chaincomp.heuristics.bprr.shortest_chain`.
"""

from __future__ import annotations

import numpy as np

from chaincomp.core.allocation import Chain
from chaincomp.heuristics.bprr import shortest_chain
from chaincomp.sim.engine import Hold, Job, RoutingPolicy, Simulator, Start


class WsrrRouting(RoutingPolicy):
    """WS-RR over a fixed placement (``sim.placement``)."""

    name = "bprr-wsrr"
    fifo_blocking = True  # never returns Wait; held jobs are started by the engine

    @classmethod
    def from_solution(cls, solution) -> "WsrrRouting":
        """WS-RR needs only the placement, which the simulator receives; any design works."""
        return cls()

    def reset(self, sim: Simulator) -> None:
        super().reset(sim)
        if sim.placement is None:
            raise ValueError("WS-RR needs the placement (Simulator(..., placement=...))")
        self.capacity = np.maximum(sim.problem.residual_slots(sim.placement.num_blocks), 0)
        self.committed: list[tuple[Job, Chain, float]] = []  # (job, path, estimated end)
        self.decisions = {"started": 0, "held": 0}

    def _release_schedule(self, sim: Simulator):
        """Per server: (time, +slots) releases and slots promised to committed jobs."""
        now = sim.now
        J = sim.problem.num_servers
        releases = [[] for _ in range(J)]
        promised = np.zeros(J, dtype=np.int64)
        for jb in sim.running():
            t = max(jb.expected_completion_s, now)
            for j, b in zip(jb.chain.servers, jb.chain.blocks):
                releases[j].append((t, b))
        self.committed = [(jb, ch, end) for jb, ch, end in self.committed if np.isnan(jb.dispatch_s)]
        for jb, ch, end in self.committed:
            for j, b in zip(ch.servers, ch.blocks):
                promised[j] += b
                releases[j].append((max(end, now), b))
        for r in releases:
            r.sort()
        return releases, promised

    def route(self, job: Job, sim: Simulator):
        now = sim.now
        free = sim.free_slots
        releases, promised = self._release_schedule(sim)
        cap = self.capacity

        def wait_cost(j: int, need: np.ndarray) -> np.ndarray:
            out = np.zeros(need.size)
            avail0 = int(free[j]) - int(promised[j])
            for i, n in enumerate(need.tolist()):
                if n > cap[j]:
                    out[i] = np.inf
                    continue
                avail = avail0
                if avail >= n:
                    continue
                t_ready = np.inf
                for t, b in releases[j]:
                    avail += b
                    if avail >= n:
                        t_ready = t
                        break
                out[i] = t_ready - now
            return out

        sp = shortest_chain(sim.problem, sim.placement, wait_cost)
        if sp is None:
            raise ValueError("WS-RR: no path with enough total cache on every server")
        servers, blocks, _ = sp
        chain = Chain.build(sim.problem, servers, blocks)
        if sim.fits(chain) and all(int(free[j]) - int(promised[j]) >= b for j, b in zip(servers, blocks)):
            self.decisions["started"] += 1
            return Start(chain)
        waits = [wait_cost(j, np.array([b]))[0] for j, b in zip(servers, blocks)]
        est_start = now + max(0.0, max(waits))
        self.committed.append((job, chain, est_start + sim.mean_service_time(job, chain)))
        self.decisions["held"] += 1
        return Hold(chain)
