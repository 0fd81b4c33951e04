"""Options, results and Ctrl-C handling shared by the solver backends.

Statuses (``SolveResult.status``):

- ``optimal``: solved to optimality within the requested relative gap (``mip_gap``; 0 ⇒ proved);
- ``time_limit``: stopped by the time limit (``objective`` holds the incumbent if one exists);
- ``interrupted``: stopped by Ctrl-C / SIGINT (incumbent kept);
- ``infeasible``: proved infeasible;
- ``no_solution``: stopped without any feasible solution (or another failure; see ``message``).

``gap`` is (|objective − bound|)/max(|objective|, 1e-9) for a min problem — None without incumbent.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

STATUSES = ("optimal", "time_limit", "interrupted", "infeasible", "no_solution")


@dataclass
class SolveOptions:
    """Common backend options. ``progress``: live incumbent/bound/gap/time on stderr (solves > 1 s)."""

    time_limit_s: float | None = None
    mip_gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    verbose: bool = False
    progress: bool = False
    label: str = "MILP"


@dataclass
class SolveResult:
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    wall_time_s: float
    nodes: int | None
    rows: int
    columns: int
    integers: int
    solver: str
    solver_version: str
    values: np.ndarray | None = None
    message: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.values is not None and self.objective is not None

    @property
    def proved_optimal(self) -> bool:
        return self.status == "optimal" and self.gap is not None and self.gap <= 1e-9

    def summary(self) -> dict:
        return {
            "name": self.solver,
            "version": self.solver_version,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "time_s": self.wall_time_s,
            "nodes": self.nodes,
            "rows": self.rows,
            "columns": self.columns,
            "integers": self.integers,
            "message": self.message,
        }


def no_solution_error(result: "SolveResult", what: str) -> Exception:
    """The error for a solve that ended without a solution: :class:`InfeasibleInstance` (exit 2) only
    when the solver proved the model infeasible; otherwise (time limit, interrupt, numerical trouble)
    :class:`NoDesignFound` (exit 3) — running out of budget is not a proof."""
    from chaincomp.errors import InfeasibleInstance, NoDesignFound

    detail = f"{result.status}: {result.message}" if result.message else result.status
    if result.status == "infeasible":
        return InfeasibleInstance(f"{what}: the solver proved the model infeasible ({detail})")
    return NoDesignFound(f"{what}: no solution within the budget ({detail}); not a proof that none exists — "
                         "give more time (--time-limit)")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not np.isfinite(objective) or not np.isfinite(bound):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


# -- Ctrl-C ---------------------------------------------------------------------------------------
def classify_status(optimal: bool, infeasible: bool, interrupted: bool, time_limit: bool, has_incumbent: bool) -> str:
    """Map a backend's termination to the common status (optimal / infeasible / interrupted /
    time_limit / no_solution); any other stop with an incumbent counts as ``time_limit``."""
    if optimal:
        return "optimal"
    if infeasible:
        return "infeasible"
    if interrupted:
        return "interrupted"
    if time_limit:
        return "time_limit"
    return "time_limit" if has_incumbent else "no_solution"


class _StopFlag:
    """Process-wide "stop requested" flag set by our SIGINT handler; solvers register cancel hooks."""

    def __init__(self) -> None:
        self.requested = False
        self.hooks: list[Callable[[], None]] = []
        self.depth = 0

    def request(self) -> None:
        self.requested = True
        for hook in list(self.hooks):
            try:
                hook()
            except Exception:  # pragma: no cover - a cancel hook must never raise into a signal handler
                pass


STOP = _StopFlag()


@contextmanager
def interruptible():
    """Install a SIGINT/SIGTERM handler that asks running solves to stop (instead of raising KeyboardInterrupt).

    Nested uses share one handler; the flag is reset when the outermost context exits. In a thread
    other than the main thread (where handlers cannot be installed) this is a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield STOP
        return
    outer = STOP.depth == 0
    previous = None
    if outer:
        STOP.requested = False
        previous = signal.getsignal(signal.SIGINT)
        previous_term = signal.getsignal(signal.SIGTERM)

        def handler(signum, frame):  # noqa: ARG001
            from chaincomp import interrupts

            if interrupts.installed():
                # the CLI counts every signal process-wide: a second one — here, or after the solve
                # has returned and the CLI's own handler is back — exits at once with one line
                interrupts.note_signal(signum)
            elif STOP.requested:  # a second Ctrl-C / SIGTERM while stopping: leave at once
                interrupts.exit_now(signum)
            STOP.request()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)  # SIGTERM behaves like Ctrl-C: the incumbent is kept
    STOP.depth += 1
    try:
        yield STOP
    finally:
        STOP.depth -= 1
        if outer:
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, previous_term)
            STOP.requested = False


@contextmanager
def cancel_hook(hook: Callable[[], None]):
    STOP.hooks.append(hook)
    try:
        yield
    finally:
        STOP.hooks.remove(hook)


# -- live progress --------------------------------------------------------------------------------
class ProgressDisplay:
    """Rich live line on stderr (incumbent, bound, gap, time), shown only once a solve passes 1 s."""

    def __init__(self, enabled: bool, label: str, sense: str = "min") -> None:
        self.enabled = enabled
        self.label = label
        self.start = time.perf_counter()
        self._live = None
        self.state = {"incumbent": None, "bound": None, "nodes": None}

    def update(self, incumbent=None, bound=None, nodes=None) -> None:
        if incumbent is not None and np.isfinite(incumbent) and abs(incumbent) < 1e29:
            self.state["incumbent"] = float(incumbent)
        if bound is not None and np.isfinite(bound) and abs(bound) < 1e29:
            self.state["bound"] = float(bound)
        if nodes is not None:
            self.state["nodes"] = int(nodes)
        self.refresh()

    def _text(self) -> str:
        s = self.state
        gap = relative_gap(s["incumbent"], s["bound"])
        fmt = lambda v: "—" if v is None else f"{v:.6g}"  # noqa: E731
        gap_s = "—" if gap is None else f"{100 * gap:.2f}%"
        nodes = "" if s["nodes"] is None else f"  nodes {s['nodes']}"
        return (
            f"[bold]{self.label}[/]  incumbent {fmt(s['incumbent'])}  bound {fmt(s['bound'])}  gap {gap_s}"
            f"  {time.perf_counter() - self.start:.1f} s{nodes}  (Ctrl-C stops and keeps the incumbent)"
        )

    def refresh(self) -> None:
        if not self.enabled:
            return
        if self._live is None:
            if time.perf_counter() - self.start < 1.0:
                return
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._text(), console=Console(stderr=True), refresh_per_second=4, transient=True)
            self._live.start()
        else:
            self._live.update(self._text())

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
