"""The three honest outcomes of `chaincomp solve --method milp`, each with its exit code and words
(issue 10 item 2; README "Exit codes"), plus exit 4 for a baseline design that misses λ/ρ̄.

- 0: a design (status optimal / time_limit / interrupted / stopped);
- 2: proved infeasible, with the reason (also bad input);
- 3: no design found within the budget, with the bound reached — not a proof;
- 4: a baseline's design was written but misses the rate target (core/exact.py).
Ground truth for each instance comes from the exact rational brute force.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

from tests.formulations.exact_bruteforce import exact_brute_force
from tests.formulations.tiny import random_instance

CLI = [sys.executable, "-m", "chaincomp.cli"]


def _instance_file(p, path):
    path.write_text(json.dumps({
        "name": p.name,
        "cluster": {"servers": [{"id": sid, "memory_gb": float(p.memory_gb[j]), "tau_comm_s": float(p.tau_comm_s[j]),
                                 "tau_comp_s": float(p.tau_comp_s[j])} for j, sid in enumerate(p.server_ids)]},
        "model": {"name": "tiny", "num_blocks": p.num_blocks, "block_size_gb": p.block_size_gb,
                  "cache_size_gb": p.cache_size_gb},
        "workload": {"arrival_rate": p.arrival_rate, "target_load": p.target_load},
    }))
    return str(path)


def run(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_design_exit_0():
    proc = run("solve", "--example", "worked-example", "--method", "milp", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["solver"]["status"] == "optimal"


def test_proved_infeasible_exit_2(tmp_path):
    for seed, J, L in ((27, 2, 4), (10, 2, 3)):
        p = random_instance(seed, J, L)
        assert exact_brute_force(p) is None
        proc = run("solve", "--instance", _instance_file(p, tmp_path / f"inf{seed}.json"), "--method", "milp")
        assert proc.returncode == 2, (proc.returncode, proc.stderr)
        assert "proved infeasible" in proc.stderr and "Traceback" not in proc.stderr
    # --json: the outcome on stdout as well, for machines
    proc = run("solve", "--instance", str(tmp_path / "inf10.json"), "--method", "milp", "--json")
    out = json.loads(proc.stdout)
    assert proc.returncode == 2 and out["outcome"] == "infeasible" and out["exit_code"] == 2
    assert out["method"] == "milp" and out["message"].startswith("proved infeasible")


def test_no_design_within_budget_exit_3_and_a_design_with_more_time(tmp_path):
    """A feasible instance (exact optimum 4) on which GBP-CR fails for every c: with a budget too
    short for the search the answer is "no design found" (exit 3, not "infeasible"); with time, 4."""
    base = random_instance(1, 3, 3)
    p = replace(base, arrival_rate=base.arrival_rate * 1.5, name="greedy-fails")
    assert exact_brute_force(p) == 4
    f = _instance_file(p, tmp_path / "hard.json")
    proc = run("solve", "--instance", f, "--method", "milp", "--time-limit", "0.3")
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    assert "no design found" in proc.stderr and "not a proof" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("solve", "--instance", f, "--method", "milp", "--time-limit", "0.3", "--json")
    out = json.loads(proc.stdout)  # --json: the outcome and the bound reached, for machines
    assert proc.returncode == 3 and out["outcome"] == "no_design_found" and out["exit_code"] == 3
    assert "not a proof" in out["message"] and isinstance(out["bound"], int) and 1 <= out["bound"] <= 4
    # the greedy method on it: GBP-CR + GCA's limit is "no design found" (exit 3), never "infeasible"
    proc = run("solve", "--instance", f)
    assert proc.returncode == 3 and "not a proof" in proc.stderr and "infeasible:" not in proc.stderr, proc.stderr
    proc = run("solve", "--instance", f, "--method", "milp", "--time-limit", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    sol = json.loads(proc.stdout)
    assert sol["solver"]["status"] == "optimal" and sol["metrics"]["job_servers"] == 4


def test_baseline_missing_the_rate_target_exit_4(tmp_path):
    out = tmp_path / "bprr.json"
    proc = run("solve", "--example", "bloom-j20", "--method", "bprr", "--rate", "1.0", "--json", "--out", str(out))
    assert proc.returncode == 4, (proc.returncode, proc.stderr)
    assert "misses the rate target" in proc.stderr
    sol = json.loads(out.read_text())
    assert sol["extra"]["status"] == "rate_target_missed" and sol["extra"]["exact_check"]["rate_target_met"] is False
    v = run("verify", str(out))
    assert v.returncode == 1 and "rate:" in v.stdout
