"""The ``chaincomp`` command. Each verb lives in its own module under ``chaincomp/cli`` and
registers itself on :data:`app`; this module only assembles them and maps library errors to
one-paragraph messages with exit code 2 (bad input) or 1 (failure) — never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from chaincomp.errors import ChaincompError

app = typer.Typer(
    name="chaincomp",
    help="Block placement, cache allocation, dispatch and response-time prediction for "
    "pipeline-parallel model serving over memory-limited GPU servers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)

#: command modules, in help order; each defines its commands on ``app``
COMMAND_MODULES = (
    "solve",
    "verify",
    "simulate",
    "experiment",
    "batch",
    "report",
    "generate",
    "examples",
    "schema",
    "calibrate",
)

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"chaincomp.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command module not written yet
        if _exc.name != f"chaincomp.cli.{_name}":
            raise


def fail(exc: ChaincompError) -> None:
    """Print a library error as one paragraph and exit with its code."""
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise SystemExit(exc.exit_code)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ChaincompError as exc:
        fail(exc)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
