"""``chaincomp report``: per-method summary tables (and plots) of a batch results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app
from chaincomp.io.text import escape
from chaincomp.errors import UsageError


def _fmt(x, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="Results JSONL written by `chaincomp batch`.")],
    by: Annotated[str, typer.Option("--by", help="Group by 'config' (method + parameters) or 'method'.")] = "config",
    plot_dir: Annotated[Optional[Path], typer.Option("--plot", help="Write comparison plots (PNG) into this directory.")] = None,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Export one CSV row per task.")] = None,
    failures: Annotated[int, typer.Option("--failures", help="How many failed tasks to list.")] = 10,
    export_solution: Annotated[Optional[str], typer.Option("--export-solution", help="Write the Solution JSON of task ID (prefix ok) to --out.")] = None,
    out: opt.out("Write the summary JSON (with --export-solution: the Solution JSON) to this file.") = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarize a batch: objective (job servers), ratio to the best, gap, predicted and simulated
    response time, wall time — one row per method configuration.

    Examples:
      chaincomp report runs.jsonl
      chaincomp report runs.jsonl --by method --plot plots/ --csv runs.csv
      chaincomp report runs.jsonl --export-solution 3f2a9c --out design.json && chaincomp verify design.json
    """
    from chaincomp.batch import report as rp
    from chaincomp.batch.store import export_csv, read_records

    if by not in ("config", "method"):
        raise UsageError(f"--by must be 'config' or 'method', got {by!r}")
    skipped: list[tuple[int, str]] = []
    records = read_records(results, skipped=skipped)
    if skipped:  # bad lines are skipped and counted, never the end of the report
        shown = "; ".join(f"line {n}: {escape(why)}" for n, why in skipped[:5])
        more = f"; … {len(skipped) - 5} more" if len(skipped) > 5 else ""
        common.err_console.print(f"[yellow]warning:[/] skipped {len(skipped)} malformed line(s) of {escape(str(results))}: {shown}{more}",
                                 highlight=False, soft_wrap=True)
    if not records:
        raise UsageError(f"{results}: no task record to report" + (f" (all {len(skipped)} line(s) malformed)" if skipped else " (the file is empty)"))
    if export_solution is not None:
        opt.refuse_unused({"--plot": plot_dir, "--csv": csv_out}, "these summarize the batch; --export-solution writes "
                          "one task's design. Run them as two commands")
        matches = [r for r in records if str(r.get("task_id", "")).startswith(export_solution)]
        if not matches:
            ids = ", ".join(str(r.get("task_id")) for r in records[:3])
            raise UsageError(f"--export-solution {export_solution!r}: no task id in {results} starts with it; its "
                             f"{len(records)} task id(s) begin {ids}{', …' if len(records) > 3 else ''} "
                             f"(all are in `chaincomp report {results} --csv FILE`, column task_id)")
        if len(matches) > 1:
            ids = ", ".join(str(r.get("task_id")) for r in matches[:3])
            raise UsageError(f"--export-solution {export_solution!r} matches {len(matches)} tasks ({ids}"
                             f"{', …' if len(matches) > 3 else ''}); give a longer id prefix")
        sol = matches[0].get("solution")
        if sol is None:
            raise UsageError(f"task {matches[0]['task_id']} has no solution (status {matches[0].get('status')})")
        if out is None and not as_json:
            raise UsageError("--export-solution needs --out FILE (or --json for stdout)")
        common.emit_json(sol, as_json, out)
        if out is not None and not as_json:
            opt.note(f"wrote {out}")
        return
    summary = rp.summarize(records, by)
    summary["file"] = str(results)
    summary["skipped_lines"] = len(skipped)
    if csv_out is not None:
        export_csv(records, csv_out)
        summary["csv"] = str(csv_out)
    if plot_dir is not None:
        summary["plots"] = [str(p) for p in rp.plot(records, plot_dir, by)]
        missing = [f for f in rp.PLOT_FILES if f not in {Path(p).name for p in summary["plots"]}]
        if missing:
            opt.log.warning(f"no task has the values of {', '.join(missing)} (failed tasks have none); not written")
    if as_json:
        typer.echo(json.dumps(summary, indent=2, allow_nan=False))
        return
    if out is not None:
        common.emit_json(summary, False, out)
    c = common.console
    if not c.is_terminal:  # piped/redirected: do not squeeze the table into 80 columns
        from rich.console import Console

        c = Console(width=max(c.width, 200))
    table = Table(title=f"{escape(str(results))} — {summary['records']} task(s), {summary['cases']} (instance, seed) case(s)")
    for col, justify in (
        (by, "left"),
        ("ok/total", "right"),
        ("job servers\nmean", "right"),
        ("median", "right"),
        ("÷ best", "right"),
        ("best", "right"),
        ("gap", "right"),
        ("T̄ lower\n(s)", "right"),
        ("T̄ upper\n(s)", "right"),
        ("T̄ sim\n(s)", "right"),
        ("wall mean\n(s)", "right"),
        ("wall total\n(s)", "right"),
    ):
        table.add_column(col, justify=justify)
    for g in summary["groups"]:
        table.add_row(
            escape(g["group"]),
            f"{g['ok']}/{g['tasks']}",
            _fmt(g["job_servers_mean"]),
            _fmt(g["job_servers_median"]),
            _fmt(g["ratio_to_best"]),
            str(g["best_count"]),
            _fmt(g["gap_mean"]),
            _fmt(g["response_time_lower_s"]),
            _fmt(g["response_time_upper_s"]),
            _fmt(g["simulated_response_time_s"]),
            _fmt(g["wall_time_mean_s"], 3),
            _fmt(g["wall_time_total_s"], 3),
        )
    c.print(table)
    fails = summary["failures"]
    if fails:
        c.print(f"[red]{len(fails)} task(s) not ok[/]" + (f" (first {failures}):" if len(fails) > failures else ":"))
        for f in fails[:failures]:
            c.print(
                f"  {f['task_id']}  {escape(str(f['instance']))}  {escape(str(f['config']))}  seed={f['seed']}  "
                f"[red]{escape(str(f['error_type']))}[/]: {escape(str(f['error_message']))}",
                highlight=False,
                soft_wrap=True,
            )
    if out is not None:
        opt.note(f"wrote {out}")
    if "csv" in summary:
        opt.note(f"wrote {summary['csv']}")
    if "plots" in summary:
        opt.note(f"wrote {len(summary['plots'])} plot(s) into {plot_dir}: {', '.join(Path(p).name for p in summary['plots'])}")
