"""Bad input files raise InvalidInstance / InfeasibleInstance naming file, JSON path and expectation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chaincomp.errors import InfeasibleInstance, InvalidInstance
from chaincomp.instances.load import load_instance_dict, load_instance_file, load_problem

GOOD_CLUSTER = {"servers": [
    {"id": "a", "gpu": "A100-MIG-3g.40gb", "rtt_ms": 10},
    {"id": "b", "memory_gb": 20, "tflops": 80, "bandwidth_gb_s": 510, "rtt_ms": 20, "count": 4},
]}
GOOD_MODEL = {"num_blocks": 70, "block_size_gb": 1.32, "cache_size_gb": 0.11, "flops_per_block_per_token": 5e9}
GOOD_WORKLOAD = {"arrival_rate": 0.2}


def write(tmp_path: Path, name: str, data) -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def files(tmp_path, cluster=GOOD_CLUSTER, model=GOOD_MODEL, workload=GOOD_WORKLOAD):
    return (write(tmp_path, "cluster.json", cluster), write(tmp_path, "model.json", model),
            None if workload is None else write(tmp_path, "workload.json", workload))


def test_good_files_load(tmp_path):
    p = load_problem(*files(tmp_path))
    assert p.num_servers == 5 and p.server_ids[1:] == ("b-1", "b-2", "b-3", "b-4")
    assert p.meta["source"]["cluster"].endswith("cluster.json")


def test_negative_memory(tmp_path):
    cluster = {"servers": [dict(GOOD_CLUSTER["servers"][0]), {"id": "x", "memory_gb": -5, "tflops": 1, "bandwidth_gb_s": 1, "rtt_ms": 1}]}
    with pytest.raises(InvalidInstance) as e:
        load_problem(*files(tmp_path, cluster=cluster))
    assert "cluster.json: servers[1].memory_gb: expected a number > 0, got -5" in str(e.value)


def test_missing_field(tmp_path):
    cluster = {"servers": [{"id": "x", "memory_gb": 40, "tflops": 1, "bandwidth_gb_s": 1}]}
    with pytest.raises(InvalidInstance) as e:
        load_problem(*files(tmp_path, cluster=cluster))
    msg = str(e.value)
    assert "cluster.json: servers[0]:" in msg and "rtt_ms" in msg
    with pytest.raises(InvalidInstance, match=r"cluster\.json: servers\[0\]\.id: required field is missing"):
        load_problem(*files(tmp_path, cluster={"servers": [{"memory_gb": 4, "tau_comm_s": 1, "tau_comp_s": 1}]}))
    with pytest.raises(InvalidInstance, match=r"model\.json: block_size_gb: required"):
        load_problem(*files(tmp_path, model={"num_blocks": 3, "cache_size_gb": 0.1}))


def test_unknown_field_is_a_typo(tmp_path):
    cluster = {"servers": [{"id": "x", "gpu": "L4", "rtt_ms": 1, "memroy_gb": 3}]}
    with pytest.raises(InvalidInstance, match=r"cluster\.json: servers\[0\]\.memroy_gb: unknown field; did you mean 'memory_gb'\?"):
        load_problem(*files(tmp_path, cluster=cluster))
    with pytest.raises(InvalidInstance, match=r"workload\.json: arival_rate: unknown field; did you mean 'arrival_rate'"):
        load_problem(*files(tmp_path, workload={"arival_rate": 1}))


def test_bad_values(tmp_path):
    with pytest.raises(InvalidInstance, match=r"workload\.json: target_load: expected a number ≤ 1, got 1.5"):
        load_problem(*files(tmp_path, workload={"arrival_rate": 1, "target_load": 1.5}))
    with pytest.raises(InvalidInstance, match=r"servers\[0\]\.gpu: unknown GPU type 'A1000'"):
        load_problem(*files(tmp_path, cluster={"servers": [{"id": "x", "gpu": "A1000", "rtt_ms": 1}]}))
    with pytest.raises(InvalidInstance, match=r"model\.json: dtype: expected one of"):
        load_problem(*files(tmp_path, model=GOOD_MODEL | {"dtype": "fp8"}))
    with pytest.raises(InvalidInstance, match=r"model\.json: card: unknown model card"):
        load_problem(*files(tmp_path, model={"card": "GPT-5"}))
    with pytest.raises(InvalidInstance, match=r"servers\[0\]\.rtt_ms: expected a number, got 'fast'"):
        load_problem(*files(tmp_path, cluster={"servers": [{"id": "x", "gpu": "L4", "rtt_ms": "fast"}]}))
    with pytest.raises(InvalidInstance, match=r"cluster\.json: servers: expected at least 1 item"):
        load_problem(*files(tmp_path, cluster={"servers": []}))
    with pytest.raises(InvalidInstance, match="appears twice"):
        load_problem(*files(tmp_path, cluster={"servers": [GOOD_CLUSTER["servers"][0]] * 2}))


def test_bad_json_and_missing_file(tmp_path):
    c, m, w = files(tmp_path)
    bad = write(tmp_path, "broken.json", '{"servers": [ {"id": "a",} ]}')
    with pytest.raises(InvalidInstance, match=r"broken\.json: not valid JSON: .* line 1"):
        load_problem(bad, m, w)
    with pytest.raises(InvalidInstance, match=r"nothere\.json: no such file"):
        load_problem(tmp_path / "nothere.json", m, w)
    with pytest.raises(InvalidInstance, match=r"cluster\.json: \(top level\): expected a JSON object"):
        load_problem(write(tmp_path, "cluster.json", "[1, 2]"), m, w)


def test_model_fits_nowhere(tmp_path):
    with pytest.raises(InfeasibleInstance, match=r"fits on no server: .* 41\.43 GB, but the largest server \('a'\) has only 40 GB"):
        load_problem(*files(tmp_path, model=GOOD_MODEL | {"block_size_gb": 41.32}))


def test_cluster_too_small(tmp_path):
    cluster = {"servers": [{"id": "a", "gpu": "A100-MIG-2g.20gb", "rtt_ms": 3}]}
    with pytest.raises(InfeasibleInstance, match="hosts only 13 of 70 blocks"):
        load_problem(*files(tmp_path, cluster=cluster))


def test_missing_arrival_rate(tmp_path):
    c, m, _ = files(tmp_path, workload=None)
    with pytest.raises(InvalidInstance, match="no arrival rate"):
        load_problem(c, m)
    assert load_problem(c, m, arrival_rate=0.5).arrival_rate == 0.5
    with pytest.raises(InvalidInstance, match=r"workload\.json: arrival_rate: no arrival rate"):
        load_problem(*files(tmp_path, workload={"target_load": 0.5}))


def test_underivable_tau(tmp_path):
    model = {"num_blocks": 70, "block_size_gb": 1.32, "cache_size_gb": 0.11}
    with pytest.raises(InvalidInstance, match=r"model\.json: flops_per_block_per_token: required to derive τ\^p of server 'a'"):
        load_problem(*files(tmp_path, model=model))


def test_single_file_paths(tmp_path):
    data = {"name": "x", "cluster": {"servers": [{"id": "a", "memory_gb": 0, "rtt_ms": 1, "gpu": "L4"}]},
            "model": GOOD_MODEL, "workload": GOOD_WORKLOAD}
    p = write(tmp_path, "inst.json", data)
    with pytest.raises(InvalidInstance, match=r"inst\.json: cluster\.servers\[0\]\.memory_gb: expected a number > 0, got 0"):
        load_instance_file(p)
    data = {"name": "x", "cluster": GOOD_CLUSTER, "model": GOOD_MODEL, "workload": {}}
    with pytest.raises(InvalidInstance, match=r"inst\.json: workload\.arrival_rate: no arrival rate"):
        load_instance_file(write(tmp_path, "inst.json", data))
    assert load_instance_file(tmp_path / "inst.json", arrival_rate=0.3).arrival_rate == 0.3
    with pytest.raises(InvalidInstance, match=r"<d>: modle: unknown field; did you mean 'model'"):
        load_instance_dict({"name": "x", "cluster": GOOD_CLUSTER, "modle": {}}, "<d>")


def test_hf_config_import(tmp_path):
    hf = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
          "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256,
          "max_position_embeddings": 8192, "torch_dtype": "bfloat16", "hidden_act": "silu"}
    c, m, w = files(tmp_path, model=hf)
    p = load_problem(c, m, w)
    h = 4096
    ppb = 2 * h * h + 2 * h * h / 4 + 3 * h * 14336 + 2 * h
    assert p.num_blocks == 32
    assert p.block_size_gb == pytest.approx(ppb * 2 * 1.01 / 1e9)
    assert p.cache_size_gb == pytest.approx(2 * h * 8192 * 2 / 4 / 1e9)
    # our model file referring to it, with an override
    write(tmp_path, "config.json", hf)
    p2 = load_problem(c, write(tmp_path, "model2.json", {"hf_config": "config.json", "max_seq_len": 2048}), w)
    assert p2.cache_size_gb == pytest.approx(p.cache_size_gb / 4)
    with pytest.raises(InvalidInstance, match=r"hidden_size: required field of a Hugging Face config.json"):
        load_problem(c, write(tmp_path, "m3.json", {k: v for k, v in hf.items() if k != "hidden_size"}), w)


def _run_cli(*args):
    return subprocess.run([sys.executable, "-c", "from chaincomp.cli.app import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_bad_cluster_exits_2_without_traceback(tmp_path):
    bad = write(tmp_path, "bad.json", {"servers": [{"id": "a", "gpu": "L4", "rtt_ms": 1, "memory_gb": -5}]})
    m = write(tmp_path, "m.json", GOOD_MODEL)
    r = _run_cli("solve", "--cluster", str(bad), "--model", str(m), "--rate", "1")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert "bad.json" in r.stderr and "servers[0].memory_gb" in r.stderr
    r = _run_cli("solve", "--cluster", str(write(tmp_path, "c.json", GOOD_CLUSTER)),
                 "--model", str(write(tmp_path, "big.json", GOOD_MODEL | {"block_size_gb": 100})), "--rate", "1")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "fits on no server" in r.stderr
    r = _run_cli("solve", "--cluster", str(tmp_path / "c.json"), "--model", str(m))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "no arrival rate" in r.stderr
