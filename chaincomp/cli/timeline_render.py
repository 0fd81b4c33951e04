"""Rendering for ``chaincomp simulate DESIGN --events EVENTS.json`` (the simulation itself is
:func:`chaincomp.elastic.timeline_sim.simulate_timeline`)."""

from __future__ import annotations

import json
from pathlib import Path

from rich import box
from rich.table import Table

from chaincomp.cli import common


def _f(x, d=4):
    return "—" if x is None else f"{x:.{d}g}"


def run_timeline(solution_file: Path, events_file: Path, policies, on_fail, thrash_window, petals_period,
                 load_bandwidth, seed, as_json, out) -> None:
    from chaincomp.elastic.events import load_elastic_design, load_events
    from chaincomp.elastic.timeline_sim import POLICY_NAMES, simulate_timeline

    solution = load_elastic_design(solution_file)  # a design below λ/ρ̄ is replayed as it is (it queues)
    timeline = load_events(events_file, solution.problem)
    names = [p.strip() for item in (policies or list(POLICY_NAMES)) for p in item.split(",") if p.strip()]
    data = simulate_timeline(solution, timeline, names, seed=seed, on_fail=on_fail, thrash_window_s=thrash_window,
                             load_bandwidth=load_bandwidth, petals_period_s=petals_period)
    data["timeline"]["source"] = str(events_file)
    common.emit_json(json.dumps(data, indent=2, allow_nan=False, default=float), as_json, out)
    if as_json:
        return
    con = common.console
    sim = data["simulation"]
    con.print(f"[bold]{data['design']['instance']}[/] · {data['timeline']['events']} events over "
              f"{data['timeline']['horizon_s']:g} s · {sim['jobs']} jobs · JFFC, Exp service · on fail: {sim['on_fail']} · "
              f"seed {sim['seed']}", highlight=False)
    t = Table(title="Whole timeline per policy", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("policy", "mean (s)", "P99 (s)", "lost", "dropped", "unfinished", "reload GB", "reload s", "thrash", "changes"):
        t.add_column(col, justify="left" if col == "policy" else "right")
    for p in data["policies"]:
        tt = p["total"]
        t.add_row(p["policy"], _f(tt["mean_response_s"]), _f(tt["p99_response_s"]), str(tt["jobs_lost"]),
                  str(tt["jobs_dropped_by_replan"]), str(tt["unfinished"]), _f(tt["reload_gb"]), _f(tt["reload_s"]),
                  str(tt["thrash_blocks"]), str(tt["design_changes"]))
    con.print(t)
    w = Table(title="Per window: mean / P99 response (s), lost, reload GB, thrash", title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False)
    w.add_column("window")
    for p in data["policies"]:
        w.add_column(p["policy"], justify="right")
    for i, row in enumerate(data["policies"][0]["windows"]):
        cells = []
        for p in data["policies"]:
            r = p["windows"][i]
            cells.append(f"{_f(r['mean_response_s'], 3)}/{_f(r['p99_response_s'], 3)} {r['jobs_lost']} "
                         f"{_f(r['reload_gb'], 3)} {r['thrash_blocks']}")
        w.add_row(f"{row['start_s']:g}–{row['end_s']:g}", *cells)
    con.print(w)
    if out is not None:
        con.print(f"wrote {out}")
