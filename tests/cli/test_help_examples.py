"""The `Examples:` embedded in every verb's --help parse against the verb's real options (issue 13:
every embedded example exercised by a test). Parsing, not running: they name the user's own files
(design.json, study.toml, …); the README/docs commands are run in tests/docs."""

from __future__ import annotations

import shlex

import pytest
import typer

from chaincomp.cli.app import app

GROUP = typer.main.get_command(app)


def help_examples() -> list[tuple[str, str]]:
    out = []
    for verb, cmd in GROUP.commands.items():
        doc = cmd.help or ""
        if "Examples:" not in doc:
            continue
        for line in doc.split("Examples:", 1)[1].splitlines():
            line = line.strip()
            if not line.startswith("chaincomp "):
                if line and not line.startswith("chaincomp"):
                    break  # end of the Examples block
                continue
            for part in line.split("&&"):
                out.append((verb, part.strip()))
    return out


def test_every_verb_with_options_has_examples():
    verbs = {v for v, _ in help_examples()}
    assert {"solve", "simulate", "batch", "report", "generate", "examples", "schema", "verify"} <= verbs


@pytest.mark.parametrize("verb,line", help_examples())
def test_help_example_parses(verb, line):
    tokens = shlex.split(line, comments=True)
    if ">" in tokens:
        tokens = tokens[: tokens.index(">")]
    assert tokens[0] == "chaincomp"
    sub = GROUP.commands[tokens[1]]
    ctx = sub.make_context(tokens[1], tokens[2:])  # raises on unknown options or bad values
    assert ctx.params is not None
