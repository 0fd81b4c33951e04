"""Reading and checking a measurements CSV for :mod:`chaincomp.calibrate` (format: docs/calibrate.md).

One row per (job, server hop): which server served it and/or its GPU type, how many blocks it
processed for the job, the job's input and output tokens, and the time the job spent in that
server's blocks (``compute_s``, all tokens) and in round trips to it (``comm_s``, all tokens).
``server`` or ``gpu`` (or both) must be present; ``comm_s`` is optional (without it, or without
``server``, no communication fit is made).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chaincomp.errors import InvalidInstance
from chaincomp.io import limits

NUMERIC = ("blocks", "input_tokens", "output_tokens", "compute_s", "comm_s")
REQUIRED = ("blocks", "input_tokens", "output_tokens", "compute_s")
OPTIONAL = ("server", "gpu", "comm_s")
ALL = ("server", "gpu") + NUMERIC


@dataclass(frozen=True)
class Measurements:
    """Columns of the CSV (one entry per row); ``gpu`` is None where the file gives none."""

    path: str
    server: list[str] | None      # None: the file has no server column
    gpu: list[str | None]
    blocks: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    compute_s: np.ndarray
    comm_s: np.ndarray | None     # None: the file has no comm_s column
    lines: list[int]  # file line of each row (for messages)

    def __len__(self) -> int:
        return len(self.lines)


def _number(path, line, col, text, *, integer=False, minimum=0.0, strict=False, maximum=math.inf) -> float:
    t = (text or "").strip()
    try:
        v = float(t)
    except ValueError:
        raise InvalidInstance(f"{path}: line {line}, column {col}: expected a number, got {t!r}") from None
    if not math.isfinite(v):
        raise InvalidInstance(f"{path}: line {line}, column {col}: expected a finite number, got {t!r}")
    if integer and not v.is_integer():
        raise InvalidInstance(f"{path}: line {line}, column {col}: expected an integer, got {t!r}")
    if (v <= minimum) if strict else (v < minimum):
        op = ">" if strict else "≥"
        raise InvalidInstance(f"{path}: line {line}, column {col}: expected a number {op} {minimum:g}, got {t!r}")
    if v > maximum:
        raise InvalidInstance(f"{path}: line {line}, column {col}: {t} exceeds the limit of {maximum:g} (docs/reliability.md, Limits)")
    return v


def read_measurements(path: str | Path) -> Measurements:
    """Parse and check the CSV; every problem raises :class:`InvalidInstance` naming line and column."""
    path = Path(path)
    from chaincomp.io.files import open_text

    try:  # a regular UTF-8 file within the size cap (a FIFO or a directory is refused by name)
        with open_text(path, "measurements CSV file", limits.MAX_TRACE_BYTES, newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInstance(f"{path}: not a readable CSV file ({exc})") from None
    expected = "server,gpu,blocks,input_tokens,output_tokens,compute_s,comm_s (server or gpu required; comm_s optional)"
    if not rows:
        raise InvalidInstance(f"{path}: empty file; expected a header {expected}")
    header = [h.strip().lower() for h in rows[0]]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InvalidInstance(f"{path}: header {','.join(rows[0])} names column(s) {', '.join(twice)} twice; which one is meant? keep one")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInstance(f"{path}: header {','.join(rows[0])} lacks column(s) {', '.join(missing)}; expected {expected}")
    if "server" not in header and "gpu" not in header:
        raise InvalidInstance(f"{path}: header {','.join(rows[0])} has neither a server nor a gpu column; expected {expected}")
    unknown = [h for h in header if h not in ALL]
    if unknown:
        raise InvalidInstance(f"{path}: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(ALL)}")
    col = {c: header.index(c) for c in header}
    server, gpu, lines = [], [], []
    numeric = [c for c in NUMERIC if c in col]
    nums: dict[str, list[float]] = {c: [] for c in numeric}
    time_cap = dict(maximum=limits.MAX_TIME_S)
    rules = {"blocks": dict(integer=True, minimum=1, maximum=limits.MAX_BLOCKS),
             "input_tokens": dict(maximum=limits.MAX_TOKENS), "output_tokens": dict(minimum=1, maximum=limits.MAX_TOKENS),
             "compute_s": time_cap, "comm_s": time_cap}
    for i, row in enumerate(rows[1:], start=2):
        if not row or not any(x.strip() for x in row):
            continue
        if len(row) != len(header):
            raise InvalidInstance(f"{path}: line {i}: {len(row)} fields, the header has {len(header)}")
        if "server" in col:
            sid = row[col["server"]].strip()
            if not sid:
                raise InvalidInstance(f"{path}: line {i}, column server: empty server id")
            server.append(sid)
        g = row[col["gpu"]].strip() if "gpu" in col else ""
        if "server" not in col and not g:
            raise InvalidInstance(f"{path}: line {i}, column gpu: empty GPU type (the file has no server column)")
        gpu.append(g or None)
        for c in numeric:
            nums[c].append(_number(path, i, c, row[col[c]], **rules.get(c, {})))
        lines.append(i)
    if not lines:
        raise InvalidInstance(f"{path}: no data rows after the header")
    arr = {c: np.array(v, dtype=float) for c, v in nums.items()}
    return Measurements(str(path), server if "server" in col else None, gpu, arr["blocks"], arr["input_tokens"],
                        arr["output_tokens"], arr["compute_s"], arr.get("comm_s"), lines)
