"""Signals for the command line (docs/reliability.md, "Signals").

* SIGTERM is treated like SIGINT (Ctrl-C): the first one raises ``KeyboardInterrupt`` in the main
  thread — or, inside :func:`chaincomp.solvers.base.interruptible`, asks the running solve to stop
  so its incumbent is written with status ``interrupted``;
* a second SIGINT/SIGTERM while the first is being handled exits at once (exit code 130 for SIGINT,
  143 for SIGTERM) with one line on stderr — :func:`exit_now`;
* the simulator's numba kernel checks a stop flag between chunks of 4096 events
  (:func:`chaincomp.sim.kernel.run_kernel`), so it stops within milliseconds.
"""

from __future__ import annotations

import os
import signal
import threading

#: how many interrupt signals this process has received (0 = none)
_count = 0
#: the CLI's handlers are installed (:func:`install`): signals are counted process-wide
_installed = False


def exit_code(signum: int) -> int:
    return 128 + int(signum)


def exit_now(signum: int = signal.SIGINT) -> None:
    """Leave immediately (no cleanup, no traceback) with one line on stderr."""
    try:
        os.write(2, b"chaincomp: interrupted again, exiting now\n")
    finally:
        os._exit(exit_code(signum))


def note_signal(signum: int) -> int:
    """Count an interrupt signal; the second one exits at once. Returns the count."""
    global _count
    _count += 1
    if _count > 1:
        exit_now(signum)
    return _count


def _handler(signum, frame):  # noqa: ARG001
    note_signal(signum)
    raise KeyboardInterrupt


def install() -> None:
    """Install the CLI's SIGINT/SIGTERM handlers (main thread only; a no-op elsewhere)."""
    global _installed
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, _handler)
        except (OSError, ValueError):  # pragma: no cover - e.g. an embedded interpreter
            pass
    _installed = True


def installed() -> bool:
    """Are the CLI's handlers installed (so that every interrupt signal counts, see :func:`note_signal`)?"""
    return _installed


def reset() -> None:
    """Forget earlier signals (tests)."""
    global _count
    _count = 0


def _quiet(signum, frame):  # noqa: ARG001
    os._exit(exit_code(signum))


def quiet_exit() -> None:
    """After the command has finished: a signal during shutdown exits at once, with no output."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, _quiet)
        except (OSError, ValueError):  # pragma: no cover
            pass


def call_interruptibly(fn, *args, **kwargs):
    """Run ``fn`` in a helper thread while the main thread waits in 50 ms steps.

    Long single numpy calls (drawing or sorting tens of millions of numbers) do not return to the
    interpreter, so a signal handler in the thread running them waits for them; here the main
    thread stays free, the handler runs at once and the ``KeyboardInterrupt`` is raised in the main
    thread (the CLI then prints one line and exits without waiting for the helper thread, which dies
    with the process). Used by ``chaincomp simulate``; results are the same as calling ``fn``.
    """
    if threading.current_thread() is not threading.main_thread():
        return fn(*args, **kwargs)
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="chaincomp-work", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
    if "error" in box:
        raise box["error"]
    return box["result"]
