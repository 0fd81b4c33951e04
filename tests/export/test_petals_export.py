"""PETALS export read flag by flag (shlex.split) against PETALS' own server options.

PETALS_FLAGS is the option list of petals' src/petals/cli/run_server.py (bigscience-workshop/petals
commit 22afba6, petals 2.x), written out here so the test does not depend on petals being installed.
"""

from __future__ import annotations

import json
import math
import shlex
import subprocess
import sys
from dataclasses import replace

import pytest

from chaincomp import methods
from chaincomp.errors import UsageError
from chaincomp.export import petals_export
from chaincomp.instances.examples import load_example

PETALS_FLAGS = {  # flag → number of values (None: 1 or more)
    "--converted_model_name_or_path": 1, "--public_name": 1, "--token": 1, "--use_auth_token": 0,
    "--num_blocks": 1, "--block_indices": 1, "--dht_prefix": 1, "--port": 1, "--public_ip": 1,
    "--no_auto_relay": 0, "--host_maddrs": None, "--announce_maddrs": None, "--daemon_startup_timeout": 1,
    "--compression": 1, "--num_handlers": 1, "--prefetch_batches": 1, "--sender_threads": 1,
    "--inference_max_length": 1, "--min_batch_size": 1, "--max_batch_size": 1, "--max_chunk_size_bytes": 1,
    "--attn_cache_tokens": 1, "--cache_dir": 1, "--max_disk_space": 1, "--device": 1, "--torch_dtype": 1,
    "--max_alloc_timeout": 1, "--revision": 1, "--throughput": 1, "--update_period": 1, "--expiration": 1,
    "--request_timeout": 1, "--session_timeout": 1, "--step_timeout": 1, "--initial_peers": None,
    "--new_swarm": 0, "--increase_file_limit": 1, "--stats_report_interval": 1, "--custom_module_path": 1,
    "--identity_path": 1, "--balance_quality": 1, "--mean_balance_check_period": 1, "--quant_type": 1,
    "--tensor_parallel_devices": None, "--skip_reachability_check": 0, "--adapters": None,
}
TORCH_DTYPE_CHOICES = {"bfloat16", "float16", "float32", "auto"}
QUANT_CHOICES = {"none", "int8", "nf4"}


def parse(command: str) -> tuple[str, dict[str, list[str]]]:
    """Split one command like argparse would: positional model + flag → values."""
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "petals.cli.run_server"]
    model, rest = argv[3], argv[4:]
    assert not model.startswith("--")
    flags: dict[str, list[str]] = {}
    i = 0
    while i < len(rest):
        flag = rest[i]
        assert flag in PETALS_FLAGS, f"{flag} is not a PETALS run_server option"
        assert flag not in flags, f"{flag} given twice"
        i += 1
        vals = []
        while i < len(rest) and not rest[i].startswith("--"):
            vals.append(rest[i])
            i += 1
        n = PETALS_FLAGS[flag]
        assert (len(vals) == n) if n is not None else len(vals) >= 1, (flag, vals)
        flags[flag] = vals
    return model, flags


def design(name="bloom-j20", c=7):
    return methods.get("greedy").func(load_example(name), cache_reservation=c)


def test_bloom_export_flag_by_flag():
    sol = design()
    p = sol.problem
    exp = petals_export(sol)
    used = [j for j in range(p.num_servers) if any(j in ch.servers for ch in sol.allocation.chains)]
    assert [s.server for s in exp.servers] == [p.server_ids[j] for j in used]
    for k, s in enumerate(exp.servers):
        j = p.server_ids.index(s.server)
        model, f = parse(s.command)
        assert model == "bigscience/bloom"
        a, m = int(sol.placement.first_block[j]), int(sol.placement.num_blocks[j])
        assert f["--block_indices"] == [f"{a - 1}:{a - 1 + m}"]            # 0-based, half-open
        slots = sum(cap * b for ch, cap in zip(sol.allocation.chains, sol.allocation.capacities)
                    for jj, b in zip(ch.servers, ch.blocks) if jj == j)  # U_j, Eq. 3
        assert int(f["--attn_cache_tokens"][0]) == math.ceil(slots * 2048 / m)  # slots × 2048 tokens over m blocks
        assert f["--inference_max_length"] == ["2048"]
        assert f["--quant_type"] == ["nf4"] and f["--torch_dtype"] == ["float16"]  # paper: BLOOM in NF4
        assert f["--torch_dtype"][0] in TORCH_DTYPE_CHOICES and f["--quant_type"][0] in QUANT_CHOICES
        tput = float(f["--throughput"][0])
        assert tput == pytest.approx((2000 + 20) / p.tau_comp_s[j] / ((m + 1) / 2), rel=1e-5)
        assert "--num_blocks" not in f  # PETALS refuses num_blocks together with block_indices
        if k == 0:
            assert "--new_swarm" in f and "--initial_peers" not in f and f["--port"] == ["31337"]
        else:
            assert "--new_swarm" not in f and f["--initial_peers"] == ["/ip4/FIRST_SERVER_IP/tcp/31337/p2p/FIRST_SERVER_PEER_ID"]
    assert any("FIRST_SERVER_IP" in n for n in exp.notes)


def test_worked_example_refused_without_a_model_name():
    sol = design("worked-example", 1)
    with pytest.raises(UsageError, match="no Hugging Face repo id.*--model-name"):
        petals_export(sol)
    with pytest.raises(UsageError, match="cannot derive --attn_cache_tokens"):
        petals_export(sol, model_name="org/model")


def test_quoting_control_characters_and_initial_peers():
    sol = design()
    exp = petals_export(sol, model_name="my org/model; rm -rf ~", initial_peers="/ip4/10.0.0.1/tcp/31337/p2p/QmX")
    model, f = parse(exp.servers[1].command)
    assert model == "my org/model; rm -rf ~"                 # one argument after shlex.split
    assert f["--initial_peers"] == ["/ip4/10.0.0.1/tcp/31337/p2p/QmX"]
    with pytest.raises(UsageError, match="control characters"):
        petals_export(sol, model_name="bigscience/bloom\nrm -rf /")
    p = sol.problem
    j = p.server_ids.index(exp.servers[0].server)
    ids = list(p.server_ids)
    ids[j] += "\x1b[2J"
    with pytest.raises(UsageError, match="server id .* control characters"):
        petals_export(replace(sol, problem=replace(p, server_ids=tuple(ids))))


def test_hf_config_name_dtype_and_multi_gpu(tmp_path):
    cfg = {"_name_or_path": "meta-llama/Meta-Llama-3-8B", "architectures": ["LlamaForCausalLM"], "model_type": "llama",
           "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
           "num_key_value_heads": 8, "max_position_embeddings": 8192, "torch_dtype": "bfloat16", "vocab_size": 128256}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "m.json").write_text(json.dumps({"hf_config": "config.json", "max_seq_len": 4096}))
    (tmp_path / "cluster.json").write_text(json.dumps({"servers": [
        {"id": "node", "gpu": "A100-80GB", "num_gpus": 2, "rtt_ms": 5}, {"id": "l4", "gpu": "L4", "rtt_ms": 20, "count": 2}]}))
    from chaincomp.instances.load import load_problem

    p = load_problem(tmp_path / "cluster.json", tmp_path / "m.json", arrival_rate=0.5)
    sol = methods.get("greedy").func(p, cache_reservation=2)
    exp = petals_export(sol)
    assert exp.torch_dtype == "bfloat16" and exp.quant_type == "none" and exp.tokens_per_slot == 4096
    for s in exp.servers:
        model, f = parse(s.command)
        assert model == "meta-llama/Meta-Llama-3-8B" and f["--torch_dtype"] == ["bfloat16"] and f["--quant_type"] == ["none"]
        assert f["--inference_max_length"] == ["4096"]
        assert ("--tensor_parallel_devices" in f) == (s.server == "node")
        if s.server == "node":
            assert f["--tensor_parallel_devices"] == ["cuda:0", "cuda:1"]
        # PETALS' pool: tokens × blocks × 2·hidden/groups·2 bytes  ≥  the design's U_j · s_c (same per-token size here)
        m = s.end_block_0 - s.first_block_0
        assert s.attn_cache_tokens * m * 2 * 4096 / 4 * 2 / 1e9 >= s.cache_slots * p.cache_size_gb - 1e-12


def test_unsupported_family_refused(tmp_path):
    sol = design()
    p = sol.problem
    meta = json.loads(json.dumps(p.meta))
    meta["model"]["architecture"] = "gemma"
    with pytest.raises(UsageError, match="PETALS serves bloom, llama, falcon, mixtral"):
        petals_export(replace(sol, problem=replace(p, meta=meta)))


def test_cli_json_carries_the_commands_and_text_is_pasteable():
    run = lambda *a: subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--example", "bloom-j20", "--c", "7",
                                     "--export", "petals", *a], capture_output=True, text=True, timeout=120)
    js = run("--json")
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    cmds = [s["command"] for s in data["export"]["petals"]["servers"]]
    assert cmds and all(parse(c)[0] == "bigscience/bloom" for c in cmds)
    assert data["placement"] and data["chains"]           # still the Solution JSON
    txt = run()
    lines = [ln for ln in txt.stdout.splitlines() if ln.strip()]
    assert [ln for ln in lines if not ln.startswith("#")] == cmds  # everything else is a shell comment
    bad = subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--example", "worked-example", "--export", "petals"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--model-name" in bad.stderr and "Traceback" not in bad.stderr
