"""One definition per CLI option name, reused by every verb (issue 13, CLI conventions).

Each name has ONE meaning across the whole ``chaincomp`` command:

=======================  ======================================================================
``--out/-o``             where the verb writes its output (a file; a directory for verbs that
                         write several files — ``experiment``, ``generate``)
``--json``               machine-readable result on stdout instead of tables
``--workers/-w``         worker PROCESSES (``batch``)
``--jobs/-n``            SIMULATED jobs (``simulate``: per replication; ``experiment``: per run);
                         ``-n`` is "how many" everywhere (``generate -n`` = ``--count``)
``--seed``               seed of every random choice (same seed → same bytes)
``--cache-reservation``  the cache reservation c (``-c``; ``--c`` is accepted as an alias)
``--verbose/--quiet``    global (before the verb, ``-v``/``-q``): level of the ``chaincomp`` logger
=======================  ======================================================================

A new verb imports what it needs::

    from chaincomp.cli import options as opt

    @app.command()
    def whatif(..., out: opt.OutOpt = None, as_json: opt.JsonOpt = False, seed: opt.SeedOpt = 0): ...

or, for a verb-specific help text with the same names, ``jobs: opt.jobs("Jobs per window.") = None``;
and parses c with :func:`parse_cache_reservation`, reports with :func:`note`/``log``. Renamed spellings raise a :class:`UsageError`
that names the new option (:func:`renamed`), never a silent reinterpretation.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from chaincomp.errors import UsageError

#: the package logger; ``--verbose``/``--quiet`` set its level (see :func:`configure_logging`)
log = logging.getLogger("chaincomp")


def out(help: str = "Also write the result JSON to this file.") -> Any:
    """``--out/-o FILE`` (or a directory, for verbs writing several files; say so in ``help``)."""
    return Annotated[Optional[Path], typer.Option("--out", "-o", help=help)]


def jobs(help: str = "Simulated jobs (requests) per run.") -> Any:
    """``--jobs/-n N``: simulated jobs, never processes."""
    return Annotated[Optional[int], typer.Option("--jobs", "-n", help=help)]


def workers(help: str = "Worker processes (default: number of cores).") -> Any:
    """``--workers/-w N``: worker processes, never jobs."""
    return Annotated[Optional[int], typer.Option("--workers", "-w", help=help)]


def seed(help: str = "Seed for every random choice (same seed → the same results; only timings vary).") -> Any:
    return Annotated[int, typer.Option("--seed", help=help)]


def cache_reservation(help: str = "Cache reservation c: an integer ≥ 1, or 'auto' to tune it.") -> Any:
    """``--cache-reservation/-c C`` (alias ``--c``); parse the value with :func:`parse_cache_reservation`."""
    return Annotated[Optional[str], typer.Option("--cache-reservation", "-c", "--c", metavar="C", help=help)]


def complete_examples(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of ``--example NAME``: the embedded examples and their descriptions."""
    from chaincomp.instances.examples import list_examples

    return [(n, d[:60]) for n, d in list_examples() if n.startswith(incomplete)]


def complete_methods(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of ``--method NAME``: the registered methods."""
    from chaincomp import methods

    return [(n, i.summary[:60]) for n, i in methods.available().items() if n.startswith(incomplete)]


def complete_schemas(incomplete: str) -> list[tuple[str, str]]:
    from chaincomp import schemas

    return [(n, d[:60]) for n, d in schemas.names().items() if n.startswith(incomplete)]


#: the common spellings with their default help texts
OutOpt = out()
OutDirOpt = out("Directory for the output files.")
JsonOpt = Annotated[bool, typer.Option("--json", help="Write the result JSON to stdout instead of tables.")]
WorkersOpt = workers()
JobsOpt = jobs()
SeedOpt = seed()
CacheReservationOpt = cache_reservation()


def parse_cache_reservation(value: str | int | None, option: str = "--cache-reservation") -> int | None:
    """``'auto'``/None → None (tune); an integer ≥ 1 → that int; anything else → UsageError."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        c = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{option} must be 'auto' or an integer ≥ 1, got {value!r}") from None
    if c < 1:
        raise UsageError(f"{option} must be 'auto' or an integer ≥ 1, got {c}")
    return c


def renamed(verb: str, old: str, new: str, meaning: str, now: str) -> UsageError:
    """The error for an option spelling whose meaning moved (kept only to explain the rename)."""
    return UsageError(f"`chaincomp {verb} {old}` was renamed {new} ({meaning}): {old} now means {now} in every verb "
                      f"that has it (README, section CLI conventions)")


def refuse_unused(options: dict[str, Any], why: str) -> None:
    """Refuse the options of ``{flag: value}`` that were given (not None) where they do nothing:
    ``"FLAG, FLAG: WHY"`` — an option is never accepted and then ignored."""
    given = [flag for flag, value in options.items() if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: {why}")


def configure_logging(verbose: int = 0, quiet: bool = False) -> int:
    """Level of the ``chaincomp`` logger: INFO by default (notes such as "wrote FILE", warnings),
    DEBUG with ``-v``, ERROR with ``-q`` (also hides progress bars).

    Messages go to stderr, so stdout stays clean for ``--json`` and pipes. Returns the level set.
    """
    if quiet and verbose:
        raise UsageError("--quiet and --verbose exclude each other")
    level = logging.ERROR if quiet else logging.DEBUG if verbose >= 1 else logging.INFO
    log.setLevel(level)
    if not any(getattr(h, "_chaincomp", False) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_Formatter())
        handler._chaincomp = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.propagate = False
    return level


class _Formatter(logging.Formatter):
    """INFO lines as plain notes; other levels prefixed (``warning: …``)."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        return msg if record.levelno == logging.INFO else f"{record.levelname.lower()}: {msg}"


class _StderrHandler(logging.StreamHandler):
    """Writes to the *current* ``sys.stderr`` (test runners swap it after the handler exists)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def show_progress() -> bool:
    """Progress bars are INFO-level chatter: off with ``--quiet``."""
    return log.getEffectiveLevel() <= logging.INFO


def note(msg: str, *args: Any) -> None:
    """A note for people ("wrote FILE"): INFO on stderr, hidden by ``--quiet``."""
    log.info(msg, *args)
