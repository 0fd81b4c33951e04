"""The local executor: a pool of worker processes, one task at a time each, supervised by the parent.

Why not :class:`concurrent.futures.ProcessPoolExecutor`: it cannot stop one running task — killing
a worker breaks the whole pool. Here every worker is a :mod:`multiprocessing` process with its own
pipe; the parent waits on all pipes and process sentinels at once
(:func:`multiprocessing.connection.wait`) with the nearest task deadline as timeout, and:

- a task past its hard time limit → its worker is killed (SIGKILL), the task recorded as failed
  (``TimeoutError``) and a fresh worker started;
- a worker that dies (segfault, ``os._exit``, the kernel's OOM killer) → the task is recorded as
  failed (``WorkerCrashed`` with the exit code / signal) and a fresh worker started;
- ``memory_limit_gb`` sets ``RLIMIT_AS`` in each worker, so an allocation beyond it raises
  :class:`MemoryError` inside the task (recorded as failed) instead of taking the machine down.
  Python + numpy + numba already map ~1–2 GB of address space: use limits of a few GB.

Each worker runs one task at a time, so BLAS/OpenMP/numba thread pools are limited to one thread
(``OMP_NUM_THREADS`` etc. set to 1 unless already set in the environment). Workers are forked from
a ``forkserver`` that has preloaded the toolkit (cheap restarts, and safe
although the parent runs a progress-bar thread); ``spawn`` where forkserver does not exist. A worker
exits by itself when the parent disappears (its pipe reaches EOF), so killing a batch leaves no
orphans. Each worker writes its record as one JSON line; the parent only appends it to the store.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable, Iterator

from chaincomp.batch.store import encode_record
from chaincomp.errors import UsageError

#: thread pools limited to one thread per worker (one task per core), unless the user set them
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

PRELOAD = ["chaincomp.batch.worker", "chaincomp.batch.store", "chaincomp.core.verify", "chaincomp.batch._warmup"]


@dataclass
class Outcome:
    """A finished task as executors report it: the id, status, error and the JSON line to store."""

    task_id: str
    status: str
    error: dict[str, Any] | None
    line: str


def _worker_main(conn, memory_limit_bytes: int | None) -> None:  # pragma: no cover - runs in a child
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    if memory_limit_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    from chaincomp.batch.worker import execute_task

    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            return
        if payload is None:
            return
        rec = execute_task(payload)
        try:
            line = encode_record(rec)
        except (TypeError, ValueError) as exc:  # a method put something non-JSON in its solution
            rec.update(status="failed", solution=None, error={"type": type(exc).__name__, "message": f"result not JSON-serializable: {exc}"})
            line = encode_record(rec)
        try:
            conn.send((rec["task_id"], rec["status"], rec["error"], line))
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(self, ctx, memory_limit_bytes: int | None) -> None:
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child_conn, memory_limit_bytes), daemon=True, name="chaincomp-batch-worker")
        added = [k for k in THREAD_ENV if k not in os.environ]
        for k in added:  # inherited by the forkserver / a spawned worker when it starts
            os.environ[k] = "1"
        try:
            self.proc.start()
        finally:
            for k in added:
                os.environ.pop(k, None)
        child_conn.close()
        self.conn = parent_conn
        self.payload: dict[str, Any] | None = None
        self.deadline: float | None = None
        self.started = 0.0

    def assign(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.started = time.monotonic()
        t = payload.get("timeout_s")
        self.deadline = self.started + t if t else None
        self.conn.send(payload)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        self.proc.join(timeout=0 if kill else 2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


def _failure_line(payload: dict[str, Any], error: dict[str, Any], started: float, pid: int | None) -> Outcome:
    from chaincomp.batch.worker import base_record, finish

    rec = base_record(payload)
    rec["error"] = error
    finish(rec, time.perf_counter() - (time.monotonic() - started))
    rec["worker"] = f"{rec['worker'].rsplit(':', 1)[0]}:{pid}"
    return Outcome(rec["task_id"], rec["status"], error, encode_record(rec))


def _crash_error(exitcode: int | None) -> dict[str, Any]:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (killed by SIGKILL: possibly the kernel's out-of-memory killer)" if exitcode == -signal.SIGKILL else ""
        msg = f"worker process died from {name} while running the task{hint}"
    else:
        msg = f"worker process exited with code {exitcode} while running the task"
    return {"type": "WorkerCrashed", "message": msg}


class LocalPool:
    """Run task payloads on ``jobs`` local worker processes (default: the number of cores)."""

    name = "local"

    def __init__(self, jobs: int | None = None, memory_limit_gb: float | None = None, start_method: str | None = None) -> None:
        self.jobs = max(1, int(jobs or os.cpu_count() or 1))
        if memory_limit_gb is not None:
            if memory_limit_gb <= 0:
                raise UsageError(f"--memory-limit-gb must be > 0, got {memory_limit_gb}")
            try:
                import resource  # noqa: F401 - POSIX only
            except ImportError:
                raise UsageError("--memory-limit-gb needs a POSIX system (RLIMIT_AS)") from None
        self.memory_limit_bytes = int(memory_limit_gb * 1e9) if memory_limit_gb else None
        methods = mp.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self.running: int = 0

    def run(self, payloads: Iterable[dict[str, Any]], on_start: Callable[[dict[str, Any]], None] | None = None) -> Iterator[Outcome]:
        """Yield an :class:`Outcome` per payload as tasks finish (completion order)."""
        queue = deque(payloads)
        if not queue:
            return
        ctx = mp.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)
        n = min(self.jobs, len(queue))
        workers = [_Worker(ctx, self.memory_limit_bytes) for _ in range(n)]
        try:
            yield from self._loop(ctx, workers, queue, on_start)
        finally:
            for w in workers:
                w.stop(kill=w.payload is not None)
            self.running = 0

    def _loop(self, ctx, workers: list[_Worker], queue: deque, on_start) -> Iterator[Outcome]:
        while True:
            for w in workers:
                if w.payload is None and queue:
                    payload = queue.popleft()
                    try:
                        w.assign(payload)
                    except (BrokenPipeError, OSError):  # the idle worker died: replace, retry once
                        self._replace(ctx, workers, w)
                        workers[-1].assign(payload)
                    if on_start is not None:
                        on_start(payload)
            busy = [w for w in workers if w.payload is not None]
            self.running = len(busy)
            if not busy:
                return
            now = time.monotonic()
            deadlines = [w.deadline for w in busy if w.deadline is not None]
            timeout = max(0.0, min(deadlines) - now) if deadlines else None
            objs = {}
            for w in busy:
                objs[w.conn] = w
                objs[w.proc.sentinel] = w
            ready = wait(list(objs), timeout=timeout)
            handled: set[int] = set()
            for obj in ready:
                w = objs[obj]
                if id(w) in handled or w.payload is None:
                    continue
                handled.add(id(w))
                outcome = None
                try:
                    if w.conn.poll():
                        task_id, status, error, line = w.conn.recv()
                        outcome = Outcome(task_id, status, error, line)
                except (EOFError, OSError):
                    outcome = None
                if outcome is not None:
                    w.payload, w.deadline = None, None
                    yield outcome
                    continue
                # no result on the pipe: the worker died (EOF and/or its sentinel fired)
                w.proc.join(timeout=1)
                payload, started, pid = w.payload, w.started, w.proc.pid
                code = w.proc.exitcode
                self._replace(ctx, workers, w)
                yield _failure_line(payload, _crash_error(code), started, pid)
            now = time.monotonic()
            for w in list(workers):
                if w.payload is not None and w.deadline is not None and now >= w.deadline:
                    payload, started, pid = w.payload, w.started, w.proc.pid
                    from chaincomp.batch.worker import timeout_error

                    self._replace(ctx, workers, w, kill=True)
                    yield _failure_line(payload, timeout_error(payload["timeout_s"]), started, pid)

    def _replace(self, ctx, workers: list[_Worker], w: _Worker, kill: bool = True) -> None:
        w.payload = None
        w.stop(kill=kill)
        workers.remove(w)
        workers.append(_Worker(ctx, self.memory_limit_bytes))
