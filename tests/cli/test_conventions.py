"""CLI conventions (issue 13 item 5): --version, completion, python -m chaincomp, one meaning per
option name across verbs, --out everywhere output is written, --quiet/--verbose through logging."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.core import TyperOption
import pytest
import typer
from typer.testing import CliRunner

from chaincomp.cli.app import app, main
from chaincomp.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=True)


def _commands() -> dict:
    group = typer.main.get_command(app)
    return dict(group.commands)


def test_version_matches_pyproject():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    res = invoke("--version")
    assert res.exit_code == 0
    assert res.stdout.strip() == f"chaincomp {version}"


def test_python_dash_m_chaincomp():
    proc = subprocess.run([sys.executable, "-m", "chaincomp", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("chaincomp ")


def test_shell_completion_enabled():
    names = {n for p in typer.main.get_command(app).params for n in p.opts}
    assert {"--install-completion", "--show-completion"} <= names


def test_one_meaning_per_option_name():
    """Every option spelling has one help-independent meaning: the same destination kind in every verb."""
    seen: dict[str, set[str]] = {}
    for verb, cmd in _commands().items():
        for p in cmd.params:
            if not isinstance(p, TyperOption) or p.hidden:
                continue
            for name in p.opts + p.secondary_opts:
                seen.setdefault(name, set()).add(p.name)
    # the conventions of chaincomp/cli/options.py
    assert seen["--jobs"] == {"jobs"} and seen["-n"] <= {"jobs", "count"}
    assert seen["--workers"] == {"workers"} and seen["-w"] == {"workers"}
    for name in ("--cache-reservation", "-c", "--c"):
        assert len(seen[name]) == 1, (name, seen[name])
    assert seen["--out"] == {"out"} and seen["--seed"] == {"seed"} and seen["--json"] == {"as_json"}
    # --jobs never means processes, --workers never means jobs
    cmds = _commands()
    visible = lambda verb: {n for p in cmds[verb].params if isinstance(p, TyperOption) and not p.hidden for n in p.opts}
    assert "--workers" in visible("batch") and "--jobs" not in visible("batch")
    assert "--jobs" in visible("simulate") and "--jobs" in visible("experiment")
    # c has one spelling set in every verb that takes it
    for verb in ("solve", "experiment"):
        c_opts = [set(p.opts) for p in cmds[verb].params if "--cache-reservation" in p.opts]
        assert c_opts == [{"--cache-reservation", "-c", "--c"}], verb


def test_every_writing_verb_has_out():
    cmds = _commands()
    for verb in ("solve", "verify", "simulate", "experiment", "batch", "report", "generate", "examples"):
        assert any("--out" in p.opts for p in cmds[verb].params), verb


def test_batch_jobs_is_an_explained_error():
    res = invoke("batch", "set:quick", "-m", "greedy", "--jobs", "2", "--dry-run")
    assert isinstance(res.exception, UsageError)
    assert "--workers" in str(res.exception) and "renamed" in str(res.exception)
    ok = invoke("batch", "set:quick", "-m", "greedy", "--workers", "2", "--dry-run")
    assert ok.exit_code == 0, ok.output
    assert re.search(r"\d+ task\(s\)", ok.stdout)


@pytest.mark.parametrize("spelling", ["-c", "--c", "--cache-reservation"])
def test_cache_reservation_spellings(spelling):
    res = invoke("solve", "--example", "worked-example", spelling, "1", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["parameters"]["cache_reservation"] == 1


def test_cache_reservation_bad_value():
    res = invoke("solve", "--example", "worked-example", "-c", "zero")
    assert isinstance(res.exception, UsageError) and "--cache-reservation" in str(res.exception)
    res = invoke("solve", "--example", "worked-example", "-c", "0")
    assert isinstance(res.exception, UsageError)


def test_verify_and_examples_out(tmp_path):
    design = tmp_path / "d.json"
    assert invoke("solve", "--example", "worked-example", "-c", "1", "--out", str(design)).exit_code == 0
    report = tmp_path / "v.json"
    res = invoke("verify", str(design), "--out", str(report))
    assert res.exit_code == 0, res.output
    assert json.loads(report.read_text()) == {"file": str(design), "valid": True, "violations": []}
    lst = tmp_path / "ex.json"
    assert invoke("examples", "--out", str(lst)).exit_code == 0
    assert {r["name"] for r in json.loads(lst.read_text())} >= {"worked-example", "bloom-j20", "mig-testbed"}
    one = tmp_path / "we.json"
    assert invoke("examples", "--show", "worked-example", "--out", str(one)).exit_code == 0
    assert json.loads(one.read_text())["name"] == "worked-example" or "servers" in one.read_text()


def test_quiet_and_verbose_through_logging(tmp_path):
    import logging

    out = tmp_path / "d.json"
    res = invoke("solve", "--example", "worked-example", "-c", "1", "--out", str(out))
    assert res.exit_code == 0 and f"wrote {out}" in res.stderr
    assert f"wrote {out}" not in res.stdout  # notes go to stderr, tables to stdout
    res = invoke("-q", "solve", "--example", "worked-example", "-c", "1", "--out", str(out))
    assert res.exit_code == 0 and "wrote" not in res.stderr and "Design" in res.stdout
    assert logging.getLogger("chaincomp").level == logging.ERROR
    invoke("-v", "examples")
    assert logging.getLogger("chaincomp").level == logging.DEBUG
    res = invoke("-q", "-v", "examples")
    assert res.exit_code == 2 and "exclude" in res.stderr
    invoke("examples")  # back to the default
    assert logging.getLogger("chaincomp").level == logging.INFO


def test_batch_dash_j_is_a_deprecated_alias():
    res = invoke("batch", "set:quick", "-m", "greedy", "-j", "2", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "deprecated" in res.stderr and "--workers" in res.stderr


def test_completion_offers_examples_methods_and_schemas():
    env_base = {**__import__("os").environ, "_CHAINCOMP_COMPLETE": "complete_zsh"}
    code = "import sys; sys.argv=['chaincomp']; from chaincomp.cli.app import main; main()"
    for words, expect in (("chaincomp solve --example b", "bloom-j20"), ("chaincomp so", "solve"),
                          ("chaincomp schema batch-r", "batch-record")):
        env = {**env_base, "_TYPER_COMPLETE_ARGS": words, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert expect in proc.stdout, (words, proc.stdout)


def test_verbose_prints_debug_lines():
    res = invoke("-v", "solve", "--example", "worked-example", "-c", "1", "--json")
    assert res.exit_code == 0
    assert "debug: instance worked-example: J = 5 servers, L = 3 blocks" in res.stderr
    json.loads(res.stdout)  # stdout stays clean JSON
    invoke("examples")


def test_global_flags_after_the_verb(tmp_path):
    """`chaincomp solve … -q` = `chaincomp -q solve …` (through main(), which hoists the flags)."""
    from chaincomp.cli.app import hoist_global_flags

    assert hoist_global_flags(["solve", "-e", "x", "-q", "-v"]) == ["-q", "-v", "solve", "-e", "x"]
    assert hoist_global_flags(["solve", "--", "-q"]) == ["solve", "--", "-q"]
    out = tmp_path / "d.json"
    code = "import sys; from chaincomp.cli.app import main; main(sys.argv[1:])"
    base = [sys.executable, "-c", code, "solve", "--example", "worked-example", "-c", "1"]
    quiet = subprocess.run(base + ["--out", str(out), "-q"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr == "" and "Design" in quiet.stdout and out.exists()
    loud = subprocess.run(base + ["--json", "--verbose"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert loud.returncode == 0 and "debug: instance worked-example" in loud.stderr
    json.loads(loud.stdout)


def test_a_bare_instance_file_names_the_instance_option(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["solve", "my-instance.json"])
    assert ended.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unexpected extra argument" in err and "--instance FILE" in err


def test_verify_extra_argument_gets_no_instance_hint(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["verify", "a.json", "b.json"])
    assert ended.value.code == 2
    assert "--instance" not in capsys.readouterr().err
