"""``chaincomp verify``: re-check a Solution JSON from first principles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chaincomp.cli import common
from chaincomp.cli.app import app
from chaincomp.io.text import escape
from chaincomp.core.solution import Solution
from chaincomp.core.verify import verify_solution


@app.command()
def verify(
    solution_file: Annotated[Path, typer.Argument(help="Solution JSON written by `chaincomp solve --out` or `--json`.")],
    as_json: common.JsonOpt = False,
) -> None:
    """Check ranges, the chain rule, per-server memory, every T_k, ν and the objective.

    Exit code 0 when valid, 1 when any violation is found (each is listed).
    """
    solution = Solution.load(solution_file)
    errors = verify_solution(solution)
    if as_json:
        common.emit_json({"file": str(solution_file), "valid": not errors, "violations": errors}, True, None)
    elif errors:
        common.console.print(f"[bold red]{escape(str(solution_file))}: {len(errors)} violation(s)[/]")
        for e in errors:
            common.console.print(f"  - {escape(e)}", highlight=False)
    else:
        m = solution.metrics
        common.console.print(
            f"[green]{escape(str(solution_file))}: valid[/] — {len(solution.allocation.chains)} chains, "
            f"Σc = {m.get('total_capacity')}, ν = {m.get('service_rate')}, job servers = {m.get('job_servers')}"
        )
    raise typer.Exit(1 if errors else 0)
