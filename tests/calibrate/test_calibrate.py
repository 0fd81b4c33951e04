"""`chaincomp calibrate` recovers known parameters from synthetic measurements; bad CSVs get clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from chaincomp import methods
from chaincomp.calibrate import calibrate
from chaincomp.core.verify import assert_valid
from chaincomp.errors import InvalidInstance
from chaincomp.instances.load import load_problem

from tests.calibrate.synth import CLUSTER, SERVER_GPU, TRUE_COMM, TRUE_COMPUTE, rows, write


def _cluster(tmp_path):
    p = tmp_path / "cluster.json"
    p.write_text(json.dumps(CLUSTER))
    return p


def test_noise_free_measurements_are_recovered_exactly(tmp_path):
    cal = calibrate(write(tmp_path / "m.csv", rows(120, noise=0.0)), cluster=_cluster(tmp_path))
    for g, true in TRUE_COMPUTE.items():
        assert np.allclose(cal.compute[g].estimate, true, rtol=1e-4, atol=1e-9)   # 6-decimal CSV rounding
        assert cal.compute[g].r2 == pytest.approx(1.0, abs=1e-8)
    for s, theta in TRUE_COMM.items():
        assert cal.comm[s].estimate[0] == pytest.approx(theta, rel=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_measurements_recover_parameters_within_tolerance(tmp_path, seed):
    """5 % multiplicative noise, 400 rows: t^I and t^O within 5 %, RTT + o within 3 %, every
    estimate within 4 standard errors of the truth; t_o (a few % of τ^p) within 4 s.e."""
    cal = calibrate(write(tmp_path / "m.csv", rows(400, noise=0.05, seed=seed)), cluster=_cluster(tmp_path))
    for g, true in TRUE_COMPUTE.items():
        f = cal.compute[g]
        for est, se, t in zip(f.estimate, f.std_error, true):
            assert abs(est - t) <= 4 * se, (g, est, t, se)
        assert f.estimate[1] == pytest.approx(true[1], rel=0.05)
        assert f.estimate[2] == pytest.approx(true[2], rel=0.05)
        assert f.r2 > 0.95 and f.rmse_s > 0
        q = f.residual_quantiles_s
        assert q["p5"] < 0 < q["p95"] and q["p25"] <= q["p50"] <= q["p75"]
    for s, theta in TRUE_COMM.items():
        f = cal.comm[s]
        assert f.estimate[0] == pytest.approx(theta, rel=0.03)
        assert abs(f.estimate[0] - theta) <= 4 * f.std_error[0]


def test_calibrated_cluster_round_trips_through_the_loader_and_solves(tmp_path):
    m = write(tmp_path / "m.csv", rows(300, noise=0.02, seed=5))
    cal = calibrate(m, cluster=_cluster(tmp_path), input_tokens=2048, output_tokens=28)
    out = tmp_path / "calibrated.json"
    out.write_text(json.dumps(cal.cluster))
    (tmp_path / "model.json").write_text(json.dumps({"card": "LLaMA-2-7B", "max_seq_len": 2048}))
    (tmp_path / "w.json").write_text(json.dumps({"arrival_rate": 0.3, "mean_input_tokens": 2048, "mean_output_tokens": 28}))
    p = load_problem(out, tmp_path / "model.json", tmp_path / "w.json")
    for j, sid in enumerate(p.server_ids):
        gpu = SERVER_GPU.get(sid, "A100-MIG-3g.40gb")
        t_o, t_i, t_out = cal.compute[gpu].estimate
        assert p.tau_comp_s[j] == pytest.approx(t_o + t_i * 2048 + t_out * 27, rel=1e-12)
        if sid == "spare":  # unmeasured: τ^p from its GPU type's fit, τ^c stays modelled (25 ms RTT + o = 18 ms) and is reported
            assert cal.not_calibrated == {"tau_comm": ["spare"]}
            assert p.tau_comm_s[j] == pytest.approx(28 * (0.025 + 0.018))
            continue
        assert p.tau_comp_s[j] == pytest.approx(t_o + t_i * 2048 + t_out * 27, rel=1e-12)
        assert p.tau_comm_s[j] == pytest.approx(28 * cal.comm[sid].estimate[0], rel=1e-12)
        true = TRUE_COMPUTE[SERVER_GPU[sid]]
        assert p.tau_comp_s[j] == pytest.approx(true[0] + true[1] * 2048 + true[2] * 27, rel=0.03)
    sol = methods.get("greedy").func(p, cache_reservation=4)
    assert_valid(sol)
    (tmp_path / "design.json").write_text(sol.to_json())
    sim = subprocess.run([sys.executable, "-m", "chaincomp.cli", "simulate", str(tmp_path / "design.json"), "--jobs", "2000",
                          "--json"], capture_output=True, text=True, timeout=120)
    assert sim.returncode == 0, sim.stderr


def test_default_servers_and_token_means_without_cluster(tmp_path):
    data = rows(200, noise=0.0, seed=3)
    cal = calibrate(write(tmp_path / "m.csv", data))
    assert {s["id"] for s in cal.cluster["servers"]} == set(TRUE_COMM)
    assert all(s["gpu"] in TRUE_COMPUTE for s in cal.cluster["servers"])
    l_in = np.mean([r["input_tokens"] for r in data])
    assert cal.input_tokens == pytest.approx(l_in) and "means over the 200" in cal.token_source


def _bad(tmp_path, text):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    return p


H = "server,gpu,blocks,input_tokens,output_tokens,compute_s,comm_s\n"


@pytest.mark.parametrize("text,needle", [
    ("", r"empty file"),
    ("server,blocks,input_tokens,output_tokens,comm_s\nx,1,2,3,4\n", r"lacks column\(s\) compute_s"),
    ("blocks,input_tokens,output_tokens,compute_s\n1,2,3,4\n", r"neither a server nor a gpu column"),
    (H + "a,L4,2,100,5,abc,0.1\n", r"line 2, column compute_s: expected a number, got 'abc'"),
    (H + "a,L4,0,100,5,0.2,0.1\n", r"line 2, column blocks: expected a number ≥ 1"),
    (H + "a,L4,1.5,100,5,0.2,0.1\n", r"line 2, column blocks: expected an integer"),
    (H + "a,L4,2,100,0,0.2,0.1\n", r"line 2, column output_tokens: expected a number ≥ 1"),
    (H + "a,L4,2,100,5,-0.2,0.1\n", r"column compute_s: expected a number ≥ 0"),
    (H + "a,L4,2,100,5,nan,0.1\n", r"expected a finite number"),
    (H + "a,L4,2,100,5,0.2\n", r"line 2: 6 fields, the header has 7"),
    (H.strip() + ",colour\n", r"unknown column\(s\) colour"),
    (H + "a,L4,2,100,5,0.2,0.1\na,L4,3,200,6,0.3,0.1\n", r"GPU type 'L4': 2 row\(s\); fitting t_o_s, t_in_s_per_token, t_out_s_per_token needs at least 4"),
    (H + "".join(f"a,L4,{b},2000,{o},0.{b},0.1\n" for b, o in [(1, 5), (2, 9), (3, 7), (4, 3)]),
     r"GPU type 'L4': column input_tokens does not vary \(all 2000\)"),
    (H + "".join(f"a,L4,{b},{i},20,0.{b},0.1\n" for b, i in [(1, 500), (2, 900), (3, 700), (4, 300)]),
     r"GPU type 'L4': column output_tokens does not vary \(all 20\)"),
    (H + "".join(f"a,L4,2,{100 * k},{10 * k + 1},0.{k},0.1\n" for k in range(1, 6)),
     r"GPU type 'L4': the rows do not determine"),                               # l_in ∝ (l_out − 1), blocks fixed
    (H + "a,L4,2,100,5,0.2,0.1\na,A100-80GB,2,100,5,0.2,0.1\n", r"line 3, column gpu: server 'a' is 'A100-80GB' here but 'L4' on line 2"),
])
def test_bad_csvs_are_refused_with_line_column_or_gpu_type(tmp_path, text, needle):
    with pytest.raises(InvalidInstance, match=needle):
        calibrate(_bad(tmp_path, text))


def test_server_missing_from_cluster_and_single_comm_row(tmp_path):
    data = rows(60, noise=0.0) + [{"server": "ghost", "gpu": "A100-MIG-2g.20gb", "blocks": 2, "input_tokens": 100,
                                    "output_tokens": 5, "compute_s": "0.1", "comm_s": "0.1"}]
    with pytest.raises(InvalidInstance, match=r"line 62, column server: 'ghost' is not a server of"):
        calibrate(write(tmp_path / "m.csv", data), cluster=_cluster(tmp_path))
    with pytest.raises(InvalidInstance, match=r"server 'ghost': 1 row\(s\); fitting rtt_plus_overhead_s needs at least 2"):
        calibrate(write(tmp_path / "m.csv", data))


def test_cli_report_out_and_errors(tmp_path):
    m = write(tmp_path / "m.csv", rows(200, noise=0.03, seed=9))
    out = tmp_path / "cal.json"
    import os

    env = dict(os.environ, COLUMNS="220")
    cli = lambda *a: subprocess.run([sys.executable, "-m", "chaincomp.cli", "calibrate", *a], capture_output=True, text=True,
                                    timeout=120, env=env)
    r = cli(str(m), "--cluster", str(_cluster(tmp_path)), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "R²" in r.stdout and "t^I µs/tok" in r.stdout and "residual quantiles" in r.stdout and "spare" in r.stdout and out.is_file()
    r = cli(str(m), "--json")
    rep = json.loads(r.stdout)
    assert set(rep["gpu_types"]) == set(TRUE_COMPUTE) and rep["servers"]["hi1"]["parameters"]["rtt_plus_overhead_s"]["std_error"] > 0
    bad = cli(str(_bad(tmp_path, H + "a,L4,2,100,5,x,0.1\n")))
    assert bad.returncode == 2 and "column compute_s" in bad.stderr and "Traceback" not in bad.stderr


def test_docs_example_recovers_the_documented_parameters():
    """docs/calibrate.md's command on docs/examples/ (synthetic, parameters from synth.py)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "docs" / "examples"
    cal = calibrate(root / "measurements.csv", cluster=root / "cluster.json", input_tokens=2048, output_tokens=28)
    hi, lo = cal.compute["A100-MIG-3g.40gb"], cal.compute["A100-MIG-2g.20gb"]
    assert hi.estimate[1] * 1e6 == pytest.approx(14.5, abs=0.05) and lo.estimate[1] * 1e6 == pytest.approx(25.6, abs=0.05)
    assert hi.estimate[2] * 1e3 == pytest.approx(1.99, abs=0.005) and lo.estimate[2] * 1e3 == pytest.approx(3.51, abs=0.005)
    for f, true in ((hi, TRUE_COMPUTE["A100-MIG-3g.40gb"]), (lo, TRUE_COMPUTE["A100-MIG-2g.20gb"])):
        assert all(abs(e - t) <= 4 * s for e, t, s in zip(f.estimate, true, f.std_error))


def test_gpu_type_rows_without_server_ids(tmp_path):
    """Rows that name only the GPU type: per-type compute fits; τ^c stays modelled (reported)."""
    data = rows(200, noise=0.0, seed=4)
    m = write(tmp_path / "m.csv", data, columns=("gpu", "blocks", "input_tokens", "output_tokens", "compute_s"))
    with pytest.raises(InvalidInstance, match="without a server column, give the cluster file"):
        calibrate(m)
    cal = calibrate(m, cluster=_cluster(tmp_path), input_tokens=1000, output_tokens=10)
    assert cal.comm == {} and set(cal.not_calibrated["tau_comm"]) == set(TRUE_COMM) | {"spare"}
    for srv in cal.cluster["servers"]:
        t_o, t_i, t_out = TRUE_COMPUTE[srv["gpu"]]
        assert srv["tau_comp_s"] == pytest.approx(t_o + 1000 * t_i + 9 * t_out, rel=1e-4)
        assert "tau_comm_s" not in srv
