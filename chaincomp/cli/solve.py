"""``chaincomp solve``: design a placement + cache allocation for one instance."""

from __future__ import annotations

import json
import math
from typing import Annotated, Optional

import typer
from rich.progress import Progress

from chaincomp import methods
from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app
from chaincomp.cli.render import print_solution
from chaincomp.core.verify import assert_valid, verify_solution
from chaincomp.errors import InfeasibleInstance, NoDesignFound, UsageError, VerificationError
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
    method: Annotated[str, typer.Option("--method", "-m", help="Method (see `chaincomp solve --list-methods`).", autocompletion=opt.complete_methods)] = "greedy",
    cache_reservation: opt.CacheReservationOpt = "auto",
    tune: Annotated[Optional[str], typer.Option("--tune", help="Score for tuning c: lower (Theorem-4 lower bound, default), upper, surrogate, sim.")] = None,
    solver: Annotated[Optional[str], typer.Option("--solver", help="MILP solver: highs (default) or gurobi.")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Solver time limit (s).")] = None,
    mip_gap: Annotated[Optional[float], typer.Option("--mip-gap", help="Relative MIP gap to stop at.")] = None,
    objective: Annotated[Optional[str], typer.Option("--objective", help="MILP objective: job-servers (default) or throughput.")] = None,
    threads: Annotated[Optional[int], typer.Option("--threads", help="Solver threads.")] = None,
    seed: opt.SeedOpt = 0,
    single_process: Annotated[bool, typer.Option("--single-process", help="milp: keep the placement search in the main process (by default it runs in a second process: the milp uses 2 processes).")] = False,
    export: Annotated[Optional[str], typer.Option("--export", help="'petals': print one PETALS server command per used server (docs/petals.md).")] = None,
    model_name: Annotated[Optional[str], typer.Option("--model-name", help="PETALS export: Hugging Face repo id of the model (default: the config's _name_or_path or the card's repo).")] = None,
    initial_peers: Annotated[Optional[str], typer.Option("--initial-peers", help="PETALS export: multiaddr of the first server, for the others' --initial_peers (default: a placeholder).")] = None,
    top: Annotated[int, typer.Option("--top", help="How many of the best c's to show.")] = 5,
    robust: Annotated[Optional[int], typer.Option("--robust", help="1: a design that still meets λ/ρ̄ after any single server failure (greedy; chaincomp.elastic.robust).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every server in the placement map (also those hosting no block) and every chain.")] = False,
    list_methods: Annotated[bool, typer.Option("--list-methods", help="List the available methods and exit.")] = False,
    as_json: opt.JsonOpt = False,
    out: opt.OutOpt = None,
) -> None:
    """Place blocks, form chains and allocate cache; print the design and its predicted response time.

    Examples:
      chaincomp solve --example bloom-j20
      chaincomp solve --example worked-example -c 1 --json
      chaincomp solve --cluster cluster.json --model bloom.json --rate 0.5 --out design.json
    """
    if list_methods:
        for info in methods.available().values():
            common.console.print(f"[bold]{escape(info.name)}[/]  {escape(info.summary)}")
        return
    if export not in (None, "petals"):
        raise UsageError(f"--export supports only 'petals', got {export!r}")
    if export is None:
        opt.refuse_unused({"--model-name": model_name, "--initial-peers": initial_peers},
                          "used by the PETALS export only; add --export petals")
    from chaincomp.io import limits

    limits.check_seed(seed, "--seed")
    limits.positive_option(time_limit, "--time-limit", limits.MAX_TIME_LIMIT_S)
    if mip_gap is not None and not (math.isfinite(mip_gap) and 0 <= mip_gap <= 1e6):
        raise UsageError(f"--mip-gap: expected a finite number ≥ 0, got {mip_gap}")
    if threads is not None and not 1 <= threads <= 4096:
        raise UsageError(f"--threads: expected 1..4096, got {threads}")
    if top < 0:
        raise UsageError(f"--top must be ≥ 0, got {top}")
    problem = common.resolve_problem(example, instance, cluster, model, workload, rate, target_load)
    options: dict = {"seed": seed}
    fixed_c = opt.parse_cache_reservation(cache_reservation)
    if fixed_c is not None:
        options["cache_reservation"] = fixed_c
    if tune is not None and (fixed_c is not None or robust is not None):
        raise UsageError(f"--tune scores the c values of a tuned design; {'-c fixes c' if fixed_c is not None else '--robust chooses its own c'}, "
                         f"so there is nothing to tune: drop --tune or {'-c' if fixed_c is not None else '--robust'}")
    if method == "greedy" or tune is not None:
        options["tune"] = tune or "lower"
    for key, val in (("solver", solver), ("time_limit_s", time_limit), ("mip_gap", mip_gap), ("objective", objective), ("threads", threads)):
        if val is not None:
            options[key] = val
    if single_process:
        if method != "milp":
            raise UsageError(f"--single-process applies to --method milp only (got --method {method})")
        options["parallel_search"] = False
    if robust is not None:
        from chaincomp.elastic.robust import robust_design

        if method != "greedy" or fixed_c is not None:
            raise UsageError("--robust works with the greedy method and tuned c only (drop --method/--c)")
        solution = robust_design(problem, robust)
        assert_valid(solution)
        common.emit_json(solution.to_json(), as_json, out)
        if not as_json:
            print_solution(common.console, solution, top)
            info_r = solution.extra["robust"]
            if not info_r["robust"]:
                common.err_console.print(f"[bold yellow]warning:[/] {info_r['note']}")
            common.console.print(f"robust (N−1): worst single failure {info_r['worst_single_failure']}; "
                                 f"extra cost over the plain design: {info_r['extra_cost']}", highlight=False)
        return
    info = methods.get(method)
    opt.log.debug("method %s with options %s", method, options)
    show_progress = not as_json and common.console.is_terminal and opt.show_progress()
    try:
        if method == "greedy":
            with Progress(transient=True, console=common.err_console, disable=not show_progress) as bar:
                task = bar.add_task("tuning c", total=None)
                solution = info.func(problem, on_step=lambda i, n: bar.update(task, completed=i, total=n), **options)
        else:
            options["progress"] = show_progress
            if method == "milp":
                options["started_at"] = _command_started()  # --time-limit covers the whole command
            solution = info.func(problem, **options)
    except (NoDesignFound, InfeasibleInstance) as exc:
        if as_json:  # machines get the outcome on stdout too (the message still goes to stderr)
            common.emit_json(outcome_json(exc, method), True, None)
        raise
    missed = solution.extra.get("status") == "rate_target_missed"
    errors = [e for e in verify_solution(solution) if not (missed and e.startswith("rate:"))]
    if errors:  # never emit a design the independent verifier rejects
        raise VerificationError("solution failed verification:\n  - " + "\n  - ".join(errors))
    opt.log.debug("solved in %.3g s (wall, incl. tuning)", solution.provenance.get("wall_time_s") or float("nan"))
    exported = None
    if export == "petals":
        from chaincomp.export import petals_export

        exported = petals_export(solution, model_name=model_name, initial_peers=initial_peers)
    if exported is None:
        if as_json or out is not None:  # JSON built only when written (J = 10⁵: seconds)
            common.emit_json(solution.to_json(), as_json, out)
    else:  # the Solution JSON with the commands under "export"
        data = json.loads(solution.to_json())
        data["export"] = {"petals": exported.to_dict()}
        common.emit_json(data, as_json, out)
    if missed:
        common.err_console.print(
            f"[bold yellow]warning:[/] method {method!r} emitted a design that misses the rate target: "
            f"{solution.extra['exact_check']['violations'][-1]} (exit code 4)", highlight=False, soft_wrap=True)
    if as_json:
        if missed:
            raise typer.Exit(4)
        return
    if exported is not None:
        for line in exported.lines():
            typer.echo(line)
        if missed:
            raise typer.Exit(4)
        return
    print_solution(common.console, solution, top, show_all=show_all)
    if out is not None:
        opt.note(f"wrote {out}")
    if missed:
        raise typer.Exit(4)


def outcome_json(exc: NoDesignFound | InfeasibleInstance, method: str) -> dict:
    """``solve --json`` when there is no design (docs/milp.md, "Outcomes and exit codes"):
    ``outcome`` is ``no_design_found`` (exit 3, not a proof; ``bound`` = the valid bound reached — on job
    servers a lower bound, for the throughput objective an upper bound on ν — or null) or
    ``infeasible`` (exit 2, the message gives the reason)."""
    data = {"outcome": "no_design_found" if isinstance(exc, NoDesignFound) else "infeasible",
            "exit_code": exc.exit_code, "method": method, "message": str(exc)}
    if isinstance(exc, NoDesignFound):
        data["bound"] = exc.bound
    return data


def _command_started() -> float:
    """``time.perf_counter()`` at the moment this process started (Linux /proc; else now)."""
    import os
    import time

    now = time.perf_counter()
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        age = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
        return now - age if 0 <= age < 600 else now
    except (OSError, ValueError, IndexError):
        return now
