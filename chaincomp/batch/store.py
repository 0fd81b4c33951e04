"""The results store: an append-only JSONL file, one line per finished task.

Each line is written whole and flushed as soon as its task finishes (``write`` + ``flush``, one
``write`` call per line), so killing a batch loses only the tasks still running. A line cut short by a
kill (no trailing newline) is dropped when the file is reopened with ``resume``. While a batch runs
the file is locked (``fcntl.flock``) so two batches cannot interleave lines in the same file.

Every line starts with the store's marker ``"chaincomp_results": 1`` (:data:`MARKER_KEY`):
``--resume`` and ``--overwrite`` touch an existing non-empty file only when its first line carries
it, so a mistyped ``--out`` (or a manifest's ``out``) can never truncate or rewrite a file the store
did not write. The results file must be a regular file (a FIFO or directory is refused before it is
opened); folder and write errors become :class:`~chaincomp.errors.OutputError` messages.

Reading keeps the *last* record per task id (a ``--retry-failed`` rerun appends a newer line).

Determinism: two runs with the same tasks give the same records after :func:`comparable`, which drops
the fields that legitimately vary between runs (:data:`VOLATILE_KEYS`: timings, worker, timestamps,
Python/toolkit versions in provenance) at any depth.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from chaincomp.errors import OutputError, UsageError

#: key every record line starts with; its value is the store format version
MARKER_KEY = "chaincomp_results"
MARKER_VERSION = 1

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
        import stat as _stat

        from chaincomp.io.output import ensure_dir, output_error

        p = self.path
        try:
            st = os.stat(p)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise output_error(p, exc, "results file") from None
        if st is not None and not _stat.S_ISREG(st.st_mode):
            raise OutputError(f"results file {p}: is not a regular file (a directory, FIFO or device); give a .jsonl file name")
        size = st.st_size if st is not None else 0
        if size > 0 and self.mode == "new":
            raise UsageError(f"results file {p} already exists; pass --resume to continue it or --overwrite to start again")
        if size > 0 and not has_marker(p):
            raise UsageError(
                f"results file {p}: refusing to {self.mode} it: its first line does not carry the chaincomp results marker "
                f'("{MARKER_KEY}"), so it was not written by `chaincomp batch`; choose another --out')
        ensure_dir(p.parent, "results folder")
        try:
            fh = open(p, "w" if self.mode == "overwrite" else "a+", encoding="utf-8")
        except OSError as exc:
            raise output_error(p, exc, "results file") from None
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
    """One JSONL line; the store's marker comes first (:data:`MARKER_KEY`)."""
    return json.dumps({MARKER_KEY: MARKER_VERSION, **record}, allow_nan=False, separators=(",", ":"))


def has_marker(path: str | Path) -> bool:
    """True when the first line of ``path`` is a JSON object carrying :data:`MARKER_KEY`."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 20)
        rec = json.loads(first.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(rec, dict) and rec.get(MARKER_KEY) == MARKER_VERSION


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


def iter_records(path: str | Path, skipped: list[tuple[int, str]] | None = None) -> Iterator[dict[str, Any]]:
    """Every well-formed record of a results file, in file order.

    A line that is not UTF-8, not JSON, nested too deeply, not an object, or whose fields have the
    wrong types (:func:`check_record`) is skipped — never the end of the read — and, when
    ``skipped`` is given, appended to it as ``(line number, reason)``. The file must be a regular
    file (:func:`chaincomp.io.files.open_regular`; a FIFO is refused before it is opened).
    """
    from chaincomp.errors import InvalidInstance
    from chaincomp.io import files as io_files
    from chaincomp.io import limits

    try:
        fh = io_files.open_regular(path, "results file", max_bytes=limits.MAX_TRACE_BYTES)
    except InvalidInstance as exc:
        raise UsageError(str(exc)) from None
    with fh:
        for no, raw in enumerate(fh, start=1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if skipped is not None:
                    skipped.append((no, f"byte 0x{raw[exc.start]:02x} is not UTF-8"))
                continue
            try:
                rec = io_files.parse_json(line, f"line {no}")
            except InvalidInstance as exc:
                if skipped is not None:
                    skipped.append((no, str(exc).removeprefix(f"line {no}: ")))
                continue
            reason = check_record(rec)
            if reason is not None:
                if skipped is not None:
                    skipped.append((no, reason))
                continue
            yield rec


_STR_FIELDS = ("instance", "instance_name", "method", "config", "status", "error_type", "error_message", "worker")
#: the largest figure a results record may carry (far above any count, rate or time the toolkit writes;
#: a mean over 10⁶ records of such figures stays finite)
MAX_RECORD_NUMBER = 1e15


def check_record(rec: Any) -> str | None:
    """Why ``rec`` is not a usable results record (None when it is): an object with a string
    ``task_id``, string/None text fields, integer/None seed and numbers in [0, MAX_RECORD_NUMBER]
    (not bool) where the report computes with them."""
    if not isinstance(rec, dict):
        return f"expected a JSON object, got {type(rec).__name__}"
    if not isinstance(rec.get("task_id"), str):
        return "task_id: expected a string"
    for key in ("solution", "error", "params", "simulation"):
        if rec.get(key) is not None and not isinstance(rec[key], dict):
            return f"{key}: expected an object or null"
    sol = rec.get("solution") or {}
    for key in ("metrics", "solver", "parameters", "extra"):
        if sol.get(key) is not None and not isinstance(sol[key], dict):
            return f"solution.{key}: expected an object or null"
    try:
        row = flat_row(rec)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
        return f"malformed record ({exc})"
    for key in _STR_FIELDS:
        if row[key] is not None and not isinstance(row[key], str):
            return f"{key}: expected a string or null"
    if row["seed"] is not None and (isinstance(row["seed"], bool) or not isinstance(row["seed"], int)):
        return "seed: expected an integer or null"
    for key in (*METRIC_COLUMNS, "simulated_response_time_s", "objective_bound", "gap", "wall_time_s", "method_time_s"):
        v = row[key]
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"{key}: expected a finite number or null, got {v!r}"[:200]
        if not 0 <= v <= MAX_RECORD_NUMBER:  # every figure is a count, rate, time or gap: ≥ 0, and bounded so sums stay finite
            return f"{key}: expected a number in [0, {MAX_RECORD_NUMBER:g}] or null, got {v!r}"[:200]
    return None


def read_records(path: str | Path, latest: bool = True, skipped: list[tuple[int, str]] | None = None) -> list[dict[str, Any]]:
    """Records of a results file; with ``latest`` only the last one per task id (file order kept).
    Malformed lines are skipped (and listed in ``skipped`` when given)."""
    recs = list(iter_records(path, skipped))
    if not latest:
        return recs
    last: dict[str, dict[str, Any]] = {}
    for r in recs:
        last[r["task_id"]] = r
    return list(last.values())


def comparable(record: Any, _parent: str | None = None) -> Any:
    """The record without what varies between identical runs: the :data:`VOLATILE_KEYS` at any
    depth, the solver's ``time_s``, incumbent ``history`` and ``primal_integral_s``, every ``*_s`` timing in ``solver.phases``, and the store
    marker. Two runs of the same tasks (e.g. the same ``milp`` solves) then compare equal."""
    if isinstance(record, dict):
        out = {}
        for k, v in record.items():
            if k in VOLATILE_KEYS or k == MARKER_KEY:
                continue
            if _parent == "solver" and k in ("time_s", "history", "primal_integral_s"):  # wall-clock dependent
                continue
            if _parent == "phases" and isinstance(k, str) and k.endswith("_s"):
                continue
            out[k] = comparable(v, k)
        return out
    if isinstance(record, list):
        return [comparable(v, _parent) for v in record]
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
    from chaincomp.io.output import atomic_open

    path = Path(path)
    n = 0
    with atomic_open(path, "w", "CSV file", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        for rec in records:
            writer.writerow(flat_row(rec))
            n += 1
    return n
