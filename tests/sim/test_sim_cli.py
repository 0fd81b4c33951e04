"""`chaincomp simulate` end to end (subprocess, as a user runs it)."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "chaincomp.cli"]


def run(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "we.json"
    proc = run("solve", "--example", "worked-example", "--c", "1", "--out", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    return path


def test_simulate_solution_json_is_deterministic_and_complete(design, tmp_path):
    args = ("simulate", str(design), "--policy", "jffc,jsq", "--policy", "sa-jsq", "--load", "0.8",
            "--jobs", "20000", "--replications", "2", "--seed", "5", "--json")
    a, b = run(*args), run(*args)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    data = json.loads(a.stdout)
    assert [p["policy"] for p in data["policies"]] == ["jffc", "jsq", "sa-jsq"]
    th = data["theorem4"]
    assert th["load"] == pytest.approx(0.8) and th["applies"]
    jffc = data["policies"][0]
    for block in ("response_time_s", "waiting_time_s", "service_time_s"):
        assert set(jffc[block]) >= {"mean", "median", "p95", "p99", "max", "mean_ci95"}
    assert len(jffc["chains"]) == 3 and all(0 <= c["utilization"] <= 1 for c in jffc["chains"])
    c = run(*args[:-2], "--seed", "6", "--json")
    assert c.stdout != a.stdout


def test_simulate_table_plot_and_out(design, tmp_path):
    png, out = tmp_path / "cdf.png", tmp_path / "sim.json"
    proc = run("simulate", str(design), "--policy", "jffc,jiq", "--jobs", "5000", "--plot", str(png), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Theorem 4" in proc.stdout and "jiq" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(out.read_text())["simulation"]["num_jobs"] == 5000


def test_azure_trace_on_mig_testbed(shared_data):
    trace = shared_data / "azure_llm_inference_2023_code.csv"
    proc = run("simulate", "--example", "mig-testbed", "--method", "greedy", "--arrivals", "trace", "--trace", str(trace),
               "--jobs", "1000", "--service", "length", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    st = data["workload"]["trace_stats"]
    assert st["num_requests"] == 1000
    assert st["rate_per_s"] == pytest.approx(1.9153, abs=1e-3)        # (n−1)/span of the first 1000 rows
    assert st["mean_input_tokens"] == pytest.approx(2122.354)
    assert st["mean_output_tokens"] == pytest.approx(27.621)
    assert data["policies"][0]["measured_jobs"] == 1000


@pytest.mark.parametrize("args,msg", [
    (("simulate",), "nothing to simulate"),
    (("simulate", "missing.json"), "no such file"),
    (("simulate", "--example", "worked-example", "--policy", "fastest"), "unknown policy"),
    (("simulate", "--example", "worked-example", "--arrivals", "trace", "--trace", "nope.csv"), "no such trace file"),
    (("simulate", "--example", "worked-example", "--service", "length"), "timing"),
])
def test_simulate_errors_are_one_paragraph(args, msg):
    proc = run(*args)
    assert proc.returncode == 2
    assert msg in proc.stderr and "Traceback" not in proc.stderr


def test_trace_arrivals_default_to_the_shipped_azure_trace():
    proc = run("simulate", "--example", "mig-testbed", "--arrivals", "trace", "--jobs", "200", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["workload"]["path"].endswith("azure_llm_inference_2023_code.csv")
