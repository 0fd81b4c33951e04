"""Summaries and comparison plots of a batch results file (``chaincomp report RESULTS.jsonl``).

Groups: by ``config`` (method + parameters, the default) or by ``method``. Per group:

- ``tasks``/``ok``/``failed``/``invalid`` counts;
- objective = ``job_servers`` (SPEC §3.2: job servers needed to reach λ/ρ̄): mean and median over
  successful tasks, and ``ratio_to_best``: mean of job_servers / the best job_servers any group
  reached on the same (instance, seed) — 1.0 means the group always matched the best — with
  ``best_count`` the number of (instance, seed) cases where it did;
- ``gap``: mean solver gap (MILP runs that report one);
- ``response_time_lower_s`` / ``upper_s``: mean Theorem-4 bounds; ``simulated_response_time_s``:
  mean simulated response time where the task had a simulation (``policy``/``sim_jobs`` or
  ``tune = sim``);
- ``wall_time_s``: mean, median and total of the task time in the worker; ``method_time_s`` total.

Means skip missing values (``None``); a statistic with no value at all is ``None``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from chaincomp.batch.store import flat_row


def _mean(xs: list[float]) -> float | None:
    xs = [float(x) for x in xs if x is not None and math.isfinite(float(x))]
    return sum(xs) / len(xs) if xs else None


def _median(xs: list[float]) -> float | None:
    xs = [float(x) for x in xs if x is not None and math.isfinite(float(x))]
    return statistics.median(xs) if xs else None


def summarize(records: Iterable[dict[str, Any]], by: str = "config") -> dict[str, Any]:
    """The ``--json`` summary: ``groups`` (one dict per config/method) and ``failures``."""
    if by not in ("config", "method"):
        raise ValueError(f"group by 'config' or 'method', not {by!r}")
    rows = [flat_row(r) for r in records]
    # best objective per (instance, seed) across all groups
    best: dict[tuple, float] = {}
    for r in rows:
        if r["status"] == "ok" and r["job_servers"] is not None:
            key = (r["instance"], r["seed"])
            best[key] = min(best.get(key, math.inf), r["job_servers"])
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r[by] or "?"].append(r)
    out = []
    for name in sorted(groups):
        g = groups[name]
        ok = [r for r in g if r["status"] == "ok"]
        js = [r["job_servers"] for r in ok]
        ratios, best_count = [], 0
        for r in ok:
            b = best.get((r["instance"], r["seed"]))
            if r["job_servers"] is not None and b:
                ratios.append(r["job_servers"] / b)
                best_count += r["job_servers"] == b
        walls = [r["wall_time_s"] for r in g if r["wall_time_s"] is not None]
        out.append(
            {
                "group": name,
                "method": g[0]["method"],
                "tasks": len(g),
                "ok": len(ok),
                "failed": sum(r["status"] == "failed" for r in g),
                "invalid": sum(r["status"] == "invalid" for r in g),
                "job_servers_mean": _mean(js),
                "job_servers_median": _median(js),
                "ratio_to_best": _mean(ratios),
                "best_count": best_count,
                "gap_mean": _mean([r["gap"] for r in ok]),
                "response_time_lower_s": _mean([r["response_time_lower_s"] for r in ok]),
                "response_time_upper_s": _mean([r["response_time_upper_s"] for r in ok]),
                "simulated_response_time_s": _mean([r["simulated_response_time_s"] for r in ok]),
                "wall_time_mean_s": _mean(walls),
                "wall_time_median_s": _median(walls),
                "wall_time_total_s": sum(walls) if walls else None,
                "method_time_total_s": sum(r["method_time_s"] for r in g if r["method_time_s"] is not None),
            }
        )
    failures = [
        {"task_id": r["task_id"], "instance": r["instance"], "config": r["config"], "seed": r["seed"],
         "status": r["status"], "error_type": r["error_type"], "error_message": r["error_message"]}
        for r in rows
        if r["status"] != "ok"
    ]
    return {"records": len(rows), "by": by, "cases": len(best), "groups": out, "failures": failures}


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------
PLOT_FILES = ("job_servers.png", "ratio_to_best.png", "response_time.png", "wall_time.png")


def plot(records: Iterable[dict[str, Any]], out_dir: str | Path, by: str = "config") -> list[Path]:
    """Comparison plots (PNG, matplotlib Agg) into ``out_dir``; returns the files written.

    A plot no task has a value for (e.g. every task failed) is not written — an empty figure would
    look like a result; the caller names what is missing (:data:`PLOT_FILES`).

    - ``job_servers.png``: box plot of the objective — job servers needed (SPEC §3.2) — per group;
    - ``ratio_to_best.png``: box plot of job_servers / best on the same (instance, seed);
    - ``response_time.png``: mean Theorem-4 lower/upper bounds and simulated mean response time per
      group over its tasks, with 95 % Student-t confidence intervals over the tasks
      (:func:`chaincomp.analysis.confidence.ci_half_width`); a series no task has is left out;
    - ``wall_time.png``: box plot of the task wall time per group (log scale).
    """
    from chaincomp import plots
    from chaincomp.analysis.confidence import ci_half_width

    from chaincomp.io.output import ensure_dir

    plt = plots.pyplot()
    out_dir = Path(out_dir)
    ensure_dir(out_dir, "plot folder")
    records = list(records)
    rows = [flat_row(r) for r in records]
    summary = summarize(records, by)
    names = [g["group"] for g in summary["groups"]]
    ok_rows = [r for r in rows if r["status"] == "ok"]
    best: dict[tuple, float] = {}
    for r in ok_rows:
        if r["job_servers"] is not None:
            key = (r["instance"], r["seed"])
            best[key] = min(best.get(key, math.inf), r["job_servers"])
    n_tasks = f"{summary['records']} task(s), {summary['cases']} (instance, seed) case(s)"

    def per_group(fn, source=None) -> list[list[float]]:
        data = []
        for n in names:
            vals = [fn(r) for r in (ok_rows if source is None else source) if (r[by] or "?") == n]
            data.append([v for v in vals if v is not None and math.isfinite(v)])
        return data

    width = max(6.0, 1.1 * len(names) + 2)
    files = []
    xlabel = f"{by} (method + parameters)" if by == "config" else "method"

    def boxplot(data, title, ylabel, fname, log=False):
        if not any(data):
            return
        fig, ax = plt.subplots(figsize=(width, 4.5))
        shown = [d if d else [math.nan] for d in data]
        ax.boxplot(shown, showmeans=True)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right", fontsize=8)
        if log:
            ax.set_yscale("log")
        plots.finish(ax, f"{title} — {n_tasks} (box: quartiles, ▲ mean)", xlabel, ylabel, legend=False)
        files.append(plots.save(fig, out_dir / fname))

    boxplot(per_group(lambda r: r["job_servers"]), "Objective per configuration",
            "job servers needed (GCA objective, SPEC §3.2)", "job_servers.png")
    boxplot(
        per_group(lambda r: (r["job_servers"] / best[(r["instance"], r["seed"])]) if r["job_servers"] is not None and best.get((r["instance"], r["seed"])) else None),
        "Objective relative to the best configuration on the same case",
        "job servers needed ÷ best on the same (instance, seed)",
        "ratio_to_best.png",
    )
    # response times: means over tasks with 95 % CIs
    series = [
        ("Theorem-4 lower bound", per_group(lambda r: r["response_time_lower_s"])),
        ("simulated", per_group(lambda r: r["simulated_response_time_s"])),
        ("Theorem-4 upper bound", per_group(lambda r: r["response_time_upper_s"])),
    ]
    if any(any(data) for _, data in series):
        fig, ax = plt.subplots(figsize=(width, 4.5))
        x = list(range(len(names)))
        w = 0.27
        for i, (label, data) in enumerate(series):
            means = [sum(d) / len(d) if d else None for d in data]
            plots.bars(ax, [xi + (i - 1) * w for xi in x], means, w, label, ci=[ci_half_width(d) for d in data])
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        plots.finish(ax, f"Mean response time per configuration (± 95 % CI over tasks) — {n_tasks}", xlabel,
                     "mean response time (s)")
        files.append(plots.save(fig, out_dir / "response_time.png"))
    data = per_group(lambda r: r["wall_time_s"] or None, source=rows)
    boxplot(data, "Task wall time", "task wall time (s, log scale)", "wall_time.png", log=True)
    return files
