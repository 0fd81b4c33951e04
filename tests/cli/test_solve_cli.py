"""`chaincomp solve` / `verify` end to end, as a user runs them (subprocess, real console script)."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "chaincomp.cli"]


def run(*args, check=False):
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_worked_example_json_matches_paper(tmp_path):
    proc = run("solve", "--example", "worked-example", "--c", "1", "--json", check=True)
    sol = json.loads(proc.stdout)
    chains = [(c["servers"], c["blocks"], round(c["service_time_s"], 9), c["capacity"]) for c in sol["chains"]]
    assert chains == [
        (["j1", "j2"], [1, 2], 3.005, 5),
        (["j1", "j4", "j5"], [1, 1, 1], 3.010, 5),
        (["j3", "j4", "j5"], [1, 1, 1], 3.012, 5),
    ]
    placement = {r["server"]: (r["first_block"], r["num_blocks"]) for r in sol["placement"]}
    assert placement == {"j1": (1, 1), "j2": (2, 2), "j3": (1, 1), "j4": (2, 1), "j5": (3, 1)}
    assert sol["parameters"]["cache_reservation"] == 1
    for key in ("instance", "method", "parameters", "placement", "chains", "metrics", "provenance"):
        assert key in sol
    for key in ("job_servers", "service_rate", "load", "response_time_lower_s", "response_time_upper_s", "surrogate_response_time_s"):
        assert key in sol["metrics"]
    path = tmp_path / "we.json"
    path.write_text(proc.stdout)
    v = run("verify", str(path))
    assert v.returncode == 0 and "valid" in v.stdout


def test_verify_reports_tampering(tmp_path):
    sol = json.loads(run("solve", "--example", "worked-example", "--c", "1", "--json", check=True).stdout)
    sol["chains"][0]["capacity"] = 9  # j1: 9 + 5 slots > 10
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(sol))
    v = run("verify", str(path))
    assert v.returncode == 1
    assert "server j1" in v.stdout and "Traceback" not in v.stderr


@pytest.mark.parametrize("name", ["worked-example", "bloom-j20", "mig-testbed"])
def test_examples_solve_and_print(name, tmp_path):
    out = tmp_path / "s.json"
    proc = run("solve", "--example", name, "--out", str(out), check=True)
    assert "Block placement" in proc.stdout and "Chains" in proc.stdout
    assert "Theorem-4 lower" in proc.stdout
    assert run("verify", str(out)).returncode == 0


def test_export_petals():
    proc = run("solve", "--example", "worked-example", "--c", "1", "--export", "petals", "--model-name", "org/m")
    assert proc.returncode == 2 and "--attn_cache_tokens" in proc.stderr  # no sequence length to size the cache
    proc = run("solve", "--example", "mig-testbed", "--c", "8", "--export", "petals", check=True)
    cmds = [ln for ln in proc.stdout.splitlines() if ln.startswith("python -m petals.cli.run_server")]
    assert cmds and all("--block_indices" in ln and "meta-llama/Llama-2-7b-hf" in ln for ln in cmds)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--example", "no-such-example"], "no-such-example"),
        (["--example", "worked-example", "--c", "x"], "--c"),
        (["--example", "worked-example", "--rate", "1000"], "proved infeasible"),
        (["--example", "bloom-j20", "--method", "nope"], "unknown method"),
        (["--example", "worked-example", "--c", "500"], "1..20"),
        ([], "exactly one of"),
    ],
)
def test_bad_input_exits_2_without_traceback(args, needle):
    proc = run("solve", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_verify_missing_file():
    proc = run("verify", "/nonexistent/solution.json")
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_placement_map_folds_unused_servers_and_all_lists_them():
    """Issue 13 item 6 / issue 14: unused servers are counted in one row; --all lists every server."""
    import subprocess
    import sys

    base = [sys.executable, "-m", "chaincomp.cli", "solve", "--example", "bloom-j20"]
    folded = subprocess.run(base, capture_output=True, text=True, check=True).stdout
    full = subprocess.run(base + ["--all"], capture_output=True, text=True, check=True).stdout
    data = json.loads(subprocess.run(base + ["--json"], capture_output=True, text=True, check=True).stdout)
    unused = [r["server"] for r in data["placement"] if r["num_blocks"] == 0]
    used = [r["server"] for r in data["placement"] if r["num_blocks"] > 0]
    assert unused and used
    assert f"{len(unused)} servers host no block (--all lists them)" in folded
    map_folded = folded.split("Chains")[0]
    map_full = full.split("Chains")[0]
    assert all(f" {s} " in map_folded for s in used)
    assert not any(f" {s} " in map_folded for s in unused)
    assert all(f" {s} " in map_full for s in unused + used)
