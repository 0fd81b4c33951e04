"""The results store: an append-only JSONL file, one line per finished task.

Each line is written whole and flushed as soon as its task finishes (``write`` + ``flush``, one
``write`` call per line), so killing a batch loses only the tasks still running. A line cut short by a
kill (no trailing newline) is dropped when the file is reopened with ``resume``. While a batch runs
the file is locked (``fcntl.flock``) so two batches cannot interleave lines in the same file.

Reading keeps the *last* record per task id (a ``--retry-failed`` rerun appends a newer line).

Determinism: two runs with the same tasks give the same records after :func:`comparable`, which drops
the fields that legitimately vary between runs (:data:`VOLATILE_KEYS`: timings, worker, timestamps,
Python/toolkit versions in provenance) at any depth.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from chaincomp.errors import UsageError

#: keys removed (at any depth) by :func:`comparable`
VOLATILE_KEYS = frozenset(
    {
        "wall_time_s",
        "method_time_s",
        "method_cpu_time_s",
        "worker",
        "finished_at",
        "runtime_s",
        "solve_time_s",
        "elapsed_s",
        "python",
        "toolkit_version",
        "abandoned",
        "traceback",
    }
)


class ResultStore:
    """Append-only JSONL results. ``mode``: ``"new"`` (the file must not exist or be empty),
    ``"resume"`` (keep what is there, skip those tasks) or ``"overwrite"`` (start afresh)."""

    def __init__(self, path: str | Path, mode: str = "new") -> None:
        if mode not in ("new", "resume", "overwrite"):
            raise ValueError(f"unknown store mode {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self._fh = None
        self.existing: dict[str, dict[str, Any]] = {}
        self.dropped_partial = False

    # -- lifecycle ----------------------------------------------------------------------------
    def open(self) -> "ResultStore":
        p = self.path
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() and p.stat().st_size > 0 and self.mode == "new":
            raise UsageError(f"results file {p} already exists; pass --resume to continue it or --overwrite to start again")
        if self.mode == "overwrite":
            fh = open(p, "w", encoding="utf-8")
        else:
            fh = open(p, "a+", encoding="utf-8")
        self._lock(fh)
        if self.mode == "resume":
            self.dropped_partial = _drop_partial_tail(fh)
            self.existing = {r["task_id"]: r for r in read_records(p) if "task_id" in r}
        self._fh = fh
        return self

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "ResultStore":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _lock(fh) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise UsageError(f"results file {fh.name} is being written by another batch (locked)") from None

    # -- writing ------------------------------------------------------------------------------
    def append(self, record: dict[str, Any]) -> None:
        self.append_line(encode_record(record))

    def append_line(self, line: str) -> None:
        if self._fh is None:
            raise RuntimeError("store is not open")
        self._fh.write(line + "\n")
        self._fh.flush()


def encode_record(record: dict[str, Any]) -> str:
    return json.dumps(record, allow_nan=False, separators=(",", ":"))


def _drop_partial_tail(fh) -> bool:
    """Truncate an unterminated last line (a kill during a write). Returns True if one was dropped."""
    fh.flush()
    size = os.fstat(fh.fileno()).st_size
    if size == 0:
        return False
    with open(fh.name, "rb") as rb:
        rb.seek(size - 1)
        if rb.read(1) == b"\n":
            return False
        # find the last newline
        pos = size
        chunk = 1 << 16
        last_nl = -1
        while pos > 0 and last_nl < 0:
            start = max(0, pos - chunk)
            rb.seek(start)
            data = rb.read(pos - start)
            idx = data.rfind(b"\n")
            if idx >= 0:
                last_nl = start + idx
            pos = start
    os.truncate(fh.name, last_nl + 1)
    fh.seek(0, os.SEEK_END)
    return True


def iter_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Every well-formed line of a results file (malformed lines, e.g. a partial last line, are skipped)."""
    path = Path(path)
    try:
        fh = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"results file {path}: no such file") from None
    with fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                yield rec


def read_records(path: str | Path, latest: bool = True) -> list[dict[str, Any]]:
    """Records of a results file; with ``latest`` only the last one per task id (file order kept)."""
    recs = list(iter_records(path))
    if not latest:
        return recs
    last: dict[str, dict[str, Any]] = {}
    for r in recs:
        last[r.get("task_id", id(r))] = r
    return list(last.values())


def comparable(record: Any) -> Any:
    """The record without the keys that vary between identical runs (:data:`VOLATILE_KEYS`)."""
    if isinstance(record, dict):
        return {k: comparable(v) for k, v in record.items() if k not in VOLATILE_KEYS}
    if isinstance(record, list):
        return [comparable(v) for v in record]
    return record


# ---------------------------------------------------------------------------------------------
# flat rows (CSV export and reports)
# ---------------------------------------------------------------------------------------------
def _first(d: Any, *paths: tuple[str, ...]) -> Any:
    for path in paths:
        cur = d
        for key in path:
            if not isinstance(cur, dict) or key not in cur:
                cur = None
                break
            cur = cur[key]
        if cur is not None:
            return cur
    return None


def simulated_response_time(record: dict[str, Any]) -> float | None:
    """Mean simulated response time (s) if the record has one: from the batch's simulation step, or
    from a ``tune = sim`` run (the chosen c's simulated score)."""
    sim = record.get("simulation")
    val = _first(
        sim,
        ("mean_response_time_s",),
        ("response_time_s", "mean"),
        ("response_time", "mean"),
        ("metrics", "response_time_s", "mean"),
        ("metrics", "mean_response_time_s"),
    )
    if val is not None:
        return float(val)
    sol = record.get("solution") or {}
    val = _first(sol, ("metrics", "simulated_response_time_s"), ("metrics", "sim_mean_response_time_s"))
    if val is not None:
        return float(val)
    tuning = _first(sol, ("extra", "tuning"))
    c = _first(sol, ("parameters", "cache_reservation"))
    if isinstance(tuning, dict) and tuning.get("score") == "sim":
        for row in tuning.get("candidates") or []:
            if row.get("cache_reservation") == c and row.get("score_sim") is not None:
                return float(row["score_sim"])
    return None


#: the Solution's ``metrics`` keys copied into each CSV row
METRIC_COLUMNS = (
    "job_servers",
    "total_capacity",
    "num_chains",
    "service_rate",
    "required_rate",
    "load",
    "response_time_lower_s",
    "response_time_upper_s",
    "surrogate_response_time_s",
)

CSV_COLUMNS = (
    "task_id",
    "instance",
    "instance_name",
    "method",
    "config",
    "seed",
    "params",
    "status",
    "error_type",
    "error_message",
    *METRIC_COLUMNS,
    "simulated_response_time_s",
    "cache_reservation",
    "objective_bound",
    "gap",
    "wall_time_s",
    "method_time_s",
    "worker",
)


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    """One record as a flat dict of :data:`CSV_COLUMNS`."""
    sol = record.get("solution") or {}
    metrics = sol.get("metrics") or {}
    solver = sol.get("solver") or {}
    err = record.get("error") or {}
    row = {
        "task_id": record.get("task_id"),
        "instance": record.get("instance"),
        "instance_name": record.get("instance_name"),
        "method": record.get("method"),
        "config": record.get("config"),
        "seed": record.get("seed"),
        "params": json.dumps(record.get("params") or {}, sort_keys=True),
        "status": record.get("status"),
        "error_type": err.get("type"),
        "error_message": err.get("message"),
        "simulated_response_time_s": simulated_response_time(record),
        "cache_reservation": _first(sol, ("parameters", "cache_reservation")),
        "objective_bound": _first(solver, ("bound",), ("objective_bound",), ("lower_bound",), ("dual_bound",)),
        "gap": _first(solver, ("gap",), ("mip_gap",), ("relative_gap",)),
        "wall_time_s": record.get("wall_time_s"),
        "method_time_s": record.get("method_time_s"),
        "worker": record.get("worker"),
    }
    for key in METRIC_COLUMNS:
        row[key] = metrics.get(key)
    return {k: row.get(k) for k in CSV_COLUMNS}


def export_csv(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write one CSV row per record; returns the number of rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        for rec in records:
            writer.writerow(flat_row(rec))
            n += 1
    return n
