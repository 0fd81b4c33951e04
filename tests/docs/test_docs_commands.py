"""Every ```bash block of README.md and docs/*.md is run (issue 13 item 6): each `chaincomp …`
command, in order, in a scratch folder with ``../shared`` beside it (as in a checkout next to the
data), through the real CLI app in-process (fast: no interpreter start-up per command).

Commands are run as written, except the few in :data:`QUICK` (quick parameters appended, so the
test stays fast) and the few in :data:`SKIP` (each with its reason). Shell pipes are not allowed
(a literal `a|b` in a command is a bug in the docs); `cmd > file` and `a && b` are honoured.
Lines that are not chaincomp commands (pip, pytest, benchmarks) are listed in :data:`NOT_CHAINCOMP`.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaincomp.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHARED = ROOT.parent / "shared"

#: regex on the command → reason it is not run here
SKIP = {
    r"--install-completion": "edits the user's shell start-up file",
    r"--method milp --time-limit 60": "a 60 s solver budget (the MILP is tested in tests/formulations)",
    r"experiment overall --runs 10": "≈ 5 min Monte Carlo (the quick variant runs in tests/experiments)",
    r"--cluster cluster\.json --model": "needs the user's own cluster/model files (formats: docs/instances.md)",
    r"--cluster cluster\.calibrated\.json --model config\.json": "needs the user's own PETALS measurements (docs/petals.md)",
    r"^chaincomp calibrate measurements\.csv": "needs the user's own PETALS measurements (the docs/calibrate.md example runs)",
    r"--method milp --solver gurobi": "a BLOOM-size model exceeds gurobipy's size-limited pip licence (Gurobi paths: tests/solvers)",
    r"--method milp --objective throughput": "the default 60 s solver budget",
    r"--manifest study\.toml --scheduler local": "starts a Dask LocalCluster; the manifest of docs/batch.md runs in test_batch_manifest_example",
}
#: regex on the command → arguments appended (quick parameters)
QUICK = {
    r"^experiment testbed": ["--quick"],
    r"^simulate design\.json --policy jffc,jsq": ["--jobs", "20000"],   # 5 × 100 000 jobs → 5 × 20 000
    r"^batch set:quick": ["--seeds", "0"],                               # 3 seeds → 1 (same tasks, fewer)
    r"^solve --example bloom-j20 --tune sim": ["--top", "3"],
}
NOT_CHAINCOMP = ("pip", "python -m pytest", "CHAINCOMP_FUZZ", "python benchmarks/", "git ", "cd ", "#")


def bash_commands(path: Path) -> list[str]:
    """The commands of the file's ```bash blocks (continuations joined, blank/comment lines dropped)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.extend(part.strip() for part in line.split("&&"))
    return out


def _chaincomp_args(cmd: str) -> tuple[list[str], str | None] | None:
    tokens = shlex.split(cmd, comments=True)
    assert "|" not in tokens and not any(re.search(r"\w\|\w", t) for t in tokens[:1]), f"shell pipe in {cmd!r}"
    redirect = None
    if ">" in tokens:
        i = tokens.index(">")
        redirect, tokens = tokens[i + 1], tokens[:i]
    if tokens[:1] == ["chaincomp"]:
        return tokens[1:], redirect
    if tokens[:3] == ["python", "-m", "chaincomp"]:
        return tokens[3:], redirect
    return None


def test_docs_have_bash_blocks():
    assert len(bash_commands(ROOT / "README.md")) >= 20


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_doc_commands_run(doc: Path, tmp_path, monkeypatch):
    cmds = bash_commands(doc)
    if not cmds:
        pytest.skip(f"{doc.name} has no ```bash block")
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "shared").symlink_to(SHARED)
    shutil.copytree(ROOT / "docs" / "examples", work / "docs" / "examples")  # files the docs name
    monkeypatch.chdir(work)
    runner = CliRunner()
    ran = 0
    for cmd in cmds:
        parsed = _chaincomp_args(cmd)
        if parsed is None:
            assert cmd.startswith(NOT_CHAINCOMP), f"{doc.name}: neither a chaincomp command nor listed: {cmd!r}"
            continue
        args, redirect = parsed
        if any(re.search(rx, cmd) for rx in SKIP):
            continue
        line = " ".join(args)
        for rx, extra in QUICK.items():
            if re.search(rx, line):
                args = args + extra
        res = runner.invoke(app, args)
        assert res.exit_code == 0 and res.exception is None or isinstance(res.exception, SystemExit) and res.exit_code == 0, (
            f"{doc.name}: `{cmd}` → exit {res.exit_code}: {res.exception!r}\n{res.output[-2000:]}")
        if redirect:
            Path(redirect).write_text(res.stdout)
        ran += 1
    if ran == 0:
        pytest.skip(f"{doc.name}: its bash blocks hold no chaincomp command (pytest/benchmark lines only)")


def test_batch_manifest_example(tmp_path, monkeypatch):
    """docs/batch.md's manifest, written to study.toml as the docs say, expands to the hand-counted
    tasks: greedy 4 configs × 11 instances × 2 seeds + milp 2 × 1 × 2 + 3 methods × 11 × 1 seed = 125.
    (Run in full it takes ≈ 30 s on 2 workers: 125 ok.)"""
    import json

    toml = re.search(r"```toml\n(.*?)```", (ROOT / "docs" / "batch.md").read_text(encoding="utf-8"), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.toml").write_text(toml, encoding="utf-8")
    res = CliRunner().invoke(app, ["batch", "--manifest", "study.toml", "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    tasks = json.loads(res.stdout)["tasks"]
    assert len(tasks) == 4 * 11 * 2 + 2 * 1 * 2 + 3 * 11 * 1
    assert {t["config"].split("[")[0] for t in tasks} == {"greedy", "milp", "petals", "bprr", "random"}


def test_skip_list_is_used():
    """Every SKIP / QUICK entry still matches a documented command (no stale exemptions)."""
    cmds = [c for d in DOCS for c in bash_commands(d)]
    for rx in SKIP:
        assert any(re.search(rx, c) for c in cmds), rx
    lines = [" ".join(p[0]) for c in cmds if (p := _chaincomp_args(c))]
    for rx in QUICK:
        assert any(re.search(rx, ln) for ln in lines), rx
