"""General discrete-event engine (SPEC §5) with server-level cache-slot accounting.

This is the *clear* engine: plain Python, a ``heapq`` of events, one :class:`Job` object per
request. Every policy runs here — per-request routing policies (PETALS, BPRR WS-RR, …) and the
chain-dispatch policies of :mod:`chaincomp.sim.policies`. The chain-dispatch policies also have a
numba kernel (:mod:`chaincomp.sim.kernel`) that is checked against this engine on the same random
streams.

Model
-----
- Server j starts with F_j free cache slots (job-block slots): M̃_j = ⌊(M_j − s_m m_j)/s_c⌋ of the
  placement (Eq. 3), or, when no placement is known, exactly what a fixed allocation reserves
  (Σ_{(i,j)∈k} m_ij c_k, which a valid allocation keeps ≤ M̃_j).
- A job started on path k = ((j₁, b₁), …, (j_h, b_h)) holds b_i slots on server j_i from its
  dispatch until its completion ("a job holds its slots on every server of its chain for its whole
  service", SPEC §5). Starting a job on a path that does not fit raises :class:`SimulationError` —
  a policy bug, never silently allowed.
- Service time of job i on path k: ``size_i × (A_k + B_k·l_in + C_k·(l_out − 1)₊ + D_k·l_out)``
  where (A, B, C, D) come from the service model (:mod:`chaincomp.sim.service`): Exp(1) sizes with
  (A = T_k, 0, 0, 0) (the analysis' model), size 1 for deterministic, and the SPEC §1.1 formulas
  for length-driven service (A = 0, B = Σ m τ^I, C = Σ m τ^O, D = Σ (RTT + o), plus the per-block
  overhead Σ m t_o in A).
- Event order: by time; at the same instant completions first, then retries, then fresh
  arrivals; ties within a kind in insertion order. The numba kernel uses the same order.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Iterable, Protocol, runtime_checkable

import numpy as np

from chaincomp.core.allocation import Chain
from chaincomp.core.placement import Placement
from chaincomp.errors import ChaincompError
from chaincomp.problem import Problem


#: retries a run may make (Retry decisions, e.g. PETALS' backoff while every path is full): at most
#: max(MAX_RETRIES, RETRIES_PER_JOB × jobs) — ≈ 40 µs each, so a run stays within about 20 s beyond
#: its jobs; an overloaded cluster would otherwise retry without end (work ∝ jobs × backlog)
MAX_RETRIES = 500_000
RETRIES_PER_JOB = 20


class SimulationError(ChaincompError):
    """A policy broke the engine's rules (over-full path, lost jobs, retry in the past)."""

    exit_code = 1


# ----------------------------------------------------------------------------------------------
# Jobs
# ----------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Job:
    """One request. Policies read the first block of fields; the engine fills the rest.

    Attributes (read by policies)
    ----------------------------
    index : position in the arrival sequence (0-based).
    arrival_s : original arrival time (retries do not change it).
    input_tokens, output_tokens : l_in, l_out of this request (the workload's means when unknown).
    attempts : number of times this job has been offered to the policy (1 on its first arrival;
        each :meth:`Simulator.retry` adds one).
    Engine-filled: ``dispatch_s``, ``completion_s``, ``chain`` (the path it ran on), ``tag`` (the
    policy's label, e.g. the chain index), ``expected_completion_s`` (dispatch + the path's mean
    service time — the orchestrator's estimate; the true completion time is hidden from policies).
    """

    index: int
    arrival_s: float
    input_tokens: float
    output_tokens: float
    size: float = 1.0
    attempts: int = 0
    dispatch_s: float = math.nan
    completion_s: float = math.nan
    expected_completion_s: float = math.nan
    chain: Chain | None = None
    tag: int = -1
    segment_start_s: float = math.nan  # when it started on its current path (differs from dispatch after a migration)
    _version: int = 0


# ----------------------------------------------------------------------------------------------
# Policy interfaces
# ----------------------------------------------------------------------------------------------
@runtime_checkable
class Policy(Protocol):
    """Hook-level policy interface (the most general plug-in point).

    ``reset(sim)`` is called once before the first event. ``on_arrival(job, sim)`` is called when a
    job arrives and again whenever a :meth:`Simulator.retry` fires; the policy must either start it
    (:meth:`Simulator.start`), schedule a retry (:meth:`Simulator.retry`), or keep it in its own
    queue and start it later from a hook. ``on_completion(job, sim)`` is called after the job's
    slots were freed. A policy that still holds jobs when no event is pending makes the engine
    raise :class:`SimulationError` (deadlock), so a job that can never fit is reported, not lost.
    """

    name: str

    def reset(self, sim: "Simulator") -> None: ...

    def on_arrival(self, job: Job, sim: "Simulator") -> None: ...

    def on_completion(self, job: Job, sim: "Simulator") -> None: ...


@dataclass(frozen=True)
class Start:
    """Start the job now on ``chain`` (must fit); ``tag`` is recorded in the results (e.g. a chain id)."""

    chain: Chain
    tag: int = -1


@dataclass(frozen=True)
class Wait:
    """Park the job in the policy's FIFO waiting list; :meth:`RoutingPolicy.route` is asked again
    after every completion (in FIFO order)."""


@dataclass(frozen=True)
class Hold:
    """Commit the job to ``chain``: it starts, without asking the policy again, at the first
    completion after which every server of ``chain`` has the slots (committed jobs are checked in
    commit order; a later one may start first if its path fits and an earlier one's does not)."""

    chain: Chain
    tag: int = -1


@dataclass(frozen=True)
class Retry:
    """Leave and come back at absolute time ``at_s`` (> now); ``route`` is called again then."""

    at_s: float


Decision = Start | Wait | Hold | Retry


class RoutingPolicy:
    """Convenience base for per-request routing policies: implement :meth:`route` only.

    At every arrival (and retry) the engine calls ``route(job, sim)``; the policy looks at the
    server-level state (``sim.now``, ``sim.free_slots``, ``sim.jobs_in_service``,
    ``sim.running()``, ``sim.placement``, ``sim.problem``) and returns a :class:`Start`,
    :class:`Wait`, :class:`Hold` or :class:`Retry`.

    After every completion, held jobs whose path now fits are started (commit order), then the
    waiting jobs are offered to ``route`` again in FIFO order. With ``fifo_blocking = True``
    (default) the re-offering stops at the first job that answers :class:`Wait` again (a central
    FIFO queue); with ``False`` every waiting job is offered (cost O(waiting) per completion).
    Override :meth:`observe_completion` for bookkeeping (called before the re-offering).
    """

    name = "routing"
    fifo_blocking = True

    def route(self, job: Job, sim: "Simulator") -> Decision:  # pragma: no cover - abstract
        raise NotImplementedError

    def observe_completion(self, job: Job, sim: "Simulator") -> None:
        """Hook for bookkeeping after ``job`` finished and freed its slots (default: nothing)."""

    # -- machinery ------------------------------------------------------------------------------
    def reset(self, sim: "Simulator") -> None:
        self._waiting: list[Job] = []
        self._held: list[tuple[Job, Chain, int]] = []

    def _apply(self, job: Job, decision: Decision, sim: "Simulator") -> bool:
        """Carry out a decision; return True if the job left the waiting list."""
        if isinstance(decision, Start):
            sim.start(job, decision.chain, decision.tag)
        elif isinstance(decision, Retry):
            sim.retry(job, decision.at_s)
        elif isinstance(decision, Hold):
            if sim.fits(decision.chain):
                sim.start(job, decision.chain, decision.tag)
            else:
                self._held.append((job, decision.chain, decision.tag))
        elif isinstance(decision, Wait):
            return False
        else:
            raise SimulationError(f"policy {self.name!r} returned {decision!r}, not Start/Wait/Hold/Retry")
        return True

    def on_arrival(self, job: Job, sim: "Simulator") -> None:
        if not self._apply(job, self.route(job, sim), sim):
            self._waiting.append(job)

    def on_completion(self, job: Job, sim: "Simulator") -> None:
        self.observe_completion(job, sim)
        if self._held:
            still = []
            for held_job, chain, tag in self._held:
                if sim.fits(chain):
                    sim.start(held_job, chain, tag)
                else:
                    still.append((held_job, chain, tag))
            self._held = still
        if self._waiting:
            keep = []
            waiting, self._waiting = self._waiting, []
            for i, w in enumerate(waiting):
                if self._apply(w, self.route(w, sim), sim):
                    continue
                keep.append(w)
                if self.fifo_blocking:
                    keep.extend(waiting[i + 1 :])
                    break
            self._waiting = keep + self._waiting

    def pending(self) -> int:
        """Jobs the policy holds (waiting + held)."""
        return len(self._waiting) + len(self._held)


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------
_COMPLETION, _ARRIVAL = 0, 1


@dataclass
class RunRecord:
    """Raw per-job results of one run (arrays in arrival order) plus per-tag busy time."""

    arrival_s: np.ndarray
    dispatch_s: np.ndarray
    completion_s: np.ndarray
    tag: np.ndarray
    attempts: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    busy_s: np.ndarray  # per tag: Σ over jobs of time in service on that tag inside the window
    window_start_s: float
    window_end_s: float
    events: int
    policy: str
    extra: dict = field(default_factory=dict)


class Simulator:
    """Server-level discrete-event simulation of one policy over one job stream.

    Parameters
    ----------
    problem : the instance (server ids, τ, memory).
    initial_free_slots : F_j per server (int array), e.g. :func:`placement_slots`.
    service_coefficients : callable chain → (A, B, C, D) of the service model; see module doc.
    placement : optional, exposed to policies as ``sim.placement``.

    State policies may read: ``now``, ``free_slots`` (read-only int array), ``jobs_in_service``
    (read-only int array, jobs holding slots on each server), :meth:`fits`, :meth:`running`,
    :meth:`mean_service_time`.
    """

    def __init__(self, problem: Problem, initial_free_slots, service_coefficients, placement: Placement | None = None):
        self.problem = problem
        self.placement = placement
        self._initial = np.asarray(initial_free_slots, dtype=np.int64).copy()
        if self._initial.shape != (problem.num_servers,):
            raise ValueError("initial_free_slots needs one entry per server")
        self._coef = service_coefficients
        self._coef_cache: dict[tuple, tuple[float, float, float, float]] = {}

    # -- state views ------------------------------------------------------------------------------
    @property
    def free_slots(self) -> np.ndarray:
        v = self._free.view()
        v.flags.writeable = False
        return v

    @property
    def jobs_in_service(self) -> np.ndarray:
        v = self._busy.view()
        v.flags.writeable = False
        return v

    def fits(self, chain: Chain) -> bool:
        """Would ``chain`` fit now (b slots free on every server it visits)?"""
        free = self._free
        for j, b in zip(chain.servers, chain.blocks):
            if free[j] < b:
                return False
        return True

    def running(self) -> list[Job]:
        """Jobs in service (with ``dispatch_s``, ``chain``, ``expected_completion_s``), by dispatch."""
        return sorted(self._running.values(), key=lambda jb: (jb.dispatch_s, jb.index))

    def coefficients(self, chain: Chain) -> tuple[float, float, float, float]:
        key = (chain.servers, chain.blocks)
        c = self._coef_cache.get(key)
        if c is None:
            c = tuple(float(x) for x in self._coef(chain))
            self._coef_cache[key] = c
        return c

    def service_time(self, job: Job, chain: Chain) -> float:
        """The job's true service time on ``chain`` (hidden from policies by convention)."""
        A, B, C, D = self.coefficients(chain)
        lo = job.output_tokens
        return job.size * (A + B * job.input_tokens + C * max(lo - 1.0, 0.0) + D * lo)

    def mean_service_time(self, job: Job, chain: Chain) -> float:
        """Expected service time of ``job`` on ``chain`` (its size replaced by its mean, 1)."""
        A, B, C, D = self.coefficients(chain)
        lo = job.output_tokens
        return A + B * job.input_tokens + C * max(lo - 1.0, 0.0) + D * lo

    # -- actions ------------------------------------------------------------------------------
    def start(self, job: Job, chain: Chain, tag: int = -1) -> None:
        """Dispatch ``job`` on ``chain`` now: reserve the slots and schedule its completion."""
        if job.index in self._running or not math.isnan(job.dispatch_s):
            raise SimulationError(f"policy {self._policy_name!r} started job {job.index} twice")
        for j, b in zip(chain.servers, chain.blocks):
            if self._free[j] < b:
                raise SimulationError(
                    f"policy {self._policy_name!r} started job {job.index} on a path needing {b} slots on "
                    f"server {self.problem.server_ids[j]} which has {self._free[j]} free at t = {self.now:.6g} s"
                )
        for j, b in zip(chain.servers, chain.blocks):
            self._free[j] -= b
            self._busy[j] += 1
        job.dispatch_s = self.now
        job.chain = chain
        job.tag = int(tag)
        job.expected_completion_s = self.now + self.mean_service_time(job, chain)
        job.completion_s = self.now + self.service_time(job, chain)
        job.segment_start_s = self.now
        self._running[job.index] = job
        self._push(job.completion_s, _COMPLETION, job)

    def migrate(self, job: Job, chain: Chain, tag: int = -1) -> None:
        """Move a running job to another path now (free migration: no cost, work is conserved).

        The remaining fraction of its work r = (completion − now)/S_old carries over:
        new completion = now + r·S_new. Used by JFFC with migration; the paper's system has none.
        """
        if self._running.get(job.index) is not job:
            raise SimulationError(f"job {job.index} is not in service; cannot migrate it")
        old = job.chain
        for j, b in zip(old.servers, old.blocks):
            self._free[j] += b
            self._busy[j] -= 1
        if not self.fits(chain):
            for j, b in zip(old.servers, old.blocks):
                self._free[j] -= b
                self._busy[j] += 1
            raise SimulationError(f"policy {self._policy_name!r} migrated job {job.index} onto a path that does not fit")
        for j, b in zip(chain.servers, chain.blocks):
            self._free[j] -= b
            self._busy[j] += 1
        if 0 <= job.tag < self._busy_tag.size:
            self._busy_tag[job.tag] += max(0.0, self.now - max(job.segment_start_s, self._t0))
        remaining = (job.completion_s - self.now) / self.service_time(job, old)
        job.completion_s = self.now + remaining * self.service_time(job, chain)
        job.chain = chain
        job.tag = int(tag)
        job.segment_start_s = self.now
        job._version += 1
        self._push(job.completion_s, _COMPLETION, job)

    def retry(self, job: Job, at_s: float) -> None:
        """Re-offer ``job`` to the policy at absolute time ``at_s`` (≥ now)."""
        if not at_s >= self.now:
            raise SimulationError(f"policy {self._policy_name!r} asked job {job.index} to retry at {at_s} < now {self.now}")
        self._retries += 1
        if self._retries > self._retry_budget:
            from chaincomp.errors import UsageError

            raise UsageError(
                f"policy {self._policy_name!r}: more than {self._retry_budget} retries for {self._num_jobs} jobs — the cluster "
                f"cannot keep up at this rate (every path is full, so clients keep retrying; the run's work grows with "
                f"the backlog). Lower --rate / --load or --jobs (docs/reliability.md, Limits)")
        self._push(float(at_s), _ARRIVAL, job)

    # -- loop -----------------------------------------------------------------------------------
    def _push(self, t: float, kind: int, job: Job) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, kind, self._seq, job, job._version))

    def run(self, policy: Policy, jobs: Iterable[Job], num_tags: int = 0, warmup_jobs: int = 0) -> RunRecord:
        """Simulate until every job completed. ``jobs`` must be in arrival order."""
        jobs = list(jobs)
        n = len(jobs)
        self._num_jobs, self._retries = n, 0
        self._retry_budget = max(MAX_RETRIES, RETRIES_PER_JOB * n)
        self._free = self._initial.copy()
        self._busy = np.zeros_like(self._free)
        self._heap: list = []
        self._seq = 0
        self._running: dict[int, Job] = {}
        self._policy_name = getattr(policy, "name", type(policy).__name__)
        self.now = 0.0
        t0 = jobs[min(warmup_jobs, n - 1)].arrival_s if n else 0.0
        busy = np.zeros(max(num_tags, 1), dtype=float)
        self._busy_tag = busy
        self._t0 = t0
        policy.reset(self)
        nxt = 0
        events = 0
        done = 0
        heap = self._heap
        while done < n:
            if heap and (nxt >= n or heap[0][0] <= jobs[nxt].arrival_s):
                t, kind, _, job, version = heapq.heappop(heap)
                if kind == _COMPLETION and version != job._version:
                    continue  # superseded by a migration
            elif nxt < n:
                job = jobs[nxt]
                t, kind = job.arrival_s, _ARRIVAL
                nxt += 1
            else:
                raise SimulationError(
                    f"policy {self._policy_name!r} holds {n - done - len(self._running)} job(s) that can never "
                    f"start (no event pending at t = {self.now:.6g} s; a path that never fits?)"
                )
            if t < self.now:
                raise SimulationError("event in the past (engine bug)")
            self.now = t
            events += 1
            if kind == _ARRIVAL:
                job.attempts += 1
                policy.on_arrival(job, self)
            else:
                del self._running[job.index]
                for j, b in zip(job.chain.servers, job.chain.blocks):
                    self._free[j] += b
                    self._busy[j] -= 1
                if 0 <= job.tag < busy.size:
                    busy[job.tag] += max(0.0, job.completion_s - max(job.segment_start_s, t0))
                done += 1
                policy.on_completion(job, self)
        end = max((jb.completion_s for jb in jobs), default=0.0)
        return RunRecord(
            arrival_s=np.array([jb.arrival_s for jb in jobs]),
            dispatch_s=np.array([jb.dispatch_s for jb in jobs]),
            completion_s=np.array([jb.completion_s for jb in jobs]),
            tag=np.array([jb.tag for jb in jobs], dtype=np.int64),
            attempts=np.array([jb.attempts for jb in jobs], dtype=np.int64),
            input_tokens=np.array([jb.input_tokens for jb in jobs]),
            output_tokens=np.array([jb.output_tokens for jb in jobs]),
            busy_s=busy[:num_tags] if num_tags else np.zeros(0),
            window_start_s=float(t0),
            window_end_s=float(end),
            events=events,
            policy=self._policy_name,
        )


def placement_slots(problem: Problem, placement: Placement) -> np.ndarray:
    """F_j = M̃_j = ⌊(M_j − s_m m_j)/s_c⌋ (Eq. 3); servers hosting nothing get 0 (they serve no job)."""
    slots = np.maximum(problem.residual_slots(placement.num_blocks), 0).astype(np.int64)
    slots[placement.num_blocks == 0] = 0
    return slots
