"""``chaincomp simulate``: replay Poisson or trace traffic on a design and compare dispatch policies."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich import box
from rich.table import Table

from chaincomp import methods
from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app
from chaincomp.errors import UsageError
from chaincomp.io.text import escape


@app.command()
def simulate(
    solution_file: Annotated[Optional[Path], typer.Argument(metavar="[SOLUTION]", help="Solution JSON (from `chaincomp solve --out`). Omit to solve first with --method.")] = None,
    example: common.ExampleOpt = None,
    instance: common.InstanceOpt = None,
    cluster: common.ClusterOpt = None,
    model: common.ModelOpt = None,
    workload: common.WorkloadOpt = None,
    rate: common.RateOpt = None,
    target_load: common.TargetLoadOpt = None,
    method: Annotated[Optional[str], typer.Option("--method", "-m", help="Solve the instance first with this method (default greedy when an instance is given).", autocompletion=opt.complete_methods)] = None,
    policy: Annotated[Optional[List[str]], typer.Option("--policy", "-p", help="Dispatch policy; repeat or comma-separate to compare: jffc, jffc-migrate, jsq, jiq, sed, sa-jsq, petals, bprr-wsrr. Default: the design's own (petals → petals, bprr → bprr-wsrr, otherwise jffc).")] = None,
    arrivals: Annotated[Optional[str], typer.Option("--arrivals", help="poisson (default: rate λ of the instance, or --rate/--load) or trace (--trace FILE).")] = None,
    trace: Annotated[Optional[Path], typer.Option("--trace", help="Azure-format trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens); default with --arrivals trace: the shipped Azure code trace. With Poisson arrivals and --service length, lengths are resampled from it.")] = None,
    trace_offset: Annotated[Optional[int], typer.Option("--trace-offset", help="Skip this many trace requests first (default 0).")] = None,
    trace_rate: Annotated[Optional[float], typer.Option("--trace-rate", help="Rescale trace time so its mean rate is this (req/s).")] = None,
    jobs: opt.jobs("Simulated jobs per replication (Poisson; default 100000) or the first N trace requests (default: all).") = None,
    replications: Annotated[Optional[int], typer.Option("--replications", "-r", help="Independent replications (95% CIs across them; one run uses batch means; default 1).")] = None,
    seed: opt.SeedOpt = 0,
    service: Annotated[Optional[str], typer.Option("--service", help="exp (Exp(1) × T_k; default), deterministic (T_k) or length (τ from each request's tokens).")] = None,
    warmup: Annotated[Optional[float], typer.Option("--warmup", help="Jobs to discard: a fraction < 1 or a count (default 0.1 for Poisson, 0 for traces).")] = None,
    load: Annotated[Optional[float], typer.Option("--load", help="Poisson rate as a fraction of the chains' service rate: λ = load·ν (overrides --rate).")] = None,
    engine: Annotated[Optional[str], typer.Option("--engine", help="auto (default: numba kernel for chain policies), numba (chain policies only), or python (general engine).")] = None,
    events: Annotated[Optional[Path], typer.Option("--events", help="Events JSON: simulate the timeline and compare re-planning policies (chaincomp.elastic.timeline_sim).")] = None,
    timeline_policy: Annotated[Optional[List[str]], typer.Option("--timeline-policy", help="With --events: none, scratch, recompose, petals (repeat or comma-separate; default all).")] = None,
    on_fail: Annotated[Optional[str], typer.Option("--on-fail", help="With --events: jobs on a failed server are 'lost' (default) or 'retry' (re-queued).")] = None,
    thrash_window: Annotated[Optional[float], typer.Option("--thrash-window", help="With --events: a block loaded and dropped within this many seconds is thrash (default 3600).")] = None,
    petals_period: Annotated[Optional[float], typer.Option("--petals-period", help="With --events: seconds between PETALS rebalancing checks (0: only at events; default 600).")] = None,
    load_bandwidth: Annotated[Optional[float], typer.Option("--load-bandwidth", help="With --events: block load bandwidth (GB/s) for every server.")] = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Write response-time CDFs per policy to this figure (.png, .pdf or .svg).")] = None,
    as_json: opt.JsonOpt = False,
    out: opt.OutOpt = None,
) -> None:
    """Simulate a design under Poisson or trace traffic; compare dispatch policies with Theorem 4.

    Examples:
      chaincomp simulate design.json --policy jffc,jsq,jiq,sed,sa-jsq --load 0.7 --replications 5
      chaincomp simulate --example bloom-j20 --method greedy --jobs 1000000
      chaincomp simulate design.json --arrivals trace --trace azure_llm_inference_2023_code.csv --jobs 1000 --service length
    """
    from chaincomp.core.verify import assert_valid, load_design
    from chaincomp.sim import arrivals as arr
    from chaincomp.sim.policies import implied_method, native_policy, resolve_policy
    from chaincomp.sim.runner import simulate as run_sim

    from chaincomp.io import limits

    limits.check_seed(seed, "--seed")
    limits.positive_option(load, "--load", 1e6, lower=1e-6)
    limits.positive_option(trace_rate, "--trace-rate", limits.MAX_ARRIVAL_RATE, lower=limits.MIN_ARRIVAL_RATE)
    if warmup is not None and not math.isfinite(warmup):
        raise UsageError(f"--warmup must be a fraction in [0, 1) or a whole number of jobs, got {warmup}")
    if jobs is not None:
        limits.check_count(jobs, limits.MAX_SIM_JOBS, "jobs", "--jobs")
    if replications is not None:
        limits.check_count(replications, limits.MAX_REPLICATIONS, "replications", "--replications")
    if trace_offset is not None and trace_offset < 0:
        raise UsageError(f"--trace-offset must be ≥ 0, got {trace_offset}")
    if plot is not None:
        from chaincomp.io.output import check_figure_path

        check_figure_path(plot, "--plot")
    # options of one mode given in the other are refused, not ignored
    timeline_only = {"--timeline-policy": timeline_policy, "--on-fail": on_fail, "--thrash-window": thrash_window,
                     "--petals-period": petals_period, "--load-bandwidth": load_bandwidth}
    traffic_only = {"--example": example, "--instance": instance, "--cluster": cluster, "--model": model,
                    "--workload": workload, "--rate": rate, "--target-load": target_load, "--method": method,
                    "--policy": policy, "--arrivals": arrivals, "--trace": trace, "--trace-offset": trace_offset,
                    "--trace-rate": trace_rate, "--jobs": jobs, "--replications": replications, "--service": service,
                    "--warmup": warmup, "--load": load, "--engine": engine, "--plot": plot}
    if events is not None:
        from chaincomp.cli.timeline_render import run_timeline

        if solution_file is None:
            raise UsageError("--events needs a SOLUTION file (the design in effect at t = 0)")
        opt.refuse_unused(traffic_only, "not used with --events (the timeline sets its own traffic and re-planning)")
        run_timeline(solution_file, events, timeline_policy, on_fail or "lost", 3600.0 if thrash_window is None else thrash_window,
                     (600.0 if petals_period is None else petals_period) or None, load_bandwidth, seed, as_json, out)
        return
    opt.refuse_unused(timeline_only, "not used without --events (they configure a timeline simulation)")
    arrivals = arrivals or "poisson"
    service = service or "exp"
    engine = engine or "auto"
    replications = 1 if replications is None else replications
    if arrivals == "poisson" and trace is None:
        opt.refuse_unused({"--trace-offset": trace_offset, "--trace-rate": trace_rate},
                          "not used with Poisson arrivals and no --trace (there is no trace to skip into or rescale)")
    if arrivals == "poisson" and trace_rate is not None:
        raise UsageError("--trace-rate rescales trace arrival times; with Poisson arrivals the trace only gives "
                         "lengths — set the Poisson rate with --rate or --load")
    trace_offset = trace_offset or 0
    instance_given = any(x is not None for x in (example, instance, cluster, model, workload))
    if solution_file is not None and (instance_given or method is not None):
        raise UsageError("give either a SOLUTION file or an instance (--example/--instance/--cluster+--model) with --method, not both")
    if solution_file is None and not instance_given:
        raise UsageError("nothing to simulate: give a SOLUTION JSON, or an instance with --method NAME to solve first")
    if solution_file is not None:
        solution = load_design(solution_file)  # verified; a design below λ/ρ̄ (a baseline's) is simulated as it is
        if target_load is not None:
            raise UsageError("--target-load only applies when solving first; the design in SOLUTION is fixed")
    else:
        problem = common.resolve_problem(example, instance, cluster, model, workload, rate, target_load)
        if method is None and policy:
            method = implied_method(p for item in policy for p in item.split(",") if p.strip())
            if method is not None:
                opt.log.info(f"solving with --method {method} (implied by --policy)")
        solution = methods.run(method or "greedy", problem, seed=seed)
        if solution.allocation.chains:
            assert_valid(solution, allow_rate_miss=True)  # a design below λ/ρ̄ (a baseline's) is simulated as it is
    problem = solution.problem
    limits.check_problem(problem, str(solution_file) if solution_file else problem.name)

    names = [p.strip() for item in (policy or [native_policy(solution)]) for p in item.split(",") if p.strip()]
    policies = [resolve_policy(nm, solution) for nm in names]
    chainless = [nm for nm, pol in zip(names, policies) if isinstance(pol, str)] if not solution.allocation.chains else []
    if chainless:  # e.g. a recompose step that kept too little to form a chain (ν = 0)
        where = str(solution_file) if solution_file else f"the {solution.method} design"
        raise UsageError(f"{where}: the design has no chains (ν = 0 job/s: its placement forms no complete chain), so "
                         f"{', '.join(chainless)} has nothing to dispatch to")

    if arrivals not in ("poisson", "trace"):
        raise UsageError(f"--arrivals must be poisson or trace, got {arrivals!r}")
    stream = None
    lengths_from = None
    if arrivals == "trace":
        if trace is None:  # the shipped Azure code trace (or $CHAINCOMP_DATA's); chaincomp.data
            from chaincomp.data import TRACE_FILE, data_file

            trace = data_file(TRACE_FILE)
        if load is not None or rate is not None:
            raise UsageError("--load/--rate set a Poisson rate; to speed a trace up or down use --trace-rate")
        stream = arr.load_trace(trace, first=jobs, offset=trace_offset, rate=trace_rate)
    elif trace is not None:
        if service != "length":
            raise UsageError("--trace with Poisson arrivals is only used to resample lengths for --service length")
        lengths_from = arr.load_trace(trace, offset=trace_offset)
    lam = rate
    if load is not None:
        if not 0 < load:
            raise UsageError(f"--load must be > 0, got {load}")
        nu = solution.allocation.service_rate
        if nu <= 0:
            raise UsageError("--load needs chains with a service rate; this design has none")
        lam = load * nu
        if not limits.MIN_ARRIVAL_RATE <= lam <= limits.MAX_ARRIVAL_RATE:
            raise UsageError(f"--load {load} gives λ = {lam:.4g} req/s, outside [{limits.MIN_ARRIVAL_RATE:g}, {limits.MAX_ARRIVAL_RATE:g}]")
    warm = None
    if warmup is not None:
        if warmup < 0 or (warmup >= 1 and warmup != int(warmup)):
            raise UsageError(f"--warmup must be a fraction in [0, 1) or a whole number of jobs, got {warmup}")
        warm = warmup if warmup < 1 else int(warmup)

    n_jobs = jobs if jobs is not None else 100_000
    show = not as_json and common.err_console.is_terminal and opt.show_progress()
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} runs"),
                  TimeElapsedColumn(), console=common.err_console, transient=True, disable=not show) as bar:
        task = bar.add_task("simulating", total=len(policies) * replications)
        from chaincomp.interrupts import call_interruptibly

        report = call_interruptibly(  # Ctrl-C / SIGTERM are handled at once, even inside long numpy calls
            run_sim,
            problem, solution.allocation if solution.allocation.chains else None, policies,
            placement=solution.placement, arrivals=arrivals, trace=stream, lengths_from=lengths_from,
            num_jobs=n_jobs, replications=replications, seed=seed, service=service, warmup=warm, rate=lam,
            engine=engine, on_progress=lambda i, n: bar.update(task, completed=i),
        )
    wall = time.perf_counter() - t0
    data = report.to_dict()
    data["design"] = {"source": str(solution_file) if solution_file else f"solved with {method or 'greedy'}",
                      "method": solution.method, "instance": problem.name}
    common.emit_json(data, as_json, out)
    if plot is not None:
        _plot_cdfs(report, plot, data)
    if as_json:
        return
    _print_report(data, wall)
    if out is not None:
        opt.note(f"wrote {out}")
    if plot is not None:
        opt.note(f"wrote {plot}")


def _fmt(x, digits=4):
    return "—" if x is None else f"{x:.{digits}g}"


def _num(x) -> str:
    """Compact fixed-point for table cells (≤ 5 characters below 10⁵)."""
    if x is None:
        return "—"
    a = abs(x)
    return f"{x:.0f}" if a >= 100 else f"{x:.1f}" if a >= 10 else f"{x:.2f}" if a >= 1 else f"{x:.3f}"


def _print_report(data: dict, wall: float) -> None:
    con = common.console
    sim, wl = data["simulation"], data["workload"]
    if wl.get("kind") == "trace":
        ts = wl["trace_stats"]
        src = (f"trace {wl['path']} ({ts['num_requests']} requests from #{wl['offset']}: {_fmt(ts.get('rate_per_s'))} req/s, "
               f"inter-arrival CV {_fmt(ts.get('interarrival_cv'))}, mean in/out {_fmt(ts['mean_input_tokens'])}/"
               f"{_fmt(ts['mean_output_tokens'])} tokens)")
        if wl.get("time_scale", 1.0) != 1.0:
            src += f", time ×{wl['time_scale']:.4g} → {_fmt(wl['simulated']['rate_per_s'])} req/s"
    else:
        src = f"Poisson λ = {_fmt(wl['arrival_rate_per_s'])} req/s"
    con.print(f"[bold]{escape(data['design']['instance'])}[/] · design: {escape(data['design']['method'])} · {escape(src)} · service {sim['service']} · "
              f"{sim['num_jobs']} jobs × {sim['replications']} replication(s), warm-up {sim['warmup_jobs']} · seed {sim['seed']}",
              highlight=False)
    table = Table(title="Response time (s; ± = 95% CI of the mean), mean waiting and service (s)",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("policy", no_wrap=True)
    for col in ("mean", "median", "P95", "P99", "max", "wait", "service", "svc %", "thr/s"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in data["policies"]:
        rt, wt, st = r["response_time_s"], r["waiting_time_s"], r["service_time_s"]
        ci = rt.get("mean_ci95")
        table.add_row(
            escape(r["policy"]),
            _num(rt["mean"]) + (f"±{_num(ci)}" if ci is not None else ""),
            _num(rt["median"]), _num(rt["p95"]), _num(rt["p99"]), _num(rt["max"]),
            _num(wt["mean"]), _num(st["mean"]),
            "—" if r["service_share"] is None else f"{100 * r['service_share']:.1f}",
            _num(r["throughput_per_s"]),
        )
    con.print(table)
    th = data.get("theorem4")
    if th is not None:
        lo, hi = th["response_time_lower_s"], th["response_time_upper_s"]
        tag = "" if th["applies"] else " [dim](reference only: the theorem assumes Poisson arrivals and Exp service)[/]"
        if lo is None:
            con.print(f"[yellow]Theorem 4: unstable at load {_fmt(th['load'])} (λ ≥ ν): the queue grows without bound, "
                      f"so the simulated times grow with --jobs.[/]{tag}")
        else:
            con.print(f"Theorem 4 (JFFC, load ρ = {_fmt(th['load'], 3)}): mean response time ∈ [{_fmt(lo)}, {_fmt(hi)}] s{tag}")
    for r in data["policies"]:
        if r.get("retries"):
            con.print(f"{escape(r['policy'])}: {r['retries']} retries", highlight=False)
    con.print(f"[dim]simulated in {wall:.2f} s[/]")


def _plot_cdfs(report, path: Path, data: dict) -> None:
    """Response-time CDF per policy, each policy's mean ± 95 % CI marked on its curve."""
    import numpy as np

    from chaincomp import plots

    fig, ax = plots.pyplot().subplots(figsize=(7, 4.5))
    by_name = {r["policy"]: r["response_time_s"] for r in data["policies"]}
    for name, x in report.samples.items():
        xs = np.sort(x)
        if xs.size > 20000:  # thin the curve, keep the extremes
            idx = np.unique(np.linspace(0, xs.size - 1, 20000).astype(int))
            xs, ys = xs[idx], (idx + 1) / x.size
        else:
            ys = np.arange(1, xs.size + 1) / xs.size
        (curve,) = ax.step(xs, ys, where="post", label=name)
        rt = by_name.get(name)
        if rt and rt.get("mean") is not None and x.size:
            y_at_mean = float(np.searchsorted(np.sort(x), rt["mean"]) / x.size)
            ax.errorbar([rt["mean"]], [y_at_mean], xerr=[[rt.get("mean_ci95") or 0.0]] * 2, fmt="o",
                        color=curve.get_color(), capsize=4, ms=4)
    th = data.get("theorem4")
    if th and th.get("response_time_lower_s") is not None:
        ax.axvline(th["response_time_lower_s"], color="grey", ls=":", lw=1, label="Thm 4 bounds on the mean")
        ax.axvline(th["response_time_upper_s"], color="grey", ls=":", lw=1)
    p99 = [r["response_time_s"]["p99"] for r in data["policies"] if r["response_time_s"]["p99"] is not None]
    if p99:
        ax.set_xlim(0, 1.15 * max(p99))  # the tail beyond P99 would squash the curves
    plots.finish(ax, f"{data['design']['instance']}: response-time CDF ({data['simulation']['arrivals']}, "
                     f"{data['simulation']['service']} service; ● mean ± 95 % CI)",
                 "response time (s; axis cut at 1.15 × the largest P99)", "fraction of requests ≤ x (CDF)")
    plots.save(fig, path)
