"""Simulating a design across an event timeline (issue 11 item 5; SPEC §5, §9).

Model (discrete-event, seeded; the same arrivals and job sizes for every policy):

- Arrivals: Poisson with the piecewise-constant λ(t) the ``rate`` events set (the design's λ before
  the first); job sizes Exp(1); a job on chain k takes size × T_k (the analysis' model).
- Dispatch: JFFC (Alg. 3) over the chains of the design in effect — the fastest *ready* chain with
  fewer than c_k jobs, else a central FIFO queue.
- A design change at time t (a policy's answer to an event or, for PETALS, a periodic move): every
  server whose range changes loads its new blocks (n_j · s_m / b_j seconds, b_j as in
  :mod:`chaincomp.elastic.switching`) and serves nothing meanwhile; a new chain is ready when all
  its servers are. Jobs in service on a chain through a server whose range changes are dropped;
  the others continue (attached to the identical new chain when there is one, else draining
  outside the new allocation — their cache is not double-counted against it).
- ``fail``: jobs in service on chains through the failed server are lost, or with
  ``on_fail="retry"`` re-queued at the head of the queue (their response time keeps the original
  arrival). Jobs dropped by a re-plan follow the same option. ``leave``: jobs there finish (drain).
- Thrash: a block loaded on a server during the run and dropped from it again within
  ``thrash_window_s`` (default 3600 s), counted in the window of the drop.

Windows are the intervals between distinct event times (window 0 before the first event). Per
window and policy: jobs arrived and completed, mean/P99 response of the jobs that arrived in it,
jobs lost (failures) and dropped (re-plans), reload GB and server-seconds, thrash blocks, the
predicted Theorem-4 lower bound of the design in effect at the window's start and ν. After the
horizon no job arrives; jobs still in the system after ``drain_s`` more are reported unfinished.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.core.solution import Solution
from chaincomp.elastic.events import Timeline, apply_event
from chaincomp.elastic.policies import POLICY_NAMES, make_policy
from chaincomp.elastic.recompose import RecomposeOptions
from chaincomp.elastic.switching import load_bandwidths
from chaincomp.errors import UsageError
from chaincomp.io import limits
from chaincomp.problem import Problem


@dataclass
class _Chain:
    servers: tuple[str, ...]
    blocks: tuple[int, ...]
    time_s: float
    capacity: int
    ready_s: float
    busy: int = 0


@dataclass
class _Window:
    start_s: float
    arrived: int = 0
    responses: list = field(default_factory=list)
    lost: int = 0
    dropped: int = 0
    retried: int = 0
    reload_gb: float = 0.0
    reload_s: float = 0.0
    thrash_blocks: int = 0
    changes: int = 0
    predicted_lower_s: float | None = None
    service_rate: float | None = None


def arrivals(solution: Solution, timeline: Timeline, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-Poisson arrival times over [0, horizon) and Exp(1) sizes (common to all policies)."""
    rng = np.random.default_rng(seed)
    cuts = [0.0]
    rates = [solution.problem.arrival_rate]
    for ev in timeline.events:
        if ev.kind == "rate":
            cuts.append(ev.time_s)
            rates.append(ev.arrival_rate)
    cuts.append(timeline.horizon_s)
    expected = sum(lam * max(b - a, 0.0) for (a, b), lam in zip(zip(cuts[:-1], cuts[1:]), rates))
    limits.check_count(math.ceil(min(expected, 1e18)), limits.MAX_TIMELINE_JOBS,
                       "jobs expected over the timeline (Σ λ × window length)", str(timeline.source))
    times = []
    for (a, b), lam in zip(zip(cuts[:-1], cuts[1:]), rates):
        if b > a:
            n = rng.poisson(lam * (b - a))
            times.append(np.sort(rng.uniform(a, b, size=n)))
    t = np.concatenate(times) if times else np.zeros(0)
    return t, rng.exponential(1.0, size=t.size)


class _Run:
    """One policy over the timeline (see the module docstring)."""

    def __init__(self, solution, timeline, policy, arr_t, sizes, on_fail, thrash_window_s, load_bandwidth, drain_s):
        self.tl, self.policy = timeline, policy
        self.arr_t, self.sizes = arr_t, sizes
        self.on_fail, self.thrash_window_s, self.bw_override = on_fail, thrash_window_s, load_bandwidth
        self.drain_s = drain_s
        cuts = sorted({e.time_s for e in timeline.events if e.time_s > 0})
        self.cuts = np.array([0.0] + cuts)
        self.windows = [_Window(float(c)) for c in self.cuts]
        self.heap: list = []
        self.seq = 0
        self.queue: deque = deque()
        self.running: dict[int, _Chain] = {}
        self.version = np.zeros(arr_t.size, dtype=np.int64)
        self.done = np.zeros(arr_t.size, dtype=bool)
        self.lost_flag = np.zeros(arr_t.size, dtype=bool)
        self.held: dict[str, tuple[int, int]] = {}
        self.loaded_at: dict[str, dict[int, float]] = {}
        self.ready: dict[str, float] = {}
        self.chains: list[_Chain] = []
        self.problem: Problem | None = None
        self.now = 0.0
        self.reload_total_gb = 0.0
        self.dispatch_log: list | None = None  # tests: (time, chain servers) per dispatch
        self.load_log: list = []  # (server, start, ready) per reload

    # -- helpers ------------------------------------------------------------------------------
    def _w(self, t: float) -> _Window:
        return self.windows[int(np.searchsorted(self.cuts, t, side="right")) - 1]

    def _push(self, t, kind, payload):
        self.seq += 1
        heapq.heappush(self.heap, (t, kind, self.seq, payload))

    def _dispatch(self):
        while self.queue:
            for ch in self.chains:
                if ch.busy < ch.capacity and ch.ready_s <= self.now:
                    break
            else:
                return
            job = self.queue.popleft()
            ch.busy += 1
            self.running[job] = ch
            if self.dispatch_log is not None:
                self.dispatch_log.append((self.now, ch.servers))
            self._push(self.now + self.sizes[job] * ch.time_s, 0, (job, int(self.version[job])))

    def _drop(self, jobs, lost: bool):
        w = self._w(self.now)
        for job in jobs:
            ch = self.running.pop(job)
            ch.busy -= 1
            self.version[job] += 1
            if lost:
                w.lost += 1
            else:
                w.dropped += 1
            if self.on_fail == "retry":
                w.retried += 1
                self.queue.appendleft(job)
            else:
                self.lost_flag[job] = True

    def _apply(self, problem: Problem, placement: Placement, allocation: Allocation, initial: bool = False):
        """Switch to a new design at ``self.now`` (reloads, dropped jobs, thrash, chain readiness)."""
        w = self._w(self.now)
        bw = load_bandwidths(problem, self.bw_override)
        changed = set()
        for j, sid in enumerate(problem.server_ids):
            m = int(placement.num_blocks[j])
            new = (int(placement.first_block[j]), int(placement.first_block[j]) + m - 1) if m > 0 else None
            old = self.held.get(sid)
            if new == old:
                continue
            changed.add(sid)
            loads = self.loaded_at.setdefault(sid, {})
            old_set = set(range(old[0], old[1] + 1)) if old else set()
            new_set = set(range(new[0], new[1] + 1)) if new else set()
            for b in old_set - new_set:
                t0 = loads.pop(b, None)
                if t0 is not None and self.now - t0 <= self.thrash_window_s:
                    w.thrash_blocks += 1
            fresh = new_set - old_set
            if not initial:
                for b in fresh:
                    loads[b] = self.now
                gb = len(fresh) * problem.block_size_gb
                secs = float(gb / bw[j])
                w.reload_gb += gb
                w.reload_s += secs
                self.reload_total_gb += gb
                self.ready[sid] = self.now + secs
                self.load_log.append((sid, self.now, self.now + secs))
            if new is None:
                self.held.pop(sid, None)
            else:
                self.held[sid] = new
        if changed and not initial:
            w.changes += 1
        # jobs through a server whose range changed are dropped
        hit = [job for job, ch in self.running.items() if changed.intersection(ch.servers)]
        self._drop(hit, lost=False)
        ids = problem.server_ids
        new_chains = []
        for ch, c in zip(allocation.chains, allocation.capacities):
            servers = tuple(ids[j] for j in ch.servers)
            ready = max([self.ready.get(s, 0.0) for s in servers] + [self.now])
            new_chains.append(_Chain(servers, tuple(ch.blocks), ch.service_time_s, int(c), ready))
        by_key = {(c.servers, c.blocks): c for c in new_chains}
        for job, ch in list(self.running.items()):
            nc = by_key.get((ch.servers, ch.blocks))
            if nc is not None:
                ch.busy -= 1
                nc.busy += 1
                self.running[job] = nc
        self.chains = new_chains
        for t in sorted({c.ready_s for c in new_chains if c.ready_s > self.now}):
            self._push(t, 1, None)
        self.problem = problem
        b = jffc_bounds(problem.arrival_rate, allocation.rates, allocation.capacity_array) if allocation.chains else None
        w.predicted_lower_s = b.lower_s if b is not None and math.isfinite(b.lower_s) else None
        w.service_rate = allocation.service_rate

    # -- main loop ----------------------------------------------------------------------------
    def run(self, solution: Solution) -> dict:
        t_wall = time.perf_counter()
        pl, al = self.policy.start(solution)
        self.problem = solution.problem
        self._apply(solution.problem, pl, al, initial=True)
        for i, ev in enumerate(self.tl.events):
            self._push(ev.time_s, 2, i)
        if self.policy.periodic_s:
            self._push(self.policy.periodic_s, 3, None)
        end = self.tl.horizon_s + self.drain_s
        nxt = 0
        n = self.arr_t.size
        while True:
            t_arr = self.arr_t[nxt] if nxt < n else math.inf
            t_ev = self.heap[0][0] if self.heap else math.inf
            if min(t_arr, t_ev) > end or (t_arr == math.inf and t_ev == math.inf):
                break
            if t_arr < t_ev:
                self.now = float(t_arr)
                self._w(self.now).arrived += 1
                self.queue.append(nxt)
                nxt += 1
                self._dispatch()
                continue
            t, kind, _, payload = heapq.heappop(self.heap)
            self.now = t
            if kind == 0:
                job, ver = payload
                if ver != self.version[job]:
                    continue
                ch = self.running.pop(job)
                ch.busy -= 1
                self.done[job] = True
                self._w(self.arr_t[job]).responses.append(t - self.arr_t[job])
            elif kind == 2:
                ev = self.tl.events[payload]
                if ev.kind == "fail":
                    hit = [job for job, ch in self.running.items() if ev.server in ch.servers]
                    self._drop(hit, lost=True)
                new_problem = apply_event(self.problem, ev)
                if ev.kind in ("leave", "fail"):
                    self.held.pop(ev.server, None)
                    self.loaded_at.pop(ev.server, None)
                    self.ready.pop(ev.server, None)
                pl, al = self.policy.on_event(ev, new_problem)
                self._apply(new_problem, pl, al)
            elif kind == 3:
                if t < self.tl.horizon_s:
                    res = self.policy.periodic(self.problem)
                    if res is not None:
                        self._apply(self.problem, *res)
                    self._push(t + self.policy.periodic_s, 3, None)
            self._dispatch()
        return self._report(time.perf_counter() - t_wall)

    def _report(self, wall: float) -> dict:
        rows = []
        all_r = []
        for i, w in enumerate(self.windows):
            r = np.asarray(w.responses)
            all_r.append(r)
            end = self.windows[i + 1].start_s if i + 1 < len(self.windows) else self.tl.horizon_s
            rows.append({
                "window": i, "start_s": w.start_s, "end_s": end, "arrived": w.arrived, "completed": int(r.size),
                "mean_response_s": float(r.mean()) if r.size else None,
                "p99_response_s": float(np.percentile(r, 99)) if r.size else None,
                "jobs_lost": w.lost, "jobs_dropped_by_replan": w.dropped, "jobs_retried": w.retried,
                "reload_gb": w.reload_gb, "reload_s": w.reload_s, "thrash_blocks": w.thrash_blocks,
                "design_changes": w.changes, "predicted_lower_s": w.predicted_lower_s, "service_rate": w.service_rate,
            })
        r = np.concatenate(all_r) if all_r else np.zeros(0)
        unfinished = int((~self.done & ~self.lost_flag).sum())
        out = {
            "policy": self.policy.name,
            "total": {
                "arrived": int(self.arr_t.size), "completed": int(r.size),
                "mean_response_s": float(r.mean()) if r.size else None,
                "p99_response_s": float(np.percentile(r, 99)) if r.size else None,
                "jobs_lost": sum(w.lost for w in self.windows),
                "jobs_dropped_by_replan": sum(w.dropped for w in self.windows),
                "jobs_retried": sum(w.retried for w in self.windows),
                "unfinished": unfinished,
                "reload_gb": sum(w.reload_gb for w in self.windows),
                "reload_s": sum(w.reload_s for w in self.windows),
                "thrash_blocks": sum(w.thrash_blocks for w in self.windows),
                "design_changes": sum(w.changes for w in self.windows),
            },
            "windows": rows,
            "wall_time_s": wall,
        }
        if hasattr(self.policy, "moves"):
            out["total"]["petals_moves"] = self.policy.moves
        if hasattr(self.policy, "wall_s") and self.policy.wall_s:
            out["recompose_wall_s_max"] = max(self.policy.wall_s)
        return out


def simulate_timeline(solution: Solution, timeline: Timeline, policies=POLICY_NAMES, seed: int = 0,
                      on_fail: str = "lost", thrash_window_s: float = 3600.0, load_bandwidth: float | None = None,
                      options: RecomposeOptions | None = None, petals_period_s: float | None = 600.0,
                      drain_s: float | None = None) -> dict:
    """Run every policy over the timeline on the same arrivals; returns a JSON-ready report."""
    if on_fail not in ("lost", "retry"):
        raise UsageError(f"on_fail must be 'lost' or 'retry', got {on_fail!r}")
    limits.bounded_option(thrash_window_s, "--thrash-window", 0.0, limits.MAX_HORIZON_S, " s")
    if petals_period_s is not None:
        limits.positive_option(petals_period_s, "--petals-period (s; 0: only at events)", limits.MAX_HORIZON_S)
        checks = timeline.horizon_s / petals_period_s
        limits.check_count(math.ceil(min(checks, 1e18)), limits.MAX_PERIODIC_CHECKS,
                           f"PETALS rebalancing checks (horizon {timeline.horizon_s:g} s / period {petals_period_s:g} s)",
                           "--petals-period")
    names = list(policies)
    for nm in names:
        if nm not in POLICY_NAMES:
            raise UsageError(f"unknown timeline policy {nm!r}; choose from {', '.join(POLICY_NAMES)}")
    arr_t, sizes = arrivals(solution, timeline, seed)
    if drain_s is None:
        T = [ch.service_time_s for ch in solution.allocation.chains] or [60.0]
        drain_s = 20.0 * max(T)
    results = []
    for nm in names:
        pol = make_policy(nm, seed=seed, options=options, petals_period_s=petals_period_s)
        run = _Run(solution, timeline, pol, arr_t, sizes, on_fail, thrash_window_s, load_bandwidth, drain_s)
        results.append(run.run(solution))
    return {
        "design": {"instance": solution.problem.name, "method": solution.method},
        "timeline": {"source": timeline.source, "events": len(timeline.events), "horizon_s": timeline.horizon_s,
                     "description": timeline.description},
        "simulation": {"seed": seed, "on_fail": on_fail, "thrash_window_s": thrash_window_s,
                       "petals_period_s": petals_period_s, "drain_s": drain_s, "jobs": int(arr_t.size),
                       "service": "exp", "dispatch": "jffc"},
        "policies": results,
    }
