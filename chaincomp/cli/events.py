"""``chaincomp events``: write a seeded event timeline (:mod:`chaincomp.elastic.generators`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from chaincomp.cli import common
from chaincomp.cli.app import app
from chaincomp.errors import UsageError


@app.command()
def events(
    kinds: Annotated[str, typer.Argument(help="churn, region, diurnal, or a comma list (merged), e.g. diurnal,churn.")],
    solution_file: Annotated[Path, typer.Argument(metavar="SOLUTION", help="Design whose cluster the events refer to.")],
    horizon: Annotated[float, typer.Option("--horizon", help="Timeline length (s).")] = 86400.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed.")] = 0,
    fraction: Annotated[float, typer.Option("--fraction", help="churn: fraction of servers that depart.")] = 0.1,
    fail_share: Annotated[float, typer.Option("--fail-share", help="churn: share of departures that are failures.")] = 0.5,
    downtime: Annotated[Optional[float], typer.Option("--downtime", help="churn: mean downtime (s; default horizon/4); region: downtime before re-joining.")] = None,
    region: Annotated[Optional[str], typer.Option("--region", help="region: the region label that fails.")] = None,
    servers: Annotated[Optional[str], typer.Option("--servers", help="region: comma list of server ids instead of a label.")] = None,
    at: Annotated[float, typer.Option("--at", help="region: failure time (s).")] = 0.0,
    windows: Annotated[int, typer.Option("--windows", help="diurnal: rate windows over the horizon.")] = 24,
    peak_rate: Annotated[Optional[float], typer.Option("--peak-rate", help="diurnal: peak λ (default the design's λ).")] = None,
    shape: Annotated[str, typer.Option("--shape", help="diurnal: azure (trace rate profile) or sine.")] = "azure",
    noise: Annotated[float, typer.Option("--noise", help="diurnal: uniform multiplicative noise ±noise per window.")] = 0.0,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Folder with azure_llm_inference_2023_code.csv (default $CHAINCOMP_DATA, else the copy shipped with chaincomp).")] = None,
    out: common.OutOpt = None,
) -> None:
    """Generate an events JSON for `chaincomp recompose` / `chaincomp simulate --events`.

    Examples:
      chaincomp events diurnal,churn design.json --horizon 86400 --noise 0.1 --seed 1 -o day.json
      chaincomp events region design.json --region region-2 --at 600 --downtime 1800
    """
    from chaincomp.elastic.events import load_elastic_design
    from chaincomp.elastic import generators as g

    from chaincomp.io import limits

    limits.check_seed(seed, "--seed")
    problem = load_elastic_design(solution_file).problem
    parts = []
    for kind in [k.strip() for k in kinds.split(",") if k.strip()]:
        if kind == "churn":
            parts.append(g.churn(problem, horizon, fraction, fail_share, downtime, seed))
        elif kind == "region":
            ids = [s.strip() for s in servers.split(",")] if servers else None
            parts.append(g.region_failure(problem, region, ids, at, downtime, horizon))
        elif kind == "diurnal":
            parts.append(g.diurnal(problem, horizon, windows, peak_rate, shape, noise=noise, seed=seed + 1, data_dir=data_dir))
        else:
            raise UsageError(f"unknown timeline kind {kind!r}; choose churn, region or diurnal")
    if not parts:
        raise UsageError("give at least one timeline kind")
    tl = g.merge(*parts, problem=problem)
    common.emit_json(json.dumps(tl.to_dict(), indent=2), out is None, out)
    if out is not None:
        common.console.print(f"wrote {out} ({len(tl.events)} events)")
