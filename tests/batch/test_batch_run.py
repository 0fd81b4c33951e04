"""End-to-end batch runs: ≥ 200 tasks on 2 local workers, kill + resume, Dask vs local pool,
failures (raise / timeout / crash / memory / invalid instance / invalid solution), re-verification."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batchutil import PROVIDER, write_instances
from typer.testing import CliRunner

from chaincomp.batch import tasks as tk
from chaincomp.batch.local import LocalPool
from chaincomp.batch.runner import run_batch
from chaincomp.batch.store import ResultStore, comparable, read_records
from chaincomp.cli.app import app
from chaincomp.core.solution import Solution
from chaincomp.core.verify import verify_solution
from chaincomp.errors import UsageError

NUM_INSTANCES = 12
SEEDS = "0-3"
#: 12 instances × (4 greedy configs + test-seeded) × 4 seeds = 240 tasks
GRID = [
    ("greedy", {"tune": ["lower"]}),
    ("greedy", {"c": [2, 4, 8]}),
    ("test-seeded", {}),
]
NUM_TASKS = NUM_INSTANCES * 5 * 4


def build_tasks(inst_dir: Path) -> list[tk.Task]:
    refs = tk.resolve_instances([inst_dir])
    out = []
    for method, grid in GRID:
        out += tk.expand_grid(refs, [method], grid, tk.parse_seeds(SEEDS))
    return out


def write_manifest(tmp: Path, inst_dir: Path) -> Path:
    runs = [{"methods": [m], "params": g} for m, g in GRID]
    path = tmp / "study.json"
    # manifest paths are relative to its folder (absolute ones are refused); the provider is named on the
    # command line with --run-provider-code (a manifest alone never imports code)
    path.write_text(json.dumps({"instances": [inst_dir.relative_to(tmp).as_posix()], "seeds": SEEDS, "runs": runs}))
    return path


def by_id(records) -> dict[str, dict]:
    return {r["task_id"]: comparable(r) for r in records}


def assert_all_verify(records) -> None:
    for r in records:
        if r["status"] == "ok":
            sol = Solution.from_dict(r["solution"])
            assert verify_solution(sol) == [], r["task_id"]


@pytest.fixture(scope="module", autouse=True)
def _restore_method_registry():
    """The test-only methods get registered in this process too (Dask threads, CLI checks): remove
    them afterwards so other test modules see the real registry."""
    from chaincomp import methods
    from chaincomp.batch import worker

    before = dict(methods.available())  # load the built-in providers first
    yield
    methods._REGISTRY.clear()
    methods._REGISTRY.update(before)
    worker._loaded_providers.discard(PROVIDER)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Instances + manifest + a clean run on the local pool with 2 workers (shared by the tests)."""
    tmp = tmp_path_factory.mktemp("study")
    inst = tmp / "instances"
    write_instances(inst, NUM_INSTANCES)
    manifest = write_manifest(tmp, inst)
    tasks = build_tasks(inst)
    assert len(tasks) == NUM_TASKS >= 200
    clean = tmp / "clean.jsonl"
    with ResultStore(clean, "new") as store:
        summary = run_batch(tasks, store, LocalPool(2), providers=[PROVIDER])
    return {"tmp": tmp, "inst": inst, "manifest": manifest, "tasks": tasks, "clean": clean, "summary": summary}


def test_local_pool_runs_every_task(study):
    s = study["summary"]
    assert (s.ok, s.failed, s.invalid, s.skipped) == (NUM_TASKS, 0, 0, 0)
    recs = read_records(study["clean"], latest=False)
    assert len(recs) == NUM_TASKS
    assert {r["task_id"] for r in recs} == {t.task_id for t in study["tasks"]}
    workers = {r["worker"] for r in recs}
    assert len(workers) == 2  # both workers took tasks
    assert_all_verify(recs)


def test_rerun_is_deterministic(study):
    """Same tasks and seeds → the same records (timings/worker excluded), also in a second run."""
    again = study["tmp"] / "again.jsonl"
    subset = study["tasks"][::6]
    with ResultStore(again, "new") as store:
        run_batch(subset, store, LocalPool(1), providers=[PROVIDER])
    clean = by_id(read_records(study["clean"]))
    rerun = by_id(read_records(again))
    assert rerun == {k: clean[k] for k in rerun}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from chaincomp.cli.app import main; main()", *args]


def test_kill_midway_then_resume(study):
    out = study["tmp"] / "killed.jsonl"
    proc = subprocess.Popen(
        _cli("batch", "--manifest", str(study["manifest"]), "--workers", "2", "--out", str(out), "--json", "--provider", PROVIDER, "--run-provider-code"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= NUM_TASKS // 5:
                break
            if proc.poll() is not None:
                pytest.fail(f"batch ended before the kill: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # the workers notice the parent is gone (EOF on their pipe) and exit by themselves
        for _ in range(100):
            leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
            if not leftover:
                break
            time.sleep(0.1)
        assert leftover == [], "orphan processes 10 s after the kill: " + subprocess.run(
            ["ps", "-o", "pid,ppid,stat,etime,cmd", "-s", str(proc.pid)], capture_output=True, text=True
        ).stdout
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    done_before = len(read_records(out, latest=False))
    assert NUM_TASKS // 5 <= done_before < NUM_TASKS

    res = subprocess.run(
        _cli("batch", "--manifest", str(study["manifest"]), "--workers", "2", "--out", str(out), "--resume", "--json", "--provider", PROVIDER, "--run-provider-code"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    summary = json.loads(res.stdout)
    assert summary["skipped"] == done_before
    assert summary["ran"] == NUM_TASKS - done_before
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == NUM_TASKS  # nothing finished was redone
    assert len({r["task_id"] for r in lines}) == NUM_TASKS
    assert by_id(lines) == by_id(read_records(study["clean"]))


def test_dask_local_cluster_matches_local_pool(study):
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
    from chaincomp.batch.dask_exec import DaskExecutor
    from chaincomp.batch.worker import load_providers

    load_providers([PROVIDER])  # processes=False: the workers are threads of this process
    out = study["tmp"] / "dask.jsonl"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            with ResultStore(out, "new") as store:
                summary = run_batch(study["tasks"], store, DaskExecutor(client=client), providers=[PROVIDER])
    assert summary.ok == NUM_TASKS
    recs = read_records(out)
    assert by_id(recs) == by_id(read_records(study["clean"]))


def test_failures_are_recorded_and_the_rest_succeeds(study, tmp_path):
    good = sorted(study["inst"].glob("*.json"))[:3]
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{ this is not json")
    bad_fields = tmp_path / "incomplete.json"
    bad_fields.write_text(json.dumps({"servers": [{"id": "a", "memory_gb": 40, "tau_comm_s": 1}], "num_blocks": 4, "block_size_gb": 1}))
    refs = tk.resolve_instances(good)
    one = refs[:1]
    tasks = tk.expand_grid(refs, ["greedy"], {}, [0], timeout_s=20)
    tasks += tk.expand_grid(tk.resolve_instances([bad_json, bad_fields]), ["greedy"], {}, [0], timeout_s=20)
    tasks += tk.expand_grid(one, ["test-raise", "test-crash", "test-invalid"], {}, [0], timeout_s=20)
    tasks += tk.expand_grid(one, ["test-sleep"], {"sleep_s": [60]}, [0], timeout_s=1.5)
    tasks += tk.expand_grid(one, ["test-hog"], {"hog_gb": [4]}, [0], timeout_s=20)
    out = tmp_path / "mixed.jsonl"
    t0 = time.monotonic()
    with ResultStore(out, "new") as store:
        summary = run_batch(tasks, store, LocalPool(2, memory_limit_gb=2.5), providers=[PROVIDER])
    assert time.monotonic() - t0 < 30  # the sleeping task was stopped, not waited for
    recs = {(Path(r["instance"]).name, r["method"]): r for r in read_records(out)}
    assert len(recs) == len(tasks) == 10
    for p in good:
        assert recs[(p.name, "greedy")]["status"] == "ok"
    name = good[0].name

    def err(key):
        r = recs[key]
        assert r["solution"] is None or r["status"] == "invalid"
        return r["status"], r["error"]["type"], r["error"]["message"]

    status, typ, msg = err(("broken.json", "greedy"))
    assert (status, typ) == ("failed", "InvalidInstance") and "broken.json" in msg and "not valid JSON" in msg
    assert recs[("broken.json", "greedy")]["error"]["exit_code"] == 2  # what `chaincomp solve` would exit with
    status, typ, msg = err(("incomplete.json", "greedy"))
    assert (status, typ) == ("failed", "InvalidInstance") and "incomplete.json" in msg
    assert err((name, "test-raise")) == ("failed", "RuntimeError", "deliberate failure from test-raise")
    assert "Traceback" in recs[(name, "test-raise")]["error"]["traceback"]
    status, typ, msg = err((name, "test-crash"))
    assert (status, typ) == ("failed", "WorkerCrashed") and "exited with code 7" in msg
    status, typ, msg = err((name, "test-sleep"))
    assert (status, typ) == ("failed", "TimeoutError") and "1.5 s" in msg
    status, typ, msg = err((name, "test-hog"))
    assert (status, typ) == ("failed", "MemoryError")
    status, typ, msg = err((name, "test-invalid"))
    assert (status, typ) == ("invalid", "VerificationError") and recs[(name, "test-invalid")]["violations"]
    assert (summary.ok, summary.failed, summary.invalid) == (3, 6, 1)
    assert_all_verify(recs.values())


def test_cli_report_export_and_verify(study, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(study["clean"]), "--json", "--csv", str(tmp_path / "c.csv"), "--plot", str(tmp_path / "plots")])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["records"] == NUM_TASKS
    groups = {g["group"]: g for g in summary["groups"]}
    assert groups["greedy[tune=lower]"]["ok"] == NUM_INSTANCES * 4
    assert all(g["ratio_to_best"] >= 1.0 for g in summary["groups"])
    assert len(summary["plots"]) == 4 and all(Path(p).stat().st_size > 0 for p in summary["plots"])
    assert len((tmp_path / "c.csv").read_text().splitlines()) == NUM_TASKS + 1
    res = runner.invoke(app, ["report", str(study["clean"])])
    assert res.exit_code == 0 and "greedy[tune=lower]" in res.output
    # export one solution and re-verify it with `chaincomp verify`
    rec = read_records(study["clean"])[0]
    sol = tmp_path / "one.json"
    res = runner.invoke(app, ["report", str(study["clean"]), "--export-solution", rec["task_id"][:12], "--out", str(sol)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["verify", str(sol), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["valid"] is True


def test_cli_report_refuses_what_it_cannot_do(study, tmp_path):
    """Unknown or ambiguous --export-solution ids, --plot/--csv beside it, a file with no record,
    and plots no task has values for: each a clear message, never an empty figure or a silent skip."""
    runner = CliRunner()
    recs = read_records(study["clean"])
    res = runner.invoke(app, ["report", str(study["clean"]), "--export-solution", "zz-no-such", "--out", str(tmp_path / "x.json")])
    assert isinstance(res.exception, UsageError) and "no task id" in str(res.exception) and recs[0]["task_id"] in str(res.exception)
    res = runner.invoke(app, ["report", str(study["clean"]), "--export-solution", "", "--out", str(tmp_path / "x.json")])
    assert isinstance(res.exception, UsageError) and f"matches {len(recs)} tasks" in str(res.exception)
    res = runner.invoke(app, ["report", str(study["clean"]), "--export-solution", recs[0]["task_id"], "--out",
                              str(tmp_path / "x.json"), "--plot", str(tmp_path / "p")])
    assert isinstance(res.exception, UsageError) and "--plot" in str(res.exception) and not (tmp_path / "x.json").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("garbage\n{}\n")
    res = runner.invoke(app, ["report", str(bad), "--plot", str(tmp_path / "p")])
    assert isinstance(res.exception, UsageError) and "all 2 line(s) malformed" in str(res.exception) and not (tmp_path / "p").exists()
    failed = tmp_path / "failed.jsonl"  # every task failed: the objective plots have nothing to show
    failed.write_text("".join(json.dumps({**r, "status": "failed", "solution": None, "metrics": {},
                                          "error": {"type": "RuntimeError", "message": "x"}}) + "\n" for r in recs[:3]))
    res = runner.invoke(app, ["report", str(failed), "--plot", str(tmp_path / "p"), "--json"])
    assert res.exit_code == 0, res.output
    written = {Path(p).name for p in json.loads(res.stdout)["plots"]}
    assert "job_servers.png" not in written and "ratio_to_best.png" not in written
    assert {p.name for p in (tmp_path / "p").iterdir()} == written


def test_cli_batch_paths_methods_params(study, tmp_path):
    runner = CliRunner()
    files = [str(p) for p in sorted(study["inst"].glob("*.json"))[:2]]
    out = tmp_path / "cli.jsonl"
    args = ["batch", *files, "-m", "greedy", "-p", "c=auto,4", "--seeds", "0-1", "-o", str(out), "-w", "2", "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert (summary["tasks"], summary["ok"]) == (8, 8)
    res = runner.invoke(app, args)  # same output without --resume: refused
    assert isinstance(res.exception, UsageError) and "--resume" in str(res.exception)
    res = runner.invoke(app, [*args, "--resume"])
    assert res.exit_code == 0 and json.loads(res.output)["skipped"] == 8
    res = runner.invoke(app, ["batch", files[0], "-m", "no-such-method", "-o", str(tmp_path / "x.jsonl")])
    assert isinstance(res.exception, UsageError) and "no-such-method" in str(res.exception)
    res = runner.invoke(app, ["batch", files[0], "-m", "test-raise", "--provider", PROVIDER, "-o", str(tmp_path / "f.jsonl"), "--json"])
    assert isinstance(res.exception, UsageError) and "--run-provider-code" in str(res.exception)  # importing code needs the flag
    res = runner.invoke(app, ["batch", files[0], "-m", "test-raise", "--provider", PROVIDER, "--run-provider-code", "-o", str(tmp_path / "f.jsonl"), "--json"])
    assert res.exit_code == 1 and json.loads(res.output)["failed"] == 1


def test_shipped_quick_set_and_single_file_instances(tmp_path):
    """`set:quick` (files written by `chaincomp generate`) runs; a broken single-file instance fails
    with the loader's message naming the file and the field."""
    refs = tk.resolve_instances(["set:quick"])
    assert len(refs) >= 8 and all(r.label.startswith("set:quick/") for r in refs)
    chosen = [r for r in refs if "mig-" in r.label or "bloom-s2-" in r.label]
    assert chosen
    bad = tmp_path / "bad-instance.json"
    data = json.loads(Path(chosen[0].path).read_text())
    data["cluster"]["servers"][0]["memory_gb"] = -5
    bad.write_text(json.dumps(data))
    tasks = tk.expand_grid(chosen + tk.resolve_instances([bad]), ["greedy"], {}, [0])
    out = tmp_path / "quick.jsonl"
    with ResultStore(out, "new") as store:
        summary = run_batch(tasks, store, LocalPool(2))
    recs = read_records(out)
    assert summary.ok == len(chosen) and summary.failed == 1
    (failed,) = [r for r in recs if r["status"] != "ok"]
    assert failed["error"]["type"] == "InvalidInstance"
    assert "bad-instance.json" in failed["error"]["message"] and "memory_gb" in failed["error"]["message"]
    assert_all_verify(recs)
    with pytest.raises(UsageError, match="no such shipped instance set"):
        tk.resolve_instances(["set:nope"])


def test_sigterm_stops_cleanly(study, tmp_path):
    """`kill PID` (SIGTERM): workers stop, every line in the file is complete, resume finishes."""
    files = [str(p) for p in sorted(study["inst"].glob("*.json"))]
    out = tmp_path / "term.jsonl"
    args = ["batch", *files, "-m", "greedy", "-p", "c=2,4,8", "--seeds", "0-9", "-o", str(out), "-w", "2", "--json"]
    proc = subprocess.Popen(_cli(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) != 0
        for _ in range(100):
            if not subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True).stdout.split():
                break
            time.sleep(0.1)
        else:
            pytest.fail("worker processes still alive 10 s after SIGTERM")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    text = out.read_text()
    assert text.endswith("\n")
    n = len([json.loads(x) for x in text.splitlines()])  # every line is complete JSON
    total = len(files) * 3 * 10
    assert 20 <= n < total
    res = subprocess.run(_cli(*args, "--resume"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout)["skipped"] == n
    assert len(out.read_text().splitlines()) == total


def test_error_records_carry_the_exit_code_and_the_bound():
    """A no-design outcome in a batch keeps what the CLI says: exit code 3 and the bound reached."""
    from chaincomp.batch.worker import error_info
    from chaincomp.errors import InvalidInstance, NoDesignFound

    assert error_info(NoDesignFound("no design found", 72)) == {
        "type": "NoDesignFound", "message": "no design found", "exit_code": 3, "bound": 72}
    assert error_info(InvalidInstance("bad field")) == {"type": "InvalidInstance", "message": "bad field", "exit_code": 2}
    other = error_info(RuntimeError("boom"))
    assert "exit_code" not in other and "traceback" in other
