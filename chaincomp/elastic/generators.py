"""Seeded event-timeline generators (issue 11 item 6): churn, correlated region failure, diurnal λ(t).

All take a ``seed`` (numpy ``default_rng``); same inputs + seed → the same timeline.

- :func:`churn`: ``round(fraction·J)`` distinct servers depart at uniform times in [0, horizon);
  each departure is a ``fail`` with probability ``fail_share`` (else an announced ``leave``) and the
  server re-joins (same record) after an Exp(``mean_downtime_s``) downtime if that is within the
  horizon. "10 % churn" = ``fraction=0.1``.
- :func:`region_failure`: every server of a region (``meta.servers[].region``) or of an explicit
  list fails at ``time_s``; with ``downtime_s`` they re-join together.
- :func:`diurnal`: one ``rate`` event per window (``windows`` equal windows over the horizon). Shape
  ``azure``: the rate profile of the Azure LLM inference 2023 code trace — arrivals counted in
  ``windows`` equal bins over the trace, 3-bin circular moving average, floored at 10 % of the mean,
  scaled so its maximum is ``peak_rate``. The public trace spans 57 minutes, not a day, so this is
  its within-hour burst profile stretched to the horizon, not an observed diurnal cycle (say so
  when quoting results). Shape ``sine``: λ(t) = peak·(trough + (1 − trough)(1 − cos 2πt/horizon)/2),
  a single day cycle with its peak mid-horizon. ``noise`` multiplies each window's λ by an
  independent uniform factor in [1 − noise, 1 + noise].

The trace is read from ``data_dir`` (a folder holding ``azure_llm_inference_2023_code.csv``, or
the trace file itself) through the toolkit's one data resolver (:mod:`chaincomp.data`): default
``$CHAINCOMP_DATA`` if set, else the copy shipped with the package.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from chaincomp.elastic.events import Event, Timeline, server_record, server_regions
from chaincomp.errors import UsageError
from chaincomp.io import limits
from chaincomp.problem import Problem

def _timeline(events: list[Event], horizon_s: float, description: str) -> Timeline:
    events = sorted(events, key=lambda e: e.time_s)  # stable: same-time events keep their order
    return Timeline(tuple(events), float(horizon_s), "<generated>", description)


def _check_horizon(horizon_s: float) -> None:
    limits.positive_option(horizon_s, "--horizon (s)", limits.MAX_HORIZON_S)


def _check_time(value: float | None, name: str) -> None:
    """A time (s) in [0, MAX_HORIZON_S] (None passes)."""
    limits.bounded_option(value, name, 0.0, limits.MAX_HORIZON_S, " s")


def _check_share(value: float, name: str) -> None:
    limits.bounded_option(value, name, 0.0, 1.0)


def churn(problem: Problem, horizon_s: float, fraction: float = 0.1, fail_share: float = 0.5,
          mean_downtime_s: float | None = None, seed: int = 0) -> Timeline:
    """Servers leave/fail and re-join (module docstring); ``mean_downtime_s`` 0: departed servers
    never re-join."""
    _check_share(fraction, "--fraction")
    _check_share(fail_share, "--fail-share")
    _check_horizon(horizon_s)
    _check_time(mean_downtime_s, "--downtime")
    limits.check_seed(seed, "--seed")
    rng = np.random.default_rng(seed)
    J = problem.num_servers
    n = int(round(fraction * J))
    down = horizon_s / 4 if mean_downtime_s is None else float(mean_downtime_s)
    who = rng.choice(J, size=n, replace=False) if n else np.array([], dtype=int)
    times = rng.uniform(0, horizon_s, size=n)
    kinds = rng.uniform(size=n) < fail_share
    back = rng.exponential(down, size=n) if down > 0 else np.full(n, np.inf)
    events = []
    for j, t, f, d in zip(who.tolist(), times.tolist(), kinds.tolist(), back.tolist()):
        sid = problem.server_ids[j]
        events.append(Event(round(t, 3), "fail" if f else "leave", sid))
        if t + d < horizon_s:
            events.append(Event(round(t + d, 3), "join", sid, server_record(problem, j)))
    return _timeline(events, horizon_s, f"churn {fraction:g} of {J} servers, fail share {fail_share:g}, "
                                        f"mean downtime {down:g} s, seed {seed}")


def region_failure(problem: Problem, region: str | None = None, servers: list[str] | None = None,
                   time_s: float = 0.0, downtime_s: float | None = None, horizon_s: float | None = None) -> Timeline:
    """All servers of ``region`` (or the ``servers`` list) fail at once; optional re-join."""
    _check_time(time_s, "--at")
    _check_time(downtime_s, "--downtime")
    if horizon_s is not None:
        _check_horizon(horizon_s)
    if (region is None) == (servers is None):
        raise UsageError("give exactly one of region or servers")
    if region is not None:
        regions = server_regions(problem)
        servers = [s for s, r in regions.items() if r == region]
        if not servers:
            labels = sorted({r for r in regions.values() if r})
            raise UsageError(f"no server in region {region!r}; regions: {', '.join(labels) or '(none labelled)'}")
    index = {s: j for j, s in enumerate(problem.server_ids)}
    bad = [s for s in servers if s not in index]
    if bad:
        raise UsageError(f"unknown server id(s): {', '.join(bad)}")
    events = [Event(float(time_s), "fail", s) for s in servers]
    if downtime_s is not None:
        events += [Event(float(time_s + downtime_s), "join", s, server_record(problem, index[s])) for s in servers]
    end = horizon_s if horizon_s is not None else max(e.time_s for e in events) + 3600.0
    return _timeline(events, end, f"correlated failure of {len(servers)} servers ({region or 'list'}) at {time_s:g} s")


def azure_shape(windows: int, data_dir: str | Path | None = None) -> np.ndarray:
    """The normalized (max 1) rate profile of the Azure code trace in ``windows`` bins."""
    from chaincomp.sim.arrivals import load_trace

    from chaincomp.data import TRACE_FILE, data_file

    if data_dir is not None and Path(data_dir).is_file():
        path = Path(data_dir)
    else:
        path = data_file(TRACE_FILE, data_dir)
    stream = load_trace(path)
    t = stream.arrival_s
    counts, _ = np.histogram(t, bins=windows, range=(0.0, float(t[-1]) + 1e-9))
    counts = counts.astype(float)
    if windows >= 3:
        counts = (np.roll(counts, 1) + counts + np.roll(counts, -1)) / 3.0
    counts = np.maximum(counts, 0.1 * counts.mean())
    return counts / counts.max()


def diurnal(problem: Problem, horizon_s: float = 86400.0, windows: int = 24, peak_rate: float | None = None,
            shape: str = "azure", trough: float = 0.3, noise: float = 0.0, seed: int = 0,
            data_dir: str | Path | None = None) -> Timeline:
    """Rate events λ(t) (module docstring); the first at t = 0."""
    if windows < 1:
        raise UsageError(f"--windows must be ≥ 1, got {windows}")
    limits.check_count(windows, limits.MAX_EVENTS, "windows (one rate event each)", "--windows")
    if not (math.isfinite(noise) and 0 <= noise < 1):
        raise UsageError(f"--noise: expected a finite number in [0, 1), got {noise}")
    _check_horizon(horizon_s)
    limits.positive_option(peak_rate, "--peak-rate (req/s)", limits.MAX_ARRIVAL_RATE, lower=limits.MIN_ARRIVAL_RATE)
    if seed < 0:
        raise UsageError(f"seed must be ≥ 0, got {seed}")
    peak = problem.arrival_rate if peak_rate is None else float(peak_rate)
    if shape == "azure":
        prof = azure_shape(windows, data_dir)
    elif shape == "sine":
        mid = (np.arange(windows) + 0.5) / windows
        prof = trough + (1 - trough) * (1 - np.cos(2 * np.pi * mid)) / 2
    else:
        raise UsageError(f"diurnal shape must be 'azure' or 'sine', got {shape!r}")
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1 - noise, 1 + noise, size=windows) if noise > 0 else np.ones(windows)
    rates = peak * prof * factors
    step = horizon_s / windows
    events = [Event(round(w * step, 3), "rate", arrival_rate=float(round(r, 6))) for w, r in enumerate(rates)]
    return _timeline(events, horizon_s, f"diurnal λ(t), shape {shape}, peak {peak:g} req/s, {windows} windows, "
                                        f"noise ±{noise:g}, seed {seed}")


def merge(*timelines: Timeline, problem: Problem | None = None) -> Timeline:
    """One timeline with all events (stable time order) and the largest horizon. With ``problem``
    (the cluster at t = 0) the merged events are made consistent with each other: a departure of a
    server that is already gone and a join of a server that is present are dropped (e.g. churn
    making a server of a failed region leave), so the file passes :func:`~chaincomp.elastic.events.parse_events`."""
    events = sorted((e for t in timelines for e in t.events), key=lambda e: e.time_s)
    description = " + ".join(t.description or "" for t in timelines)
    if problem is not None:
        present, kept = set(problem.server_ids), []
        for e in events:
            if e.kind in ("leave", "fail"):
                if e.server not in present:
                    continue
                present.discard(e.server)
            elif e.kind == "join":
                if e.server in present:
                    continue
                present.add(e.server)
            kept.append(e)
        if len(kept) < len(events):
            description += f" ({len(events) - len(kept)} events dropped: they applied to a server already gone or present)"
        events = kept
    return _timeline(events, max(t.horizon_s for t in timelines), description)
