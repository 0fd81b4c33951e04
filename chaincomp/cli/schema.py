"""``chaincomp schema``: print the JSON Schema of an input file or of the Solution JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from chaincomp.cli.app import app


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(help="cluster | model | workload | instance | solution | events")] = "instance",
) -> None:
    """Print the JSON Schema (draft 2020-12, from the pydantic models) of one file kind.

    Examples:
      chaincomp schema cluster
      chaincomp schema solution > solution.schema.json
    """
    from chaincomp.instances.schema import json_schema

    typer.echo(json.dumps(json_schema(kind), indent=2, ensure_ascii=False))
