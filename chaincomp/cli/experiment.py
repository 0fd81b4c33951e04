"""``chaincomp experiment NAME``: the paper's evaluation (SPEC §6), as tables, CSV/JSON and PNG."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app
from chaincomp.errors import UsageError


def _cell(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "∞"
        return f"{v:.4g}"
    return str(v)


def _result_table(title: str, columns, rows, width: int) -> Table:
    """Rows × columns; transposed (one column per row, e.g. per method) when too wide to read."""
    too_wide = sum(max(len(h), 7) + 3 for _, h in columns) > width
    if too_wide and len(rows) <= 8:
        key, label = columns[0]
        table = Table(title=title)
        table.add_column(label)
        for r in rows:
            table.add_column(_cell(r.get(key)), justify="right")
        for k, header in columns[1:]:
            table.add_row(header, *[_cell(r.get(k)) for r in rows])
        return table
    table = Table(title=title)
    for _, header in columns:
        table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(*[_cell(r.get(k)) for k, _ in columns])
    return table


@app.command()
def experiment(
    name: Annotated[str, typer.Argument(help="placement | allocation | dispatch | tuning | overall | testbed")],
    quick: Annotated[bool, typer.Option("--quick", help="Small variant that runs fast (CI).")] = False,
    seed: opt.seed("Base seed of instances and random streams.") = 0,
    data: Annotated[Optional[Path], typer.Option("--data", help="Folder with ripe_atlas_eu_rtt.csv and azure_llm_inference_2023_code.csv (default: $CHAINCOMP_DATA, else the copy shipped with chaincomp).")] = None,
    out: opt.out("Directory for NAME.csv and NAME.json.") = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Directory for the PNG figure.")] = None,
    runs: Annotated[Optional[int], typer.Option("--runs", help="overall: Monte Carlo runs per (J, η) (default 20; quick 2).")] = None,
    jobs: opt.jobs("overall/dispatch/tuning: simulated jobs per run.") = None,
    requests: Annotated[Optional[int], typer.Option("--requests", help="testbed: first N trace requests (default 1000; quick 200).")] = None,
    cache_reservation: opt.cache_reservation("Fix c (placement/allocation/dispatch default 7; overall/testbed default, or 'auto': tuned).") = None,
    service_scale: Annotated[Optional[float], typer.Option("--service-scale", help="testbed: multiply every τ constant by this factor in [0.001, 1000] (sensitivity study; 1 = the SPEC §1.1 model).")] = None,
    as_json: opt.JsonOpt = False,
) -> None:
    """Reproduce one experiment of the paper's evaluation and print its table.

    placement: GBP-CR vs 100 random placements (c·K(c)). allocation: GCA vs c·K(c), lower bound,
    fixed-chain ILP. dispatch: JFFC vs JSQ/JIQ/SED/SA-JSQ with Theorem-4 bounds. tuning: c sweep and
    c* vs λ. overall: proposed vs PETALS vs BPRR over J × η. testbed: LLaMA-2-7B on 9 MIG servers
    with the Azure trace (proposed, PETALS, BPRR, JFFC-only).
    """
    from chaincomp import experiments

    from chaincomp.io import limits

    limits.check_seed(seed, "--seed")
    fixed_c = opt.parse_cache_reservation(cache_reservation)
    for flag, v, cap in (("--runs", runs, 10_000), ("--jobs", jobs, limits.MAX_SIM_JOBS), ("--requests", requests, limits.MAX_TRACE_ROWS),
                         ("--cache-reservation", fixed_c, limits.MAX_CACHE_RANGE)):
        if v is not None:
            if v < 1:
                raise UsageError(f"{flag} must be ≥ 1, got {v}")
            limits.check_count(v, cap, flag.lstrip("-"), flag)
    # a sensitivity factor: PETALS' clients retry every ≤ 60 s while servers are busy, so the work grows
    # with the scale (1e2: 4 s, 1e4: 100 s at --quick); beyond 10³ the testbed is an unbounded queue
    limits.positive_option(service_scale, "--service-scale", 1e3, lower=1e-3)
    opts = {"quick": quick, "seed": seed, "data_dir": data}
    if runs is not None:
        opts["runs"] = runs
    if jobs is not None:
        opts["jobs"] = jobs
    if requests is not None:
        opts["requests"] = requests
    if fixed_c is not None:
        opts["cache_reservation"] = fixed_c
    if service_scale is not None:
        opts["service_scale"] = service_scale
    if as_json or not opt.show_progress():
        res = experiments.run(name, **opts)
    else:
        with common.err_console.status(f"experiment {name}…") as status:
            res = experiments.run(name, on_progress=lambda msg: status.update(f"experiment {name}: {msg}"), **opts)
    written = res.write(out) if out is not None else []
    figs = res.figures(plot) if plot is not None else []
    if as_json:
        import json

        typer.echo(json.dumps(res.to_dict(), indent=2, allow_nan=False))
        return
    common.console.print(_result_table(res.title, res.columns, res.rows, common.console.width))
    for key, rows in res.extra_tables.items():
        if rows:
            t2 = Table(title=key)
            keys = list(dict.fromkeys(k for r in rows for k in r))
            for k in keys:
                t2.add_column(k)
            for r in rows:
                t2.add_row(*[_cell(r.get(k)) for k in keys])
            common.console.print(t2)
    for p in written + figs:
        opt.note(f"wrote {p}")
