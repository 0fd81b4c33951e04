"""High-level simulation runs: policies × replications over one job stream → a JSON-ready report.

Random streams (common random numbers): replication r of seed s draws from
``SeedSequence(s).spawn(…)[r]``, split into independent child streams for inter-arrival times, job
sizes, JIQ's uniforms and resampled lengths. Every policy (and every allocation) sees the same
arrivals and sizes in replication r, so differences between policies are not sampling noise of the
arrivals.

Defaults (choices SPEC leaves open): warm-up = 10 % of the jobs for Poisson arrivals and 0 for
trace replay (a replayed trace is measured whole); with Poisson arrivals and length-driven service
the token lengths are resampled (with replacement) from ``lengths_from`` (a trace) when given, else
the problem's mean lengths are used for every job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.errors import UsageError
from chaincomp.problem import Problem
from chaincomp.sim import arrivals as arr
from chaincomp.sim import metrics
from chaincomp.sim.engine import Job, RunRecord, Simulator, placement_slots
from chaincomp.sim.kernel import run_kernel
from chaincomp.sim.policies import POLICY_CODES, ChainDispatchPolicy, check_policy
from chaincomp.sim.service import chain_coefficients, check_length_model, check_service, coefficient_arrays, job_sizes

ENGINES = ("auto", "numba", "python")


@dataclass(frozen=True)
class Streams:
    """Everything random about one replication, fixed before any policy runs."""

    arrival_s: np.ndarray
    sizes: np.ndarray
    uniforms: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray


def make_streams(
    problem: Problem,
    num_jobs: int,
    seed: int,
    replication: int,
    service: str,
    rate: float | None = None,
    trace: arr.JobStream | None = None,
    lengths_from: arr.JobStream | None = None,
) -> Streams:
    """Streams of replication ``replication`` (independent of the allocation and the policy)."""
    child = np.random.SeedSequence(seed).spawn(replication + 1)[replication]
    g_arr, g_size, g_u, g_len = (np.random.default_rng(s) for s in child.spawn(4))
    if trace is not None:
        t, lin, lout = trace.arrival_s, trace.input_tokens, trace.output_tokens
        n = t.size
    else:
        n = int(num_jobs)
        lam = problem.arrival_rate if rate is None else rate
        t = arr.poisson_stream(lam, n, g_arr).arrival_s
        if lengths_from is not None:
            pick = g_len.integers(0, lengths_from.num_jobs, n)
            lin, lout = lengths_from.input_tokens[pick], lengths_from.output_tokens[pick]
        else:
            if service == "length" and (problem.mean_input_tokens is None or problem.mean_output_tokens is None):
                raise UsageError("length-driven service with Poisson arrivals needs token lengths: give --trace FILE to "
                                 "resample them or an instance with mean input/output tokens")
            lin = np.full(n, float(problem.mean_input_tokens or 0.0))
            lout = np.full(n, float(problem.mean_output_tokens or 0.0))
    return Streams(np.asarray(t, float), job_sizes(service, n, g_size), g_u.random(n), np.asarray(lin, float), np.asarray(lout, float))


def _usable(allocation: Allocation) -> Allocation:
    keep = [k for k, c in enumerate(allocation.capacities) if c > 0]
    return Allocation(tuple(allocation.chains[k] for k in keep), tuple(allocation.capacities[k] for k in keep))


def run_chain_policy(problem: Problem, allocation: Allocation, policy: str, streams: Streams, service: str,
                     warmup_jobs: int = 0, engine: str = "numba", placement: Placement | None = None) -> RunRecord:
    """One run of a chain-dispatch policy (numba kernel or the general engine)."""
    policy = check_policy(policy)
    allocation = _usable(allocation)
    if not allocation.chains:
        raise UsageError("the allocation has no chain with capacity ≥ 1; nothing to simulate")
    if engine == "python":
        slots = placement_slots(problem, placement) if placement is not None else allocation.slot_use(problem.num_servers)
        sim = Simulator(problem, slots, lambda ch: chain_coefficients(problem, ch, service), placement)
        jobs = _jobs(streams)
        return sim.run(ChainDispatchPolicy(policy, allocation, streams.uniforms), jobs,
                       num_tags=len(allocation.chains), warmup_jobs=warmup_jobs)
    coef = coefficient_arrays(problem, allocation.chains, service)
    d, c, k, busy, t0, events = run_kernel(
        POLICY_CODES[policy], streams.arrival_s, streams.sizes, streams.input_tokens, streams.output_tokens,
        streams.uniforms, coef, allocation.capacity_array, allocation.rates, int(warmup_jobs))
    n = streams.arrival_s.size
    return RunRecord(streams.arrival_s, d, c, k, np.ones(n, dtype=np.int64), streams.input_tokens,
                     streams.output_tokens, busy, float(t0), float(np.nanmax(c)) if n else 0.0, int(events), policy)


def _jobs(streams: Streams) -> list[Job]:
    return [Job(i, float(streams.arrival_s[i]), float(streams.input_tokens[i]), float(streams.output_tokens[i]),
                float(streams.sizes[i])) for i in range(streams.arrival_s.size)]


def run_policy(problem: Problem, policy, streams: Streams, service: str, placement: Placement | None,
               warmup_jobs: int = 0, initial_free_slots=None) -> RunRecord:
    """One run of a routing policy object on the general engine.

    Initial free slots: ``initial_free_slots`` if given, else the policy's own
    ``initial_free_slots`` attribute (an array, or a callable (problem, placement) → array — e.g.
    PETALS' fixed cache budget), else M̃_j of ``placement``.
    """
    if initial_free_slots is None and getattr(policy, "initial_free_slots", None) is not None:
        custom = policy.initial_free_slots
        initial_free_slots = custom(problem, placement) if callable(custom) else custom
    if initial_free_slots is None:
        if placement is None:
            raise UsageError("a routing policy needs the placement (server slots) to simulate")
        initial_free_slots = placement_slots(problem, placement)
    sim = Simulator(problem, initial_free_slots, lambda ch: chain_coefficients(problem, ch, service), placement)
    return sim.run(policy, _jobs(streams), num_tags=int(getattr(policy, "num_tags", 0)), warmup_jobs=warmup_jobs)


@dataclass
class SimulationReport:
    data: dict
    samples: dict[str, np.ndarray] = field(default_factory=dict)  # measured response times per policy (all reps)

    def to_dict(self) -> dict:
        return self.data


def simulate(
    problem: Problem,
    allocation: Allocation | None,
    policies: Sequence = ("jffc",),
    *,
    placement: Placement | None = None,
    arrivals: str = "poisson",
    trace: arr.JobStream | None = None,
    lengths_from: arr.JobStream | None = None,
    num_jobs: int = 100_000,
    replications: int = 1,
    seed: int = 0,
    service: str = "exp",
    warmup: float | int | None = None,
    rate: float | None = None,
    engine: str = "auto",
    on_progress: Callable[[int, int], None] | None = None,
) -> SimulationReport:
    """Simulate every policy for ``replications`` runs on common random numbers.

    ``policies``: chain-policy names (:data:`~chaincomp.sim.policies.POLICIES`) and/or routing
    policy objects. ``warmup``: a count of jobs (int ≥ 1), or a fraction of the jobs (< 1);
    ``None`` → 10 % for Poisson, 0 for traces. ``rate`` overrides λ for Poisson arrivals.
    """
    service = check_service(service)
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if replications < 1:
        raise UsageError(f"replications must be ≥ 1, got {replications}")
    if arrivals not in ("poisson", "trace"):
        raise UsageError(f"unknown arrival process {arrivals!r}; choose poisson or trace")
    if arrivals == "trace" and trace is None:
        raise UsageError("--arrivals trace needs --trace FILE")
    if arrivals == "poisson":
        trace = None
        if num_jobs < 2:
            raise UsageError(f"--jobs must be ≥ 2, got {num_jobs}")
    if rate is not None and not rate > 0:
        raise UsageError(f"arrival rate must be > 0, got {rate}")
    if service == "length":
        check_length_model(problem)
    n = trace.num_jobs if trace is not None else int(num_jobs)
    if warmup is None:
        warmup_jobs = 0 if trace is not None else n // 10
    elif 0 <= warmup < 1:
        warmup_jobs = int(round(warmup * n))
    else:
        warmup_jobs = int(warmup)
    if warmup_jobs >= n:
        raise UsageError(f"warm-up of {warmup_jobs} jobs leaves nothing to measure out of {n}")
    names, objs = [], []
    for p in policies:
        if isinstance(p, str):
            if allocation is None:
                raise UsageError(f"policy {p!r} dispatches over chains, but no allocation was given")
            names.append(check_policy(p))
            objs.append(None)
        else:
            names.append(str(getattr(p, "name", type(p).__name__)))
            objs.append(p)
    if len(set(names)) != len(names):
        raise UsageError(f"policy listed twice: {', '.join(names)}")
    routed = [nm for nm, obj in zip(names, objs) if obj is not None]
    if engine == "numba" and routed:  # no silent fallback: the numba kernel runs chain policies only
        raise UsageError(f"--engine numba runs the chain policies (JFFC, JSQ, …) only; {', '.join(routed)} "
                         f"{'routes each job itself and needs' if len(routed) == 1 else 'route each job themselves and need'} the general engine: "
                         f"use --engine auto (numba where it applies) or --engine python")
    lam = (problem.arrival_rate if rate is None else rate) if trace is None else None

    alloc = _usable(allocation) if allocation is not None else None
    per_policy: dict[str, list[dict]] = {nm: [] for nm in names}
    samples: dict[str, list[np.ndarray]] = {nm: [] for nm in names}
    realized = []
    total, step = len(names) * replications, 0
    for r in range(replications):
        st = make_streams(problem, n, seed, r, service, lam, trace, lengths_from)
        realized.append(arr.stream_stats(st.arrival_s, st.input_tokens, st.output_tokens))
        for nm, obj in zip(names, objs):
            if obj is None:
                eng = "python" if engine == "python" else "numba"
                rec = run_chain_policy(problem, alloc, nm, st, service, warmup_jobs, eng, placement)
                caps = alloc.capacities
            else:
                rec = run_policy(problem, obj, st, service, placement, warmup_jobs)
                caps = getattr(obj, "tag_capacities", None)
            run = metrics.summarize_run(rec, warmup_jobs, caps)
            samples[nm].append(run["_resp"])
            per_policy[nm].append(run)
            step += 1
            if on_progress is not None:
                on_progress(step, total)

    results = []
    for nm, obj in zip(names, objs):
        agg = metrics.aggregate(per_policy[nm])
        res = {"policy": nm, "engine": ("python" if engine == "python" else "numba") if obj is None else "python", **agg}
        if obj is None and "chains" in res:
            for rec_, ch, c in zip(res["chains"], alloc.chains, alloc.capacities):
                rec_["capacity"] = int(c)
                rec_["service_time_s"] = ch.service_time_s
                rec_["servers"] = [problem.server_ids[j] for j in ch.servers]
        results.append(res)

    sim_info = {
        "arrivals": "trace" if trace is not None else "poisson",
        "service": service,
        "num_jobs": n,
        "replications": replications,
        "seed": seed,
        "warmup_jobs": warmup_jobs,
        "engine": engine,
    }
    workload: dict = {}
    if trace is not None:
        workload = {**trace.source, "simulated": realized[0]}
    else:
        workload = {"kind": "poisson", "arrival_rate_per_s": lam,
                    "realized_rate_per_s": float(np.mean([x["rate_per_s"] for x in realized])),
                    "mean_input_tokens": realized[0]["mean_input_tokens"],
                    "mean_output_tokens": realized[0]["mean_output_tokens"]}
        if lengths_from is not None:
            workload["lengths_from"] = lengths_from.source.get("path")
    out = {"simulation": sim_info, "workload": workload}
    if alloc is not None:
        nu = alloc.service_rate
        lam_eff = lam if lam is not None else realized[0].get("rate_per_s")
        b = jffc_bounds(lam_eff, alloc.rates, alloc.capacity_array) if lam_eff else None
        out["allocation"] = {"num_chains": len(alloc.chains), "total_capacity": alloc.total_capacity, "service_rate": nu}
        out["theorem4"] = {
            "arrival_rate": lam_eff,
            "load": lam_eff / nu if lam_eff else None,
            "response_time_lower_s": b.lower_s if b is not None and b.stable else None,
            "response_time_upper_s": b.upper_s if b is not None and b.stable else None,
            "applies": bool(trace is None and service == "exp"),
            "note": "Theorem 4 bounds JFFC under Poisson arrivals and Exp service; with a trace or other service "
                    "models they are only a reference (computed at the workload's mean rate).",
        }
    out["policies"] = results
    return SimulationReport(out, {nm: np.concatenate(v) for nm, v in samples.items()})
