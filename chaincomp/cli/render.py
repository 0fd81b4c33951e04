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


#: Rows of the placement map and chains table shown unless ``--all`` is given.
MAP_ROWS = 40
CHAIN_ROWS = 30
#: Above this many rows, ``--all`` prints plain aligned lines instead of a rich table (a rich
#: table costs milliseconds per row: ~30 s for 10 000 servers).
PLAIN_ROWS = 200


def _bar(a: int, m: int, L: int, cols: int) -> tuple[int, int]:
    lo = (a - 1) * cols // L
    return lo, max(lo + 1, (a + m - 1) * cols // L)


def placement_map(solution: Solution, width: int = 60, show_all: bool = False, limit: int = MAP_ROWS):
    """One row per server hosting blocks, its range drawn across 1..L (scaled to ``width`` columns).

    Folded by default (issue 13 item 6, issue 14): servers hosting no block are counted in one
    row, and beyond ``limit`` servers the rest are counted too; ``show_all`` lists every server.
    """
    p = solution.problem
    L = p.num_blocks
    cols = min(L, width)
    a_all, m_all = solution.placement.first_block.tolist(), solution.placement.num_blocks.tolist()
    ids = p.server_ids
    rows = range(len(ids)) if show_all else [j for j in range(len(ids)) if m_all[j] > 0]
    used = sum(1 for m in m_all if m > 0)
    unused = len(ids) - used
    title = f"Block placement (L = {L})"
    if show_all and len(rows) > PLAIN_ROWS:
        return _plain_map(f"{title}: {used} of {len(ids)} servers host blocks", ids, a_all, m_all, L, cols)
    shown = rows if show_all else rows[:limit]
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("server")
    table.add_column("blocks", justify="right")
    table.add_column(f"1{' ' * (cols - len(str(L)) - 1)}{L}", no_wrap=True)
    for j in shown:
        a, m = a_all[j], m_all[j]
        if m == 0:
            table.add_row(escape(ids[j]), "—", Text("·" * cols, style="dim"))
            continue
        lo, hi = _bar(a, m, L, cols)
        bar = Text("·" * lo, style="dim")
        bar.append("█" * (hi - lo), style="cyan")
        bar.append("·" * (cols - hi), style="dim")
        table.add_row(escape(ids[j]), f"{a}–{a + m - 1}", bar)
    if not show_all:
        if len(rows) > len(shown):
            table.add_row("…", "", Text(f"{len(rows) - len(shown)} more servers host blocks (--all lists them, --json has all)", style="dim"))
        if unused:
            table.add_row("…", "—", Text(f"{unused} servers host no block (--all lists them)", style="dim"))
    return table


def _plain_map(title: str, ids, a_all, m_all, L: int, cols: int) -> Text:
    """Every server as one aligned plain line (fast for thousands of servers)."""
    w_id = max(6, max((len(s) for s in ids), default=0))
    w_b = max(6, len(f"{L}–{L}"))
    lines = [title, f"{'server':<{w_id}} {'blocks':>{w_b}} 1{' ' * (cols - len(str(L)) - 1)}{L}"]
    for sid, a, m in zip(ids, a_all, m_all):
        if m == 0:
            lines.append(f"{sid:<{w_id}} {'—':>{w_b}} {'·' * cols}")
        else:
            lo, hi = _bar(a, m, L, cols)
            lines.append(f"{sid:<{w_id}} {f'{a}–{a + m - 1}':>{w_b}} {'·' * lo}{'█' * (hi - lo)}{'·' * (cols - hi)}")
    return Text("\n".join(lines), no_wrap=True, overflow="ignore")


def chains_table(solution: Solution, limit: int | None = CHAIN_ROWS) -> Table:
    """Chains fastest first; beyond ``limit`` (None: no limit) one row counts the rest."""
    p = solution.problem
    chains = solution.allocation.chains
    title = f"Chains, fastest first ({len(chains)})"
    table = Table(title=title, title_justify="left", show_edge=False)
    for col, just in (("#", "right"), ("servers", "left"), ("blocks per hop", "left"), ("T_k (s)", "right"), ("capacity", "right")):
        table.add_column(col, justify=just)
    for k, (ch, c) in enumerate(zip(chains, solution.allocation.capacities)):
        if limit is not None and k == limit:
            table.add_row("…", f"{len(chains) - limit} more (--all, --json)", "", "", "")
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
        ("surrogate Σc/λ, Σc = total capacity (s)", _fmt(m.get("surrogate_response_time_s"))),
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
    for col in ("c", "chains", "ν (job/s)", "c·K(c)/λ (s)", "lower (s)", "upper (s)") + (("sim (s)",) if score == "sim" else ()):
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
    scope = " for this placement" if s.get("bound_scope") == "placement" else ""
    verdict = f"[green]proved optimal{scope}[/]" if proved else f"[yellow]not proved optimal{scope}[/]"
    bound = "bound (this placement only)" if scope else "bound"
    return (
        f"solver {escape(s.get('name'))} {escape(s.get('version', ''))}: status {escape(s.get('status'))}, objective {_fmt(s.get('objective'))}, "
        f"{bound} {_fmt(s.get('bound'))}, gap {_fmt(s.get('gap'))}, {_fmt(s.get('time_s'), 3)} s — {verdict}"
    )


def print_solution(console: Console, solution: Solution, top: int = 5, show_all: bool = False) -> None:
    """Everything a person wants to see about one solution (``show_all``: every server and chain)."""
    console.print(placement_map(solution, show_all=show_all))
    console.print()
    if solution.allocation.chains:
        console.print(chains_table(solution, limit=None if show_all else CHAIN_ROWS))
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
