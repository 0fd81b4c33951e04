"""``chaincomp generate``: write seeded instance files of a family (SPEC §6.1–§6.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app
from chaincomp.errors import UsageError
from chaincomp.errors import ChaincompError


@app.command()
def generate(
    family: Annotated[str, typer.Argument(help="Instance family: bloom, mig, helix-single-24, helix-three-region-24, helix-single-42.")],
    count: Annotated[int, typer.Option("--count", "-n", help="Number of instances to write.")] = 1,
    seed: opt.seed("Base seed; instance i uses numpy default_rng((seed, i)). Same seed → same bytes.") = 0,
    out: opt.out("Output directory (default: instances).") = None,
    rtt_data: Annotated[Optional[Path], typer.Option("--rtt-data", help="RTT data: RIPE Atlas CSV (e.g. ripe_atlas_eu_rtt.csv, shipped) or a Topology Zoo .graph file; default: synthetic European model. bloom/mig only.")] = None,
    servers: Annotated[Optional[int], typer.Option("--servers", "-J", help="bloom: number of servers J (default 20).")] = None,
    eta: Annotated[Optional[float], typer.Option("--eta", help="bloom: fraction η of high-performance servers (default 0.2).")] = None,
    rate: Annotated[Optional[float], typer.Option("--rate", help="Arrival rate λ (req/s); family default otherwise.")] = None,
    target_load: Annotated[Optional[float], typer.Option("--target-load", help="Target load ρ̄ (default 0.7).")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="helix-*: llama-2-70b (default) or llama-30b.")] = None,
    dtype: Annotated[Optional[str], typer.Option("--dtype", help="helix-*: weight format fp16 (default), bf16, int8, nf4.")] = None,
    max_seq_len: Annotated[Optional[int], typer.Option("--max-seq-len", help="helix-*: tokens the KV cache is sized for (default 2048).")] = None,
    orchestrator_region: Annotated[Optional[int], typer.Option("--orchestrator-region", help="helix-three-region-24: region (1-3) of the orchestrator (default 1).")] = None,
    access_fraction: Annotated[Optional[float], typer.Option("--access-fraction", help="bloom/mig, RIPE CSV or synthetic network: share of each node's median RTT taken as its access latency (default 0.3).")] = None,
    ms_per_km: Annotated[Optional[float], typer.Option("--ms-per-km", help="bloom/mig, RIPE CSV or synthetic network: RTT per km of great-circle distance (default 0.01).")] = None,
    as_json: opt.JsonOpt = False,
) -> None:
    """Write COUNT instance files of FAMILY into OUT (single-file instances for `--instance` / batch).

    Examples:
      chaincomp generate bloom --count 20 --seed 1 --servers 40 --eta 0.3 --rtt-data ripe_atlas_eu_rtt.csv --out inst/
      chaincomp generate mig --count 10 --seed 7 --out inst/mig
      chaincomp generate helix-three-region-24 --model llama-30b --count 5 --out inst/helix
    """
    from chaincomp.io import limits

    limits.check_seed(seed, "--seed")
    limits.check_count(count, 100_000, "instances", "--count")
    if servers is not None:
        limits.check_count(servers, limits.MAX_SERVERS, "servers", "--servers")
    limits.positive_option(rate, "--rate", limits.MAX_ARRIVAL_RATE)
    if eta is not None and not (0 < eta <= 1):
        raise UsageError(f"--eta: expected a number in (0, 1], got {eta}")
    limits.check_target_load(target_load)
    limits.positive_option(access_fraction, "--access-fraction", 1e3)
    if ms_per_km is not None and not (0 <= ms_per_km <= 1e3):
        raise UsageError(f"--ms-per-km: expected a number in [0, 1000], got {ms_per_km}")
    if max_seq_len is not None:
        limits.check_count(max_seq_len, limits.MAX_TOKENS, "tokens", "--max-seq-len")
    from chaincomp.instances.derive import check_hostable
    from chaincomp.instances.generators import write_instances
    from chaincomp.instances.load import load_instance_file

    out = out if out is not None else Path("instances")
    params = {k: v for k, v in dict(servers=servers, eta=eta, rate=rate, target_load=target_load, model=model, dtype=dtype,
                                    max_seq_len=max_seq_len, orchestrator_region=orchestrator_region).items() if v is not None}
    paths = write_instances(family, count, seed, out, rtt_data=rtt_data, access_fraction=access_fraction,
                            ms_per_km=ms_per_km, **params)
    rows, unhostable = [], []
    for p in paths:
        prob = load_instance_file(p, check=False)
        try:
            check_hostable(prob)
            ok = True
        except ChaincompError:
            ok = False
            unhostable.append(str(p))
        rows.append({"file": str(p), "servers": prob.num_servers, "blocks": prob.num_blocks,
                     "memory_gb": float(prob.memory_gb.sum()), "arrival_rate": prob.arrival_rate, "hostable": ok})
    if as_json:
        common.emit_json({"family": family, "seed": seed, "count": count, "files": rows}, True, None)
        return
    from chaincomp.io.text import escape

    table = Table(title=f"{count} × {escape(family)} (seed {seed}) → {escape(str(out))}")
    for col in ("file", "J", "L", "Σ memory (GB)", "λ (req/s)", "hosts all blocks"):
        table.add_column(col, justify="left" if col == "file" else "right")
    shown = rows if len(rows) <= 20 else rows[:10] + rows[-5:]
    for r in shown:
        table.add_row(escape(Path(r["file"]).name), str(r["servers"]), str(r["blocks"]), f"{r['memory_gb']:.0f}",
                      f"{r['arrival_rate']:g}", "yes" if r["hostable"] else "[red]no[/]")
    common.console.print(table)
    if len(rows) > 20:
        common.console.print(f"… {len(rows) - 15} more files not shown")
    if unhostable:
        opt.log.warning(f"{len(unhostable)} instance(s) cannot host all blocks "
                        f"even with one cache slot per block; solving them will report InfeasibleInstance")
