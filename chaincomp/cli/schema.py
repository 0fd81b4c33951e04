"""``chaincomp schema``: print the JSON Schema of any file the toolkit reads or writes."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from chaincomp.cli import options as opt
from chaincomp.cli.app import app


@app.command()
def schema(
    kind: Annotated[Optional[str], typer.Argument(help="Schema name (see --list; default instance): cluster, model, workload, instance, solution, simulate, batch-record, report, experiment, manifest, …", autocompletion=opt.complete_schemas)] = None,
    list_names: Annotated[bool, typer.Option("--list", help="List the schema names and what each describes.")] = False,
    out: opt.out("Write the schema to this file instead of stdout.") = None,
) -> None:
    """Print a JSON Schema (draft 2020-12, with $schema and $id) of one file kind.

    Examples:
      chaincomp schema --list
      chaincomp schema cluster
      chaincomp schema solution --out solution.schema.json
    """
    from chaincomp import schemas

    if list_names:
        if kind is not None or out is not None:
            from chaincomp.errors import UsageError

            raise UsageError(f"--list prints the schema names only; {'a schema name' if kind is not None else '--out'} "
                             f"goes without it (`chaincomp schema NAME --out FILE`)")
        for name, desc in schemas.names().items():
            typer.echo(f"{name:14s} {desc}")
        return
    text = json.dumps(schemas.get(kind or "instance"), indent=2, ensure_ascii=False)
    if out is not None:
        from chaincomp.io.output import atomic_write

        atomic_write(out, text + "\n", "schema file")
        opt.note(f"wrote {out}")
    else:
        typer.echo(text)
