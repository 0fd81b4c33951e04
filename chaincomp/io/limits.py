"""Documented limits on input sizes (docs/reliability.md, "Limits").

Input above a limit is refused with :class:`~chaincomp.errors.InvalidInstance` (exit code 2) and a
message naming the field, the value and the limit, instead of running for minutes or exhausting
memory. Each limit is well above every shipped instance, generator and paper setup (the largest
shipped instance: 42 servers, 80 blocks, c range 1..7423; the largest benchmark: 1000 servers).
"""

from __future__ import annotations

from typing import Any

from chaincomp.errors import InvalidInstance, UsageError

#: servers after ``count`` expansion (issue 14: the c sweep at J = 100 000 takes ~15–30 s within ~1.2 GB)
MAX_SERVERS = 100_000
#: blocks L of a model (the largest real models have a few hundred layers)
MAX_BLOCKS = 1_000
#: c_max = ⌊(max_j M_j − s_m)/s_c⌋, the length of the tuning sweep c = 1..c_max
MAX_CACHE_RANGE = 50_000
#: largest value of a ``count`` on one server entry (also bounded by MAX_SERVERS in total)
MAX_SERVER_COUNT = MAX_SERVERS
#: GPU memory per GPU, GB (today's largest accelerator has < 300 GB)
MAX_MEMORY_GB = 100_000.0
#: GPUs in one node
MAX_GPUS = 1024
#: any time constant (τ^c, τ^p, overheads), seconds (≈ 11.6 days)
MAX_TIME_S = 1e6
#: a solver time limit (--time-limit, time_limit_s), s (≈ 11.6 days); a batch task's hard limit
#: (--task-timeout, task_timeout_s; default 2 × time_limit_s + 60), s (≈ 23 days, below the 2³¹ ms
#: that the operating system's wait accepts)
MAX_TIME_LIMIT_S = 1e6
MAX_TASK_TIMEOUT_S = 2e6 + 60
#: memory limit per batch worker, GB (a worker imports numpy, numba and HiGHS: below 1 GB it cannot start)
MIN_WORKER_MEMORY_GB = 1.0
MAX_WORKER_MEMORY_GB = 1e5
#: batch worker processes
MAX_WORKERS = 1024
#: RTT, ms
MAX_RTT_MS = 1e9
#: arrival rate λ, requests per second (below MIN the simulated horizon n/λ overflows)
MAX_ARRIVAL_RATE = 1e9
MIN_ARRIVAL_RATE = 1e-9
#: target load ρ̄ (below MIN the required rate λ/ρ̄ leaves any meaningful range)
MIN_TARGET_LOAD = 1e-6
#: mean token counts (input / output) and max_seq_len
MAX_TOKENS = 10_000_000
#: sizes of architecture figures (hidden size, heads, vocab, …)
MAX_ARCH_DIM = 10_000_000
#: block / cache sizes, GB
MAX_SIZE_GB = 1e6
#: parameters / FLOPs figures
MAX_PARAMS = 1e15
#: nesting depth of any JSON/TOML document (objects and lists)
MAX_JSON_DEPTH = 64
#: size of a JSON/TOML input file, bytes
MAX_JSON_BYTES = 256 * 1024 * 1024
#: size of a trace CSV, bytes; rows of a trace
MAX_TRACE_BYTES = 2 * 1024 * 1024 * 1024
MAX_TRACE_ROWS = 20_000_000
#: seeds: integers in [0, 2^63) (numpy's generators accept any; the kernels use int64)
MAX_SEED = 2**63 - 1
#: seeds in one batch; tasks in one batch
MAX_SEEDS = 100_000
MAX_TASKS = 1_000_000
#: simulated jobs per replication; replications
MAX_SIM_JOBS = 50_000_000
MAX_REPLICATIONS = 1_000  # each replication costs ≈ 7 ms even at 2 jobs: 1 000 stay within seconds
#: length of an identifier (server id, names)
MAX_ID_LENGTH = 256
#: events in one timeline (recompose re-plans after each one); a timeline's horizon, s (≈ 31.7 years)
MAX_EVENTS = 100_000
MAX_HORIZON_S = 1e9
#: block load bandwidth b_j, GB/s (SPEC §3.6; today's fastest links are < 1000 GB/s; below MIN a
#: block's reload time overflows)
MAX_LOAD_BANDWIDTH_GB_S = 1e6
MIN_LOAD_BANDWIDTH_GB_S = 1e-6
#: jobs expected over one simulated timeline (`simulate --events`; each policy replays them in a
#: Python event loop at ≈ 5 µs per job)
MAX_TIMELINE_JOBS = 5_000_000
#: PETALS rebalancing checks over one simulated timeline (horizon / --petals-period)
MAX_PERIODIC_CHECKS = 100_000


def check_seed(seed: Any, where: str = "--seed") -> int:
    """A seed must be an integer in 0..2^63−1 (bool refused)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UsageError(f"{where}: expected an integer seed in 0..{MAX_SEED}, got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"{where}: expected a seed in 0..{MAX_SEED} (2^63 − 1), got {seed}")
    return seed


def positive_option(value: float | None, name: str, upper: float = 1e12, lower: float = 0.0) -> float | None:
    """A command-line number that must be finite and > 0 (None passes): refuses nan, inf, ≤ 0;
    with ``lower`` > 0 it must be ≥ lower."""
    import math

    if value is None:
        return None
    if not (math.isfinite(value) and 0 < value <= upper and value >= lower):
        span = f"[{lower:g}, {upper:g}]" if lower > 0 else f"(0, {upper:g}]"
        raise UsageError(f"{name}: expected a finite number in {span}, got {value}")
    return value


def bounded_option(value: float | None, name: str, lower: float = 0.0, upper: float = 1e12, unit: str = "") -> float | None:
    """A number that must be finite and in [lower, upper] (None passes): refuses nan, inf and values
    outside, naming the option (``unit``, e.g. " s", is shown after the range)."""
    import math

    if value is not None and not (math.isfinite(value) and lower <= value <= upper):
        raise UsageError(f"{name}: expected a finite number in [{lower:g}, {upper:g}]{unit}, got {value}")
    return value


def check_load_bandwidth(value: float | None, name: str = "--load-bandwidth (GB/s)") -> float | None:
    """A block load bandwidth b_j in [MIN_LOAD_BANDWIDTH_GB_S, MAX_LOAD_BANDWIDTH_GB_S] GB/s (None passes)."""
    return positive_option(value, name, MAX_LOAD_BANDWIDTH_GB_S, lower=MIN_LOAD_BANDWIDTH_GB_S)


def check_target_load(value: float | None, name: str = "--target-load") -> float | None:
    """ρ̄ in [MIN_TARGET_LOAD, 1] (None passes)."""
    return bounded_option(value, name, MIN_TARGET_LOAD, 1.0)


def check_count(value: int, limit: int, what: str, where: str) -> None:
    """Refuse ``value > limit`` with a message naming what is counted and the documented limit."""
    if value > limit:
        raise UsageError(f"{where}: {value} {what} exceeds the limit of {limit} (see docs/reliability.md, Limits)")


def check_problem(problem, where: str) -> None:
    """Refuse a Problem whose sizes are beyond the documented limits (servers, blocks, c range).

    Every figure is already finite and positive (schema); this bounds the work the algorithms do.
    """
    if problem.num_servers > MAX_SERVERS:
        raise InvalidInstance(f"{where}: cluster.servers: {problem.num_servers} servers (after count expansion) exceed the limit of {MAX_SERVERS}")
    if problem.num_blocks > MAX_BLOCKS:
        raise InvalidInstance(f"{where}: model.num_blocks: L = {problem.num_blocks} exceeds the limit of {MAX_BLOCKS} blocks")
    import numpy as np

    arrays = {"memory_gb": problem.memory_gb, "tau_comm_s": problem.tau_comm_s, "tau_comp_s": problem.tau_comp_s}
    for name, arr in arrays.items():
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            j = int(bad[0])
            raise InvalidInstance(f"{where}: servers[{j}] ({problem.server_ids[j]!r}): {name}: expected a finite number ≥ 0, got {arr[j]}")
    idle = np.flatnonzero(problem.tau_comm_s + problem.tau_comp_s <= 0)
    if idle.size:
        j = int(idle[0])
        raise InvalidInstance(
            f"{where}: servers[{j}] ({problem.server_ids[j]!r}): τ^c + τ^p = 0 s: a server must take some time per job "
            f"(a chain of such servers would have service time T_k = 0 and an infinite rate); give tau_comm_s or tau_comp_s > 0")
    for name in ("block_size_gb", "cache_size_gb", "arrival_rate", "target_load"):
        v = float(getattr(problem, name))
        if not (np.isfinite(v) and v > 0):
            raise InvalidInstance(f"{where}: {name}: expected a finite number > 0, got {v}")
    if not MIN_TARGET_LOAD <= problem.target_load <= 1:
        raise InvalidInstance(f"{where}: target_load: expected ρ̄ in [{MIN_TARGET_LOAD:g}, 1], got {problem.target_load}")
    ratio = (float(problem.memory_gb.max()) - problem.block_size_gb) / problem.cache_size_gb
    if not np.isfinite(ratio) or ratio > MAX_CACHE_RANGE:
        raise InvalidInstance(
            f"{where}: model.cache_size_gb: s_c = {problem.cache_size_gb:.4g} GB is so small against the largest server's "
            f"{float(problem.memory_gb.max()):.4g} GB that the cache reservation c would range over 1..{ratio:.4g}, beyond the "
            f"limit of {MAX_CACHE_RANGE}; check the units (GB) of cache_size_gb / memory_gb")
