"""Options and helpers shared by several commands (instance selection, JSON output)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from chaincomp.cli import options
from chaincomp.errors import UsageError
from chaincomp.problem import Problem

console = Console()
err_console = Console(stderr=True)

ExampleOpt = Annotated[Optional[str], typer.Option("--example", "-e", help="Embedded example instance (see `chaincomp examples`).", autocompletion=options.complete_examples)]
InstanceOpt = Annotated[Optional[Path], typer.Option("--instance", "-i", help="Single-file instance JSON (cluster + model + workload), e.g. from `chaincomp generate`.")]
ClusterOpt = Annotated[Optional[Path], typer.Option("--cluster", help="Cluster JSON file (servers).")]
ModelOpt = Annotated[Optional[Path], typer.Option("--model", help="Model JSON file (explicit sizes or a model card / HF config.json).")]
WorkloadOpt = Annotated[Optional[Path], typer.Option("--workload", help="Workload JSON file (arrival rate, target load, token lengths).")]
RateOpt = Annotated[Optional[float], typer.Option("--rate", help="Arrival rate λ (requests/s); overrides the workload's.")]
TargetLoadOpt = Annotated[Optional[float], typer.Option("--target-load", help="Target load ρ̄ in [1e-6, 1]; overrides the workload's.")]
JsonOpt = options.JsonOpt  # one definition per option name: chaincomp/cli/options.py
OutOpt = options.OutOpt


def resolve_problem(
    example: str | None = None,
    instance: Path | None = None,
    cluster: Path | None = None,
    model: Path | None = None,
    workload: Path | None = None,
    rate: float | None = None,
    target_load: float | None = None,
) -> Problem:
    """Build the Problem from exactly one source: an example, a single instance file, or cluster+model(+workload)."""
    from chaincomp.instances import examples as ex
    from chaincomp.instances import load as ld

    from chaincomp.io import limits

    if rate is not None and not (limits.MIN_ARRIVAL_RATE <= rate <= limits.MAX_ARRIVAL_RATE):
        raise UsageError(f"--rate must be a finite number in [{limits.MIN_ARRIVAL_RATE:g}, {limits.MAX_ARRIVAL_RATE:g}], got {rate}")
    sources = [example is not None, instance is not None, cluster is not None or model is not None]
    if sum(sources) != 1:
        raise UsageError("give exactly one of --example NAME, --instance FILE, or --cluster FILE --model FILE [--workload FILE]")
    if workload is not None and (example is not None or instance is not None):
        raise UsageError(f"--workload goes with --cluster/--model only: {'the example' if example is not None else 'an instance file'} "
                         f"carries its own workload (override λ and ρ̄ with --rate / --target-load)")
    if example is not None:
        problem = ex.load_example(example)
    elif instance is not None:
        problem = ld.load_instance_file(instance, arrival_rate=rate, target_load=target_load)
    else:
        if cluster is None or model is None:
            raise UsageError("--cluster and --model must be given together")
        problem = ld.load_problem(cluster, model, workload, arrival_rate=rate, target_load=target_load)
    if rate is not None or target_load is not None:
        from chaincomp.io import limits

        if rate is not None and not (0 < rate <= limits.MAX_ARRIVAL_RATE):
            raise UsageError(f"--rate must be a finite number in (0, {limits.MAX_ARRIVAL_RATE:g}], got {rate}")
        limits.check_target_load(target_load)
        problem = problem.with_workload(rate, target_load)
    options.log.debug("instance %s: J = %d servers, L = %d blocks, λ = %g req/s, ρ̄ = %g", problem.name,
                      problem.num_servers, problem.num_blocks, problem.arrival_rate, problem.target_load)
    return problem


def emit_json(data: dict | str, as_json: bool, out: Path | None) -> None:
    """Write JSON to ``out`` and/or stdout (when ``as_json``)."""
    text = data if isinstance(data, str) else json.dumps(data, indent=2, allow_nan=False)
    if out is not None:
        from chaincomp.io.output import atomic_write

        atomic_write(out, text + "\n", "output JSON file")
    if as_json:
        typer.echo(text)
