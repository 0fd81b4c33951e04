"""``chaincomp whatif``: N−1 analysis of a design (SPEC §9; :mod:`chaincomp.elastic.whatif`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from chaincomp.cli import common
from chaincomp.cli.app import app
from chaincomp.cli.recompose import BandwidthOpt, DeltaOpt, HysteresisOpt, MaxMovedOpt, ObjectiveOpt, options


@app.command()
def whatif(
    solution_file: Annotated[Path, typer.Argument(metavar="SOLUTION", help="Design (Solution JSON).")],
    fail: Annotated[str, typer.Option("--fail", help="any (each server), regions (each region), a server id or a region label.")] = "any",
    repair: Annotated[bool, typer.Option("--repair", help="Also re-compose after each failure (as `chaincomp recompose`).")] = False,
    delta: DeltaOpt = 1e-3,
    max_moved: MaxMovedOpt = None,
    hysteresis: HysteresisOpt = 0.02,
    objective: ObjectiveOpt = "response",
    load_bandwidth: BandwidthOpt = None,
    as_json: common.JsonOpt = False,
    out: common.OutOpt = None,
) -> None:
    """For every single-server (or region) failure: surviving chains, capacity, ν, load, stability and
    the Theorem-4 bounds of the design that keeps every chain not through the failed servers.

    --json prints {cases: [...], worst: {...}, robust: bool}.

    Examples:
      chaincomp whatif design.json
      chaincomp whatif design.json --fail s16 --repair --json
    """
    from chaincomp.elastic.events import load_elastic_design
    from chaincomp.elastic.whatif import whatif as run

    opts = options(delta, max_moved, hysteresis, objective, load_bandwidth)
    solution = load_elastic_design(solution_file)
    data = run(solution, fail, repair, opts)
    common.emit_json(json.dumps(data, indent=2, allow_nan=False, default=float), as_json, out)
    if as_json:
        return
    f = lambda x: "—" if x is None else f"{x:.4g}"  # noqa: E731
    t = Table(title=f"N−1: {solution.problem.name}, λ/ρ̄ = {data['design']['required_rate']:.4g} job/s, "
                    f"ν = {data['design']['service_rate']:.4g}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    cols = ["failed", "chains left", "Σc", "ν", "load", "meets λ/ρ̄", "Thm-4 lower", "upper"]
    if repair:
        cols += ["repair", "loads", "repaired lower", "scratch lower", "scratch loads"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("failed", "repair") else "right")
    for c in data["cases"]:
        row = [c["case"], str(c["surviving_chains"]), str(c["total_capacity"]), f(c["service_rate"]), f(c["load"]),
               "yes" if c["meets_target"] else "[red]no[/]", f(c["response_time_lower_s"]), f(c["response_time_upper_s"])]
        if repair:
            r = c["repair"]
            row += [r["candidate"] + ("" if r["meets_target"] else " [red](short)[/]"), str(r["reloaded_blocks"]),
                    f(r["response_time_lower_s"]), f(r["from_scratch"]["response_time_lower_s"]),
                    str(r["from_scratch"]["reloaded_blocks"])]
        t.add_row(*row)
    common.console.print(t)
    w = data["worst"]
    common.console.print(f"worst case: {w['case']} (ν = {f(w['service_rate'])}); design is "
                         f"{'' if data['robust'] else '[red]not [/]'}N−1 robust for these cases")
    if out is not None:
        common.console.print(f"wrote {out}")
