"""``chaincomp recompose``: the next design after each event of a timeline (SPEC §9; the algorithm
is :mod:`chaincomp.elastic.recompose`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.table import Table

from chaincomp.cli import common
from chaincomp.cli.app import app

DeltaOpt = Annotated[float, typer.Option("--delta", help="δ: predicted response seconds (or job servers) per second of switching cost.")]
MaxMovedOpt = Annotated[Optional[int], typer.Option("--max-moved", help="Cap on servers whose block range changes.")]
HysteresisOpt = Annotated[float, typer.Option("--hysteresis", help="Change a still-feasible design only if the score gain exceeds this fraction of its Ω.")]
ObjectiveOpt = Annotated[str, typer.Option("--objective", help="Ω: response (Theorem-4 lower bound, s) or job-servers.")]
BandwidthOpt = Annotated[Optional[float], typer.Option("--load-bandwidth", help="Block load bandwidth b_j for every server (GB/s); default: instance meta or 1 GB/s.")]


def options(delta, max_moved, hysteresis, objective, load_bandwidth):
    from chaincomp.elastic.recompose import RecomposeOptions

    opts = RecomposeOptions(delta=delta, max_moved=max_moved, hysteresis=hysteresis, objective=objective,
                            load_bandwidth=load_bandwidth)
    opts.check()
    return opts


@app.command()
def recompose(
    solution_file: Annotated[Path, typer.Argument(metavar="SOLUTION", help="Current design (Solution JSON).")],
    events_file: Annotated[Path, typer.Argument(metavar="EVENTS", help="Events JSON (`chaincomp schema events`).")],
    delta: DeltaOpt = 1e-3,
    max_moved: MaxMovedOpt = None,
    hysteresis: HysteresisOpt = 0.02,
    objective: ObjectiveOpt = "response",
    load_bandwidth: BandwidthOpt = None,
    as_json: common.JsonOpt = False,
    out: common.OutOpt = None,
) -> None:
    """After each event, re-compose the design: meet λ/ρ̄ if the cluster can, minimize Ω + δ·ω.

    --json prints {steps: [...]}: per step the chosen `solution` (verified), moved_servers,
    reloaded_blocks, reload_gb, reload_time_s, response_time_lower_s and `from_scratch` with the
    same fields for a from-scratch re-plan.

    Examples:
      chaincomp recompose design.json events.json
      chaincomp recompose design.json events.json --delta 0 --json > steps.json
    """
    from chaincomp.elastic.events import load_elastic_design, load_events
    from chaincomp.elastic.recompose import recompose_timeline

    opts = options(delta, max_moved, hysteresis, objective, load_bandwidth)
    solution = load_elastic_design(solution_file)
    timeline = load_events(events_file, solution.problem)
    steps = recompose_timeline(solution, timeline, opts)
    data = {"design": str(solution_file), "events": str(events_file), "options": opts.to_dict(),
            "steps": [s.to_dict() for s in steps]}
    common.emit_json(json.dumps(data, indent=2, allow_nan=False, default=float), as_json, out)
    if as_json:
        return
    for s in steps:
        print_step(s)
    if out is not None:
        common.console.print(f"wrote {out}")


def _f(x, d=4):
    return "—" if x is None else f"{x:.{d}g}"


def print_step(step) -> None:
    con = common.console
    d = step.to_dict()
    ev = step.event.describe() if step.event else "(no event)"
    style = "green" if step.reachable else "bold red"
    con.print(f"[bold]{ev}[/] → [{style}]{step.message}[/] ({step.wall_time_s * 1000:.0f} ms)", highlight=False)
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("design", "Thm-4 lower (s)", "ν (job/s)", "moved", "blocks loaded", "reload GB", "reload s (Σ)"):
        t.add_column(col, justify="right" if col != "design" else "left")
    fs = d["from_scratch"]
    for label, r in ((f"chosen: {d['candidate']}", d), ("from scratch", fs)):
        t.add_row(label, _f(r["response_time_lower_s"]), _f(r["service_rate"]), str(len(r["moved_servers"])),
                  str(r["reloaded_blocks"]), _f(r["reload_gb"]), _f(r["reload_time_s"]))
    con.print(t)
    if d["moves"]:
        mt = Table(title="what moves where (chosen design)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("server", "held blocks", "new blocks", "loads", "reload s"):
            mt.add_column(col, justify="left" if col == "server" else "right")
        for mv in d["moves"]:
            rng = lambda r: "—" if r is None else f"{r[0]}–{r[1]}"  # noqa: E731
            mt.add_row(mv["server"], rng(mv["old"]), rng(mv["new"]), str(mv["load_blocks"]), _f(mv["reload_s"]))
        con.print(mt)
    else:
        con.print("no server changes its blocks")
