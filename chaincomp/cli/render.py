"""Rich renderings of solutions: block-placement map, chains table, metrics, tuning scores."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from chaincomp.core.solution import Solution
from chaincomp.io.text import escape


def _fmt(x, digits: int = 4, unit: str = "") -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}{unit}"
    return f"{x}{unit}"


def placement_map(solution: Solution, width: int = 60) -> Table:
    """One row per server; its block range drawn across 1..L (scaled to ``width`` columns)."""
    p = solution.problem
    L = p.num_blocks
    cols = min(L, width)
    table = Table(title=f"Block placement (L = {L})", title_justify="left", show_edge=False)
    table.add_column("server")
    table.add_column("blocks", justify="right")
    table.add_column(f"1{' ' * (cols - len(str(L)) - 1)}{L}", no_wrap=True)
    a, m = solution.placement.first_block, solution.placement.num_blocks
    for j, sid in enumerate(p.server_ids):
        if m[j] == 0:
            table.add_row(escape(sid), "—", Text("·" * cols, style="dim"))
            continue
        lo = (int(a[j]) - 1) * cols // L
        hi = max(lo + 1, (int(a[j]) + int(m[j]) - 1) * cols // L)
        bar = Text("·" * lo, style="dim")
        bar.append("█" * (hi - lo), style="cyan")
        bar.append("·" * (cols - hi), style="dim")
        table.add_row(escape(sid), f"{a[j]}–{a[j] + m[j] - 1}", bar)
    return table


def chains_table(solution: Solution, limit: int = 30) -> Table:
    p = solution.problem
    chains = solution.allocation.chains
    title = f"Chains, fastest first ({len(chains)})"
    table = Table(title=title, title_justify="left", show_edge=False)
    for col, just in (("#", "right"), ("servers", "left"), ("blocks per hop", "left"), ("T_k (s)", "right"), ("capacity", "right")):
        table.add_column(col, justify=just)
    for k, (ch, c) in enumerate(zip(chains, solution.allocation.capacities)):
        if k == limit:
            table.add_row("…", f"{len(chains) - limit} more (see --json)", "", "", "")
            break
        table.add_row(
            str(k + 1),
            " → ".join(escape(p.server_ids[j]) for j in ch.servers),
            " ".join(str(b) for b in ch.blocks),
            f"{ch.service_time_s:.6g}",
            str(c),
        )
    return table


def metrics_table(solution: Solution) -> Table:
    m = solution.metrics
    p = solution.problem
    table = Table(title="Design", title_justify="left", show_header=False, show_edge=False)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [
        ("method", escape(solution.method)),
        ("cache reservation c", _fmt(solution.parameters.get("cache_reservation"))),
        ("arrival rate λ (req/s)", _fmt(p.arrival_rate)),
        ("target load ρ̄", _fmt(p.target_load)),
        ("job servers needed (objective)", _fmt(m.get("job_servers"))),
        ("total capacity Σc", _fmt(m.get("total_capacity"))),
        ("service rate ν (job/s)", _fmt(m.get("service_rate"))),
        ("load λ/ν", _fmt(m.get("load"))),
        ("mean response time, Theorem-4 lower (s)", _fmt(m.get("response_time_lower_s"))),
        ("mean response time, Theorem-4 upper (s)", _fmt(m.get("response_time_upper_s"))),
        ("surrogate Σc/λ (s)", _fmt(m.get("surrogate_response_time_s"))),
    ]
    wall = solution.provenance.get("wall_time_s")
    if wall is not None:
        rows.append(("wall time (s)", f"{wall:.3g}"))
    for k, v in rows:
        table.add_row(k, v)
    return table


def tuning_table(solution: Solution, top: int = 5) -> Table | None:
    tuning = solution.extra.get("tuning")
    if not tuning or not tuning.get("candidates"):
        return None
    score = tuning["score"]
    rows = sorted(tuning["candidates"], key=lambda r: (r[f"score_{score}"], r["cache_reservation"]))[:top]
    table = Table(
        title=f"Best c by '{score}' ({len(tuning['candidates'])} feasible of 1..{tuning['c_max']})",
        title_justify="left",
        show_edge=False,
    )
    for col in ("c", "chains", "ν (job/s)", "surrogate (s)", "lower (s)", "upper (s)") + (("sim (s)",) if score == "sim" else ()):
        table.add_column(col, justify="right")
    for r in rows:
        cells = [
            str(r["cache_reservation"]),
            str(r["num_chains"]),
            _fmt(r["service_rate"]),
            _fmt(r.get("score_surrogate")),
            _fmt(r.get("score_lower"), 6),
            _fmt(r.get("score_upper"), 6),
        ]
        if score == "sim":
            cells.append(_fmt(r.get("score_sim"), 6))
        table.add_row(*cells)
    return table


def solver_line(solution: Solution) -> str | None:
    s = solution.solver
    if not s:
        return None
    proved = s.get("proved_optimal")
    verdict = "[green]proved optimal[/]" if proved else "[yellow]not proved optimal[/]"
    return (
        f"solver {escape(s.get('name'))} {escape(s.get('version', ''))}: status {escape(s.get('status'))}, objective {_fmt(s.get('objective'))}, "
        f"bound {_fmt(s.get('bound'))}, gap {_fmt(s.get('gap'))}, {_fmt(s.get('time_s'), 3)} s — {verdict}"
    )


def print_solution(console: Console, solution: Solution, top: int = 5) -> None:
    """Everything a person wants to see about one solution."""
    console.print(placement_map(solution))
    console.print()
    if solution.allocation.chains:
        console.print(chains_table(solution))
        console.print()
    console.print(metrics_table(solution))
    tt = tuning_table(solution, top)
    if tt is not None:
        console.print()
        console.print(tt)
    line = solver_line(solution)
    if line:
        console.print()
        console.print(line)
    for note in solution.extra.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(note)}")


def petals_commands(solution: Solution) -> list[str]:
    """One PETALS server command per used server (``--block_indices`` is 0-based, half-open)."""
    p = solution.problem
    model = p.meta.get("hf_repo") or p.meta.get("model_name") or "MODEL_NAME"
    lines = []
    a, m = solution.placement.first_block, solution.placement.num_blocks
    for j, sid in enumerate(p.server_ids):
        if m[j] > 0:
            lines.append(
                f"python -m petals.cli.run_server {model} --block_indices {int(a[j]) - 1}:{int(a[j]) + int(m[j]) - 1}  # server {sid}"
            )
    return lines
