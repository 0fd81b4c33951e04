"""``chaincomp batch``: run instance sets × methods × parameter grids × seeds, resumably."""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path
from typing import Annotated, Optional

import typer

from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app
from chaincomp.io.text import escape
from chaincomp.errors import UsageError


@app.command()
def batch(
    sources: Annotated[Optional[list[str]], typer.Argument(help="Instance files, directories (their *.json), globs, set:NAME (shipped sets, e.g. set:quick) or example:NAME.", show_default=False)] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", "-M", help="Manifest (JSON or TOML) listing instances × runs (methods × params) × seeds.")] = None,
    method: Annotated[Optional[list[str]], typer.Option("--method", "-m", help="Method to run (repeat for several; see `chaincomp solve --list-methods`).")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Parameter grid KEY=V1,V2,… (repeat; e.g. c=auto,5,7  tune=lower,upper  time_limit_s=60  policy=jffc).")] = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="Seeds, e.g. 0-9 or 0,3,5 (default 0, or the manifest's).")] = None,
    out: opt.out("Results JSONL (default: the manifest's `out`, else results.jsonl).") = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an existing results file: skip tasks already recorded.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start the results file afresh.")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="With --resume: run failed tasks again (a newer line supersedes the old).")] = False,
    workers: opt.WorkersOpt = None,
    old_jobs: Annotated[Optional[int], typer.Option("--jobs", hidden=True, help="Renamed --workers (an error that says so).")] = None,
    old_j: Annotated[Optional[int], typer.Option("-j", hidden=True, help="Deprecated alias of --workers.")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run on Dask: tcp://HOST:PORT, or 'local' to start a LocalCluster.")] = None,
    retries: Annotated[Optional[int], typer.Option("--retries", help="Dask: retries of a task whose worker died (default 1).")] = None,
    tls_ca_file: Annotated[Optional[str], typer.Option("--tls-ca-file", help="Dask TLS (tls:// scheduler): CA certificate file.")] = None,
    tls_cert: Annotated[Optional[str], typer.Option("--tls-cert", help="Dask TLS: client certificate file.")] = None,
    tls_key: Annotated[Optional[str], typer.Option("--tls-key", help="Dask TLS: client private key file.")] = None,
    task_timeout: Annotated[Optional[float], typer.Option("--task-timeout", help="Hard wall-clock limit per task (s); default none, or 2×time_limit_s+60 for tasks with a solver time limit.")] = None,
    memory_limit_gb: Annotated[Optional[float], typer.Option("--memory-limit-gb", help="Memory limit per worker (local: RLIMIT_AS; Dask LocalCluster: nanny limit).")] = None,
    provider: Annotated[Optional[list[str]], typer.Option("--provider", help="Extra module (or .py file) registering methods, imported in every worker (needs --run-provider-code).")] = None,
    run_provider_code: Annotated[bool, typer.Option("--run-provider-code", help="Allow importing the --provider / manifest `providers` modules: this RUNS THEIR CODE in this process and every worker.")] = False,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Also export all results to this CSV when done.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the tasks (id, instance, config, seed) and exit.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary to stdout (no progress bar).")] = False,
) -> None:
    """Run many (instance, method, parameters, seed) tasks; one JSON line per finished task.

    Examples:
      chaincomp batch instances/ --method greedy --param tune=lower,upper --seeds 0-4 --out runs.jsonl
      chaincomp batch --manifest study.toml --workers 8 --resume
      chaincomp batch 'sets/*.json' -m greedy -m milp -p time_limit_s=60 --scheduler tcp://10.0.0.5:8786

    Exit code 0 when every task succeeded, 1 when some failed (all are still recorded), 2 on usage errors.
    """
    from chaincomp import methods as method_registry
    from chaincomp.batch import tasks as tk
    from chaincomp.batch.manifest import load_manifest
    from chaincomp.batch.runner import run_batch
    from chaincomp.batch.store import ResultStore, export_csv, read_records
    from chaincomp.batch.worker import load_providers

    if old_jobs is not None:
        raise opt.renamed("batch", "--jobs", "--workers/-w", "worker processes", "simulated jobs")
    if old_j is not None:  # -j never meant anything else: a deprecated alias, not an error
        if workers is not None:
            raise UsageError("give --workers/-w only (-j is its deprecated alias)")
        opt.log.warning("batch -j is deprecated; use --workers/-w")
        workers = old_j
    jobs = workers
    from chaincomp.io import limits

    if jobs is not None and not 1 <= jobs <= limits.MAX_WORKERS:
        raise UsageError(f"--workers: expected 1..{limits.MAX_WORKERS} worker processes, got {jobs}")
    limits.positive_option(task_timeout, "--task-timeout", limits.MAX_TASK_TIMEOUT_S)
    limits.positive_option(memory_limit_gb, "--memory-limit-gb", limits.MAX_WORKER_MEMORY_GB, lower=limits.MIN_WORKER_MEMORY_GB)
    providers = list(provider or [])
    if manifest is not None:
        if sources or method or param:
            raise UsageError("give either --manifest or instance paths with --method/--param, not both")
        mf = load_manifest(manifest, timeout_s=task_timeout)
        if seeds is not None:
            raise UsageError("--seeds cannot override a manifest; set `seeds` in it")
        task_list = mf.tasks
        providers = mf.providers + providers
        out = out or mf.out
    else:
        if not sources:
            raise UsageError("give instance files/directories/globs (or --manifest FILE)")
        refs = tk.resolve_instances(sources)
        grid = tk.parse_param_options(param or [])
        seed_list = tk.parse_seeds(seeds)
        tk.check_task_count(len(refs) * len(method or []) * len(seed_list) * math.prod(len(v) for v in grid.values()), "batch")
        task_list = tk.expand_grid(refs, method or [], grid, seed_list, task_timeout)
        task_list = tk.dedupe(task_list)
    out = out or Path("results.jsonl")
    if resume and overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    if retry_failed and not resume:
        raise UsageError("--retry-failed needs --resume")
    if retries is not None and retries < 0:
        raise UsageError(f"--retries must be ≥ 0, got {retries}")
    if not scheduler:  # Dask-only options on the local pool
        opt.refuse_unused({"--retries": retries, "--tls-ca-file": tls_ca_file, "--tls-cert": tls_cert, "--tls-key": tls_key},
                          "only used with --scheduler (Dask); the local process pool does not retry or use TLS")
    retries = 1 if retries is None else retries

    if providers and not run_provider_code:
        names = ", ".join(providers)
        src = "the manifest names" if manifest is not None and mf.providers else "--provider names"
        raise UsageError(f"{src} method provider module(s) {names}; importing them runs their code in this process and in "
                         "every worker, so it needs the explicit flag --run-provider-code")
    # fail fast on unknown methods (providers are imported here too, as in the workers)
    load_providers(providers)
    known = method_registry.available()
    unknown = sorted({t.method for t in task_list} - set(known))
    if unknown:
        raise UsageError(f"unknown method(s) {', '.join(unknown)}; available: {', '.join(known)}")

    if dry_run:
        rows = [{"task_id": t.task_id, "instance": t.instance.label, "config": t.config, "seed": t.seed, "timeout_s": t.timeout_s} for t in task_list]
        if as_json:
            typer.echo(json.dumps({"tasks": rows}, indent=2))
        else:
            for r in rows:
                typer.echo(f"{r['task_id']}  {r['instance']}  {r['config']}  seed={r['seed']}")
            typer.echo(f"{len(rows)} task(s)")
        return

    if scheduler:
        from chaincomp.batch.dask_exec import DaskExecutor, tls_security

        if scheduler == "local" and any(x is not None for x in (tls_ca_file, tls_cert, tls_key)):
            raise UsageError("--tls-* options are for a remote scheduler; --scheduler local uses its own temporary certificates")
        executor = DaskExecutor(scheduler, jobs=jobs, retries=retries, memory_limit_gb=memory_limit_gb,
                                security=tls_security(tls_ca_file, tls_cert, tls_key))
    else:
        from chaincomp.batch.local import LocalPool

        executor = LocalPool(jobs, memory_limit_gb=memory_limit_gb)

    progress = None
    if not as_json and common.err_console.is_terminal and opt.show_progress():
        from chaincomp.batch.progress import RichBatchProgress

        progress = RichBatchProgress(common.err_console, description=out.name)

    def _sigterm(signum, frame):  # make `kill PID` stop workers and close the store cleanly
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, _sigterm)
    mode = "resume" if resume else ("overwrite" if overwrite else "new")
    try:
        with ResultStore(out, mode) as store:
            summary = run_batch(task_list, store, executor, providers, retry_failed=retry_failed, progress=progress)
    finally:
        signal.signal(signal.SIGTERM, old)
        close = getattr(executor, "close", None)
        if close is not None:
            close()

    if csv_out is not None:
        export_csv(read_records(out), csv_out)
    data = summary.to_dict()
    if csv_out is not None:
        data["csv"] = str(csv_out)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:

        c = common.console
        c.print(
            f"{summary.total} task(s): [green]{summary.ok} ok[/], [red]{summary.failed} failed[/], "
            f"{summary.invalid} invalid, {summary.skipped} skipped (already done) — {summary.wall_time_s:.1f} s → {escape(str(out))}",
            soft_wrap=True,
        )
        for f in summary.failures[:10]:
            err = f.get("error") or {}
            c.print(f"  [red]{f['task_id']}[/] {escape(str(err.get('type')))}: {escape(str(err.get('message')))}", highlight=False, soft_wrap=True)
        if len(summary.failures) > 10 or summary.failed + summary.invalid > len(summary.failures[:10]):
            c.print(f"  … see `chaincomp report {escape(str(out))}` for all failures", highlight=False)
        if csv_out is not None:
            opt.note(f"wrote {csv_out}")
    if summary.failed or summary.invalid:
        raise typer.Exit(1)
