"""The ``chaincomp`` command. Each verb lives in its own module under ``chaincomp/cli`` and
registers itself on :data:`app`; this module only assembles them and maps library errors to
one-paragraph messages with exit code 2 (bad input) or 1 (failure) — never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from chaincomp import __version__
from chaincomp.cli import options
from chaincomp.errors import ChaincompError

app = typer.Typer(
    name="chaincomp",
    help="Block placement, cache allocation, dispatch and response-time prediction for "
    "pipeline-parallel model serving over memory-limited GPU servers.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"chaincomp {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Debug log messages on stderr.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr: no progress bars, notes (wrote FILE) or warnings.")] = False,
) -> None:
    """Block placement, cache allocation, dispatch and response-time prediction for pipeline-parallel
    model serving over memory-limited GPU servers.

    Global options go before the verb: `chaincomp -q batch …`, `chaincomp -v solve …`.
    """
    try:
        options.configure_logging(verbose, quiet)
    except ChaincompError as exc:
        fail(exc)

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
    "recompose", "whatif", "events",
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
