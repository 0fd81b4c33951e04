"""Run a list of tasks on an executor into a result store (with resume and progress callbacks)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from chaincomp.batch.local import Outcome
from chaincomp.batch.store import ResultStore
from chaincomp.batch.tasks import Task


class Executor(Protocol):
    name: str
    running: int

    def run(self, payloads, on_start=None): ...  # -> Iterator[Outcome]


@dataclass
class BatchSummary:
    """What a batch did (the ``--json`` output of ``chaincomp batch``)."""

    out: str
    executor: str
    total: int
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    invalid: int = 0
    wall_time_s: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)
    dropped_partial_line: bool = False

    @property
    def ran(self) -> int:
        return self.ok + self.failed + self.invalid

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "executor": self.executor,
            "tasks": self.total,
            "skipped": self.skipped,
            "ran": self.ran,
            "ok": self.ok,
            "failed": self.failed,
            "invalid": self.invalid,
            "wall_time_s": self.wall_time_s,
            "dropped_partial_line": self.dropped_partial_line,
            "failures": self.failures,
        }


class Progress(Protocol):
    def start(self, total: int, skipped: int) -> None: ...
    def task_started(self, payload: dict[str, Any], running: int) -> None: ...
    def task_finished(self, outcome: Outcome, running: int) -> None: ...
    def stop(self) -> None: ...


MAX_LISTED_FAILURES = 50


def run_batch(
    tasks: Sequence[Task],
    store: ResultStore,
    executor: Executor,
    providers: Sequence[str] = (),
    retry_failed: bool = False,
    progress: Progress | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> BatchSummary:
    """Run every task not already in ``store`` (opened by the caller) on ``executor``.

    With ``store.mode == "resume"``, tasks whose id is already recorded are skipped — all of them, or
    only the successful ones with ``retry_failed`` (a failed task then gets a newer line; readers
    keep the last line per task id).
    """
    t0 = time.perf_counter()
    done = store.existing
    todo = []
    skipped = 0
    for t in tasks:
        prev = done.get(t.task_id)
        if prev is not None and (not retry_failed or prev.get("status") == "ok"):
            skipped += 1
        else:
            todo.append(t)
    summary = BatchSummary(str(store.path), executor.name, len(tasks), skipped=skipped, dropped_partial_line=store.dropped_partial)
    if progress is not None:
        progress.start(len(tasks), skipped)

    def started(payload: dict[str, Any]) -> None:
        if progress is not None:
            progress.task_started(payload, executor.running)

    try:
        for outcome in executor.run((t.payload(providers) for t in todo), on_start=started):
            store.append_line(outcome.line)
            if outcome.status == "ok":
                summary.ok += 1
            else:
                if outcome.status == "invalid":
                    summary.invalid += 1
                else:
                    summary.failed += 1
                if len(summary.failures) < MAX_LISTED_FAILURES:
                    err = {k: v for k, v in (outcome.error or {}).items() if k != "traceback"}
                    summary.failures.append({"task_id": outcome.task_id, "status": outcome.status, "error": err})
            if progress is not None:
                progress.task_finished(outcome, executor.running)
            if on_outcome is not None:
                on_outcome(outcome)
    finally:
        if progress is not None:
            progress.stop()
        summary.wall_time_s = time.perf_counter() - t0
    return summary
