"""``chaincomp solve``: design a placement + cache allocation for one instance."""

from __future__ import annotations

import math
from typing import Annotated, Optional

import typer
from rich.progress import Progress

from chaincomp import methods
from chaincomp.cli import common
from chaincomp.cli.app import app
from chaincomp.cli.render import petals_commands, print_solution
from chaincomp.core.verify import assert_valid
from chaincomp.errors import UsageError
from chaincomp.io.text import escape


@app.command()
def solve(
    example: common.ExampleOpt = None,
    instance: common.InstanceOpt = None,
    cluster: common.ClusterOpt = None,
    model: common.ModelOpt = None,
    workload: common.WorkloadOpt = None,
    rate: common.RateOpt = None,
    target_load: common.TargetLoadOpt = None,
    method: Annotated[str, typer.Option("--method", "-m", help="Method (see `chaincomp solve --list-methods`).")] = "greedy",
    c: Annotated[str, typer.Option("--c", help="Cache reservation c: 'auto' (tune) or an integer.")] = "auto",
    tune: Annotated[str, typer.Option("--tune", help="Score for tuning c: lower (Theorem-4 lower bound, default), upper, surrogate, sim.")] = "lower",
    solver: Annotated[Optional[str], typer.Option("--solver", help="MILP solver: highs (default) or gurobi.")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Solver time limit (s).")] = None,
    mip_gap: Annotated[Optional[float], typer.Option("--mip-gap", help="Relative MIP gap to stop at.")] = None,
    objective: Annotated[Optional[str], typer.Option("--objective", help="MILP objective: job-servers (default) or throughput.")] = None,
    threads: Annotated[Optional[int], typer.Option("--threads", help="Solver threads.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for every random choice.")] = 0,
    export: Annotated[Optional[str], typer.Option("--export", help="'petals': print one PETALS server command per server.")] = None,
    top: Annotated[int, typer.Option("--top", help="How many of the best c's to show.")] = 5,
    list_methods: Annotated[bool, typer.Option("--list-methods", help="List the available methods and exit.")] = False,
    as_json: common.JsonOpt = False,
    out: common.OutOpt = None,
) -> None:
    """Place blocks, form chains and allocate cache; print the design and its predicted response time.

    Examples:
      chaincomp solve --example bloom-j20
      chaincomp solve --example worked-example --c 1 --json
      chaincomp solve --cluster cluster.json --model bloom.json --rate 0.5 --out design.json
    """
    if list_methods:
        for info in methods.available().values():
            common.console.print(f"[bold]{escape(info.name)}[/]  {escape(info.summary)}")
        return
    if export not in (None, "petals"):
        raise UsageError(f"--export supports only 'petals', got {export!r}")
    from chaincomp.io import limits

    limits.check_seed(seed, "--seed")
    limits.positive_option(time_limit, "--time-limit")
    if mip_gap is not None and not (math.isfinite(mip_gap) and 0 <= mip_gap <= 1e6):
        raise UsageError(f"--mip-gap: expected a finite number ≥ 0, got {mip_gap}")
    if threads is not None and not 1 <= threads <= 4096:
        raise UsageError(f"--threads: expected 1..4096, got {threads}")
    if top < 0:
        raise UsageError(f"--top must be ≥ 0, got {top}")
    problem = common.resolve_problem(example, instance, cluster, model, workload, rate, target_load)
    options: dict = {"seed": seed}
    if c != "auto":
        try:
            options["cache_reservation"] = int(c)
        except ValueError:
            raise UsageError(f"--c must be 'auto' or an integer, got {c!r}") from None
    if method == "greedy" or tune != "lower":
        options["tune"] = tune
    for key, val in (("solver", solver), ("time_limit_s", time_limit), ("mip_gap", mip_gap), ("objective", objective), ("threads", threads)):
        if val is not None:
            options[key] = val
    info = methods.get(method)
    show_progress = not as_json and common.console.is_terminal
    if method == "greedy":
        with Progress(transient=True, console=common.err_console, disable=not show_progress) as bar:
            task = bar.add_task("tuning c", total=None)
            solution = info.func(problem, on_step=lambda i, n: bar.update(task, completed=i, total=n), **options)
    else:
        options["progress"] = show_progress
        solution = info.func(problem, **options)
    assert_valid(solution)
    common.emit_json(solution.to_json(), as_json, out)
    if as_json:
        return
    if export == "petals":
        for line in petals_commands(solution):
            typer.echo(line)
        return
    print_solution(common.console, solution, top)
    if out is not None:
        common.console.print(f"wrote {escape(str(out))}", highlight=False)
