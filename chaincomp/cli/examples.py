"""``chaincomp examples``: list the embedded example instances."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chaincomp.cli import common
from chaincomp.cli import options as opt
from chaincomp.cli.app import app


@app.command()
def examples(
    as_json: opt.JsonOpt = False,
    show: Annotated[str, typer.Option("--show", help="Print the JSON file of this example instead of the list.")] = "",
    out: opt.out("Write the list JSON (with --show: the example's instance file) to this file.") = None,
) -> None:
    """List the embedded examples usable with `--example NAME` (name, description, J, L, λ).

    Examples:
      chaincomp examples
      chaincomp examples --show bloom-j20 --out my-instance.json
    """
    from chaincomp.instances.examples import example_path, list_examples, load_example

    if show:
        text = example_path(show).read_text(encoding="utf-8")
        if out is not None:
            from chaincomp.io.output import atomic_write

            atomic_write(out, text, "instance file")
            opt.note(f"wrote {out}")
        else:
            typer.echo(text, nl=False)
        return
    rows = []
    for name, desc in list_examples():
        p = load_example(name)
        rows.append({"name": name, "description": desc, "servers": p.num_servers, "blocks": p.num_blocks,
                     "arrival_rate": p.arrival_rate, "target_load": p.target_load})
    common.emit_json(rows, as_json, out)
    if out is not None and not as_json:
        opt.note(f"wrote {out}")
    if as_json:
        return
    table = Table(title="Embedded examples (chaincomp solve --example NAME)")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("description")
    for col in ("J", "L", "λ (req/s)"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["name"], r["description"], str(r["servers"]), str(r["blocks"]), f"{r['arrival_rate']:g}")
    common.console.print(table)
