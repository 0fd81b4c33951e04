"""``chaincomp calibrate``: fit t_o, t^I, t^O per GPU type and RTT + o per server to measured timings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from chaincomp.cli import common
from chaincomp.cli.app import app


@app.command()
def calibrate(
    measurements: Annotated[Path, typer.Argument(help="Measurements CSV: server,gpu,blocks,input_tokens,output_tokens,compute_s,comm_s (docs/calibrate.md).")],
    cluster: Annotated[Optional[Path], typer.Option("--cluster", help="Cluster JSON the measured servers belong to (memory, ids); default: servers from the CSV with catalog GPU types.")] = None,
    workload: Annotated[Optional[Path], typer.Option("--workload", help="Workload JSON whose mean token counts the τ's are computed for.")] = None,
    input_tokens: Annotated[Optional[float], typer.Option("--input-tokens", help="l̄_in for the τ's (with --output-tokens); default: workload file, else the measurement means.")] = None,
    output_tokens: Annotated[Optional[float], typer.Option("--output-tokens", help="l̄_out for the τ's.")] = None,
    weighting: Annotated[str, typer.Option("--weighting", help="relative (default: weights 1/ŷ², noise proportional to duration) or none (plain least squares).")] = "relative",
    as_json: common.JsonOpt = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the calibrated cluster JSON (explicit tau_comp_s / tau_comm_s) here.")] = None,
) -> None:
    """Fit the SPEC §1.1 timing model to measured request timings; write a cluster with measured τ's.

    Examples:
      chaincomp calibrate docs/examples/measurements.csv --cluster docs/examples/cluster.json --out calibrated.json
      chaincomp solve --cluster calibrated.json --model config.json --rate 0.5
    """
    from chaincomp.calibrate import calibrate as run

    from chaincomp.io import limits

    for value, name in ((input_tokens, "--input-tokens"), (output_tokens, "--output-tokens")):
        limits.positive_option(value, name, limits.MAX_TOKENS)
    cal = run(measurements, cluster=cluster, workload=workload, input_tokens=input_tokens, output_tokens=output_tokens, weighting=weighting)
    if out is not None:
        from chaincomp.io.output import atomic_write

        atomic_write(out, json.dumps(cal.cluster, indent=2, ensure_ascii=False, allow_nan=False) + "\n", "calibrated cluster file")
    if as_json:
        typer.echo(json.dumps(cal.report(), indent=2, allow_nan=False))
        return
    c = common.console
    t = Table(title="Compute per GPU type: compute_s = blocks·(t_o + t^I·l_in + t^O·(l_out−1))")
    for col in ("GPU type", "rows", "t_o ms", "t^I µs/tok", "t^O ms/tok", "R²", "RMSE s", "τ^p s"):
        t.add_column(col, justify="left" if col == "GPU type" else "right", overflow="fold")
    for g, f in cal.compute.items():
        est = [f"{k * v:.4g}±{k * s:.2g}" for k, v, s in zip((1e3, 1e6, 1e3), f.estimate, f.std_error)]
        t.add_row(escape(g), str(f.n), *est, f"{f.r2:.4f}", f"{f.rmse_s:.3g}", f"{cal.tau_comp_s(g):.4g}")
    c.print(t)
    for g, f in cal.compute.items():
        q = f.residual_quantiles_s
        c.print(f"  {escape(g)}: residual quantiles p5 {q['p5']:.3g}, p25 {q['p25']:.3g}, p50 {q['p50']:.3g}, "
                f"p75 {q['p75']:.3g}, p95 {q['p95']:.3g} s")
    t = Table(title="Communication per server: comm_s = l_out·(RTT + o)") if cal.comm else None
    if t is None:
        c.print("no communication fit (the CSV has no server or no comm_s column)")
    for col in ("server", "GPU type", "rows", "RTT + o ms", "R²", "RMSE s", "τ^c s") if t is not None else ():
        t.add_column(col, justify="left" if col in ("server", "GPU type") else "right", overflow="fold")
    for s, f in cal.comm.items():
        t.add_row(escape(s), escape(cal.server_gpu[s]), str(f.n), f"{1e3 * f.estimate[0]:.4g}±{1e3 * f.std_error[0]:.2g}",
                  f"{f.r2:.4f}", f"{f.rmse_s:.3g}", f"{cal.tau_comm_s(s):.4g}")
    if t is not None:
        c.print(t)
    c.print(f"source {escape(str(measurements))}; τ's for l̄_in = {cal.input_tokens:g}, l̄_out = {cal.output_tokens:g} tokens ({escape(cal.token_source)}); weighting {cal.weighting}")
    for k, v in cal.not_calibrated.items():
        c.print(f"[yellow]not calibrated ({k}, kept as modelled):[/] {escape(', '.join(v))}")
    c.print(f"wrote {escape(str(out))}" if out is not None else "no cluster file written (give --out FILE)")
