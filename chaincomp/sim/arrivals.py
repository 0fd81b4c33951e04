"""Arrival processes: Poisson(λ) and trace replay (SPEC §5).

Trace files use the Azure LLM inference 2023 CSV format: a header ``TIMESTAMP,ContextTokens,
GeneratedTokens`` and rows like ``2023-11-16 18:17:03.9799600,4808,10``. Timestamps may carry up
to 9 fractional digits; they must be non-decreasing. Token counts must be non-negative integers.

Choices (documented in docs/simulator.md):
- the trace's rate is 1 / mean inter-arrival time = (n − 1)/(t_last − t_first) of the selected
  requests; ``rate=`` rescales all inter-arrival times by one factor so that this equals the target;
- times are shifted so the first selected request arrives at t = 0;
- ``offset`` skips that many requests, ``first`` then keeps that many.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chaincomp.errors import InvalidInstance, UsageError

TRACE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")


@dataclass(frozen=True)
class JobStream:
    """Arrival times (s, from 0) and token lengths of n jobs, plus statistics of the source."""

    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    source: dict = field(default_factory=dict)

    @property
    def num_jobs(self) -> int:
        return int(self.arrival_s.size)


def stream_stats(arrival_s: np.ndarray, input_tokens: np.ndarray, output_tokens: np.ndarray) -> dict:
    """Rate (1/mean inter-arrival), inter-arrival CV, mean lengths."""
    n = arrival_s.size
    out = {"num_requests": int(n)}
    if n >= 2:
        gaps = np.diff(arrival_s)
        span = float(arrival_s[-1] - arrival_s[0])
        out["duration_s"] = span
        out["rate_per_s"] = (n - 1) / span if span > 0 else None
        out["interarrival_cv"] = float(gaps.std() / gaps.mean()) if gaps.mean() > 0 else None
    out["mean_input_tokens"] = float(np.mean(input_tokens)) if n else None
    out["mean_output_tokens"] = float(np.mean(output_tokens)) if n else None
    return out


def poisson_stream(rate: float, n: int, rng: np.random.Generator, input_tokens=None, output_tokens=None) -> JobStream:
    """n Poisson(``rate``) arrivals starting at the first inter-arrival time.

    Token lengths: constant ``input_tokens``/``output_tokens`` (scalars) or arrays of length n.
    """
    if not rate > 0:
        raise UsageError(f"arrival rate must be > 0, got {rate}")
    t = np.cumsum(rng.exponential(1.0 / rate, n))
    lin = np.broadcast_to(np.asarray(0.0 if input_tokens is None else input_tokens, dtype=float), (n,)).copy()
    lout = np.broadcast_to(np.asarray(0.0 if output_tokens is None else output_tokens, dtype=float), (n,)).copy()
    return JobStream(t, lin, lout, {"kind": "poisson", "rate_per_s": float(rate)})


#: accepted timestamp form (the Azure traces'): date, time, up to 9 fractional digits, no zone
_TS = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?")
#: years representable as datetime64[ns] (1678–2261), the range numpy/pandas timestamps cover
_YEARS = (1678, 2261)


def _parse_time(values: list[str], path: Path, first_line: int = 2) -> np.ndarray:
    """Seconds from the first timestamp. Each value must look like ``2023-11-16 18:17:03.97996``
    with a year in 1678–2261; anything else (epoch seconds, a time zone, a year outside the
    datetime64[ns] range) is refused with the line — never silently misread."""
    for line, v in enumerate(values, start=first_line):
        m = _TS.fullmatch(v.strip())
        if m is None:
            hint = " (it looks like epoch seconds)" if v.strip().replace(".", "", 1).isdigit() else ""
            raise InvalidInstance(f"{path}: line {line}: column TIMESTAMP: expected a timestamp like "
                                  f"2023-11-16 18:17:03.97996, got {v.strip()[:40]!r}{hint}")
        if not _YEARS[0] <= int(m.group(1)) <= _YEARS[1]:
            raise InvalidInstance(f"{path}: line {line}: column TIMESTAMP: year {m.group(1)} is outside "
                                  f"{_YEARS[0]}–{_YEARS[1]}, the range of nanosecond timestamps")
    try:
        ts = np.array([v.strip().replace(" ", "T") for v in values], dtype="datetime64[ns]")
    except ValueError as exc:
        raise InvalidInstance(f"{path}: column TIMESTAMP: expected timestamps like 2023-11-16 18:17:03.97996 ({exc})") from None
    ns = ts.astype(np.int64)
    if ns.size and int(ns.max()) - int(ns[0]) > np.iinfo(np.int64).max:  # offsets from the first row must fit int64 ns
        raise InvalidInstance(f"{path}: column TIMESTAMP: the trace spans {(int(ns.max()) - int(ns[0])) / 3.15576e16:.0f} "
                              "years from its first row; at most 292 years (nanosecond offsets) are supported")
    return (ts - ts[0]).astype(np.int64) / 1e9


def load_trace(path: str | Path, first: int | None = None, offset: int = 0, rate: float | None = None) -> JobStream:
    """Read an Azure-format trace; keep requests offset..offset+first−1; optionally rescale to ``rate``.

    A bare shipped name (``azure_llm_inference_2023_code.csv``) not in the current folder is read
    from the data folder (:func:`chaincomp.data.resolve`).
    """
    from chaincomp.data import resolve

    path = resolve(path)
    if offset < 0 or (first is not None and first < 1):
        raise UsageError(f"trace selection needs offset ≥ 0 and first ≥ 1 (got offset={offset}, first={first})")
    from chaincomp.io import files as io_files
    from chaincomp.io import limits

    rows = []
    with io_files.open_text(path, "trace file", max_bytes=limits.MAX_TRACE_BYTES, newline="") as fh:
        try:
            reader = csv.reader(fh)
            header = next(reader, None)
            for r in reader:
                rows.append(r)
                if len(rows) > limits.MAX_TRACE_ROWS:
                    raise InvalidInstance(f"{path}: more than {limits.MAX_TRACE_ROWS} rows, the limit for a trace "
                                          "(docs/reliability.md, Limits); cut it or select with --trace-offset/--jobs")
        except UnicodeDecodeError as exc:
            raise InvalidInstance(f"{path}: line {len(rows) + 2}: not UTF-8 text ({exc.reason})") from None
        except csv.Error as exc:
            raise InvalidInstance(f"{path}: line {len(rows) + 2}: not a readable CSV row ({exc})") from None
        except OSError as exc:
            raise InvalidInstance(f"{path}: cannot read the trace file ({exc.strerror or exc})") from None
    if header is None:
        raise InvalidInstance(f"{path}: empty trace file; expected header {','.join(TRACE_COLUMNS)}")
    header = [h.strip() for h in header]
    twice = sorted({h for h in header if header.count(h) > 1 and h in TRACE_COLUMNS})
    if twice:
        raise InvalidInstance(f"{path}: header {','.join(header)} names column(s) {', '.join(twice)} twice; which one is meant? keep one")
    missing = [c for c in TRACE_COLUMNS if c not in header]
    if missing:
        raise InvalidInstance(f"{path}: header {','.join(header)} lacks column(s) {', '.join(missing)}; expected {','.join(TRACE_COLUMNS)}")
    idx = [header.index(c) for c in TRACE_COLUMNS]
    rows = [r for r in rows if r and any(x.strip() for x in r)]
    total = len(rows)
    rows = rows[offset:] if first is None else rows[offset : offset + first]
    if len(rows) < 1:
        raise InvalidInstance(f"{path}: {total} request(s) in the file, none left after offset {offset}")
    for line, r in enumerate(rows, start=offset + 2):
        if len(r) < len(header):
            raise InvalidInstance(f"{path}: line {line}: expected {len(header)} fields, got {len(r)}")
    t = _parse_time([r[idx[0]] for r in rows], path, offset + 2)
    tok = []
    for col, i in zip(TRACE_COLUMNS[1:], idx[1:]):
        try:
            v = np.array([float(r[i]) for r in rows])
        except ValueError as exc:
            raise InvalidInstance(f"{path}: column {col}: expected non-negative integers ({exc})") from None
        badmask = (v < 0) | ~np.isfinite(v) | (v > limits.MAX_TOKENS) | (v != np.floor(v))
        if badmask.any():
            i = int(np.flatnonzero(badmask)[0])
            raise InvalidInstance(f"{path}: line {i + offset + 2}: column {col}: expected a whole token count in "
                                  f"0..{limits.MAX_TOKENS}, got {rows[i][idx[1 + TRACE_COLUMNS[1:].index(col)]]!r}")
        tok.append(v)
    if np.any(np.diff(t) < 0):
        bad = int(np.flatnonzero(np.diff(t) < 0)[0]) + offset + 3
        raise InvalidInstance(f"{path}: line {bad}: column TIMESTAMP: timestamps must be non-decreasing")
    original = stream_stats(t, tok[0], tok[1])
    scale = 1.0
    if rate is not None:
        if not rate > 0:
            raise UsageError(f"trace target rate must be > 0, got {rate}")
        if not original.get("rate_per_s"):
            raise UsageError(f"{path}: cannot rescale a trace of {len(rows)} request(s) with zero duration")
        scale = original["rate_per_s"] / rate
        t = t * scale
    source = {
        "kind": "trace",
        "path": str(path),
        "offset": int(offset),
        "first": None if first is None else int(first),
        "requests_in_file": total,
        "time_scale": scale,
        "trace_stats": original,
        **({"rescaled_rate_per_s": float(rate)} if rate is not None else {}),
    }
    return JobStream(t, tok[0], tok[1], source)
