"""``chaincomp verify``: re-check a Solution JSON from first principles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app
from chaincomp.io.text import escape
from chaincomp.core.solution import Solution
from chaincomp.core.verify import verify_data


@app.command()
def verify(
    solution_file: Annotated[Path, typer.Argument(help="Solution JSON written by `chaincomp solve --out` or `--json`.")],
    as_json: opt.JsonOpt = False,
    out: opt.out("Also write the verification report JSON ({file, valid, violations}) to this file.") = None,
) -> None:
    """Check every rule of the model (docs/verify.md): types and integrality, finite positive parameters,
    ranges, the chain rule, memory (exact), every T_k, ν ≥ λ/ρ̄ (exact) and the stored metrics.

    Exit code 0 when valid, 1 when any violation is found (each is listed).

    Examples:
      chaincomp verify design.json
      chaincomp verify design.json --out check.json
    """
    from chaincomp.errors import InvalidInstance
    from chaincomp.io import files as io_files

    # the input boundary (regular UTF-8 file, strict JSON, bounded size and nesting); the rules
    # themselves — types included — are the verifier's, listed as violations (exit 1)
    data = io_files.read_json(solution_file, "file")
    if not isinstance(data, dict):
        raise InvalidInstance(f"{solution_file}: (top level): expected a JSON object (a Solution), got {type(data).__name__}")
    errors = verify_data(data, source=str(solution_file))
    solution = None if errors else Solution.from_dict(data, source=str(solution_file))
    report = {"file": str(solution_file), "valid": not errors, "violations": errors}
    common.emit_json(report, as_json, out)
    if as_json:
        raise typer.Exit(1 if errors else 0)
    if errors:
        common.console.print(f"[bold red]{escape(str(solution_file))}: {len(errors)} violation(s)[/]")
        for e in errors:
            common.console.print(f"  - {escape(e)}", highlight=False)
    else:
        a = solution.allocation
        js = solution.metrics.get("job_servers")  # R9 has checked it against the exact count
        if js is None:  # a file need not carry metrics: count exactly (the one extra pass, only then)
            from chaincomp.core.exact import check

            js = check(solution.problem, solution.placement, a).job_servers
        common.console.print(
            f"[green]{escape(str(solution_file))}: valid[/] — {len(a.chains)} chains, "
            f"Σc = {a.total_capacity}, ν = {a.service_rate:.12g}, job servers = {js if js is not None else '— (ν < λ/ρ̄)'}"
        )
    if out is not None:
        opt.note(f"wrote {out}")
    raise typer.Exit(1 if errors else 0)
