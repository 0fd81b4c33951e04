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

    Global options: `chaincomp -q batch …`, `chaincomp -v solve …` (or after the verb: `chaincomp solve … -q`).
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
    """Print a library error and exit with its code. A message listing several faults keeps its line
    breaks; every other control character is escaped (:func:`chaincomp.io.text.escape`)."""
    from chaincomp.io.text import escape

    text = "\n".join(escape(line) for line in str(exc).split("\n"))
    err_console.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True)
    raise SystemExit(exc.exit_code)


def _interrupted() -> None:
    """One line, then leave at once: cleanups (store, pool, temporary files) already ran while the
    KeyboardInterrupt unwound; skipping interpreter teardown (freeing large simulation arrays,
    numba/dask shutdown hooks) keeps the exit within milliseconds."""
    import os

    err_console.print("interrupted", highlight=False)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe must not turn into a traceback
            pass
    if os.environ.get("CHAINCOMP_NO_FAST_EXIT"):
        raise SystemExit(130)
    os._exit(130)


#: global flags accepted after the verb as well (no verb defines -v/-q or --verbose/--quiet itself)
_GLOBAL_FLAGS = frozenset({"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet"})


def hoist_global_flags(args: list[str]) -> list[str]:
    """``chaincomp solve … -q`` → ``chaincomp -q solve …``: the logging flags may follow the verb
    (click only reads a group's options before it). Tokens after ``--`` are left alone."""
    head, rest = [], []
    for i, tok in enumerate(args):
        if tok == "--":
            rest.extend(args[i:])
            break
        (head if tok in _GLOBAL_FLAGS else rest).append(tok)
    return head + rest


def _hint_instance_option(exc) -> None:
    """A bare file given to a verb that reads instances with ``--instance``: say so in the message.

    ``chaincomp solve instance.json`` is what many users type first; click only says "unexpected extra
    argument", which does not name the option that takes the file. (``simulate`` also has
    ``--instance``; its positional argument is a design, so only a second file gets the hint.)
    """
    ctx = getattr(exc, "ctx", None)
    message = getattr(exc, "message", "")
    if ctx is None or not message.startswith("Got unexpected extra argument"):
        return
    if any("--instance" in getattr(param, "opts", ()) for param in ctx.command.params):
        exc.message = f"{message}. An instance file is given as --instance FILE (-i FILE)."


def main(argv: list[str] | None = None) -> None:
    """Run the app; map every way it can end to an exit code and at most one paragraph.

    0 ok · 1 failure (including an internal error, printed as one line; ``CHAINCOMP_DEBUG=1`` shows
    its traceback) · 2 bad input or usage · 130 interrupted (SIGINT or SIGTERM).
    """
    import os

    from typer import Abort
    from typer._click import ClickException  # typer vendors click: its exception classes

    from chaincomp import interrupts

    interrupts.install()
    try:
        try:
            args = hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
            rc = app(args=args, standalone_mode=False, prog_name="chaincomp")
        finally:
            interrupts.quiet_exit()  # a signal from here on ends the process at once, silently
    except ChaincompError as exc:
        fail(exc)
    except Abort:
        _interrupted()
    except ClickException as exc:  # option/argument errors: typer's own formatting, exit 2
        _hint_instance_option(exc)
        try:
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
        except Exception:  # noqa: BLE001 - fall back to click's plain text
            exc.show()
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        _interrupted()
    except RecursionError:
        err_console.print("[bold red]error:[/] input nested too deeply to process (see docs/reliability.md, Limits)", highlight=False)
        raise SystemExit(2) from None
    except MemoryError:
        err_console.print("[bold red]error:[/] out of memory; the input is too large for this machine (see docs/reliability.md, Limits)", highlight=False)
        raise SystemExit(1) from None
    except BrokenPipeError:
        raise SystemExit(1) from None
    except Exception as exc:  # noqa: BLE001 - last resort: a bug, said as one line, never a traceback
        if os.environ.get("CHAINCOMP_DEBUG"):
            raise
        from chaincomp.io.text import escape

        err_console.print(
            f"[bold red]internal error[/] (a bug in chaincomp, please report it with the command; "
            f"CHAINCOMP_DEBUG=1 shows the traceback): {type(exc).__name__}: {escape(exc)}",
            highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
    if rc == 130:
        _interrupted()
    raise SystemExit(rc if isinstance(rc, int) else 0)
