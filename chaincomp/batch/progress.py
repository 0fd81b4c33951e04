"""Rich progress display for batches: done / failed / running counts, a bar, elapsed time and ETA."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class RichBatchProgress:
    """Implements :class:`chaincomp.batch.runner.Progress` on a rich console (stderr by default)."""

    def __init__(self, console: Console | None = None, description: str = "batch") -> None:
        self.console = console or Console(stderr=True)
        self.description = description
        self._progress: Progress | None = None
        self._task = None
        self.failed = 0
        self.ok = 0

    def start(self, total: int, skipped: int) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]ok {task.fields[ok]}[/] [red]failed {task.fields[failed]}[/] [cyan]running {task.fields[running]}[/]"),
            TextColumn("{task.fields[skipped_text]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            self.description,
            total=total - skipped,
            ok=0,
            failed=0,
            running=0,
            skipped_text=f"(skipped {skipped} done)" if skipped else "",
        )

    def task_started(self, payload: dict[str, Any], running: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, running=running)

    def task_finished(self, outcome, running: int) -> None:
        if outcome.status == "ok":
            self.ok += 1
        else:
            self.failed += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1, ok=self.ok, failed=self.failed, running=running)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
