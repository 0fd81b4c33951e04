"""The verifier's rules R1–R9 (docs/verify.md), one hand-built violating solution per rule.

Each case starts from the worked example's valid GBP-CR + GCA design (SPEC §8, written by
``Solution.to_dict``) and breaks one thing in the raw JSON; the verifier must name that rule and
never raise (no ZeroDivisionError on s_c = 0, T_k = 0 or ρ̄ = 0; no truncation of 2.5 or "5")."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys

import pytest

from chaincomp.core.solution import Solution
from chaincomp.core.verify import verify_data
from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from tests.conftest import worked_example_problem


@pytest.fixture
def base():
    p = worked_example_problem()
    g = gbp_cr(p, 1)
    data = json.loads(Solution.create(p, "greedy", g.placement, gca(p, g.placement)).to_json())
    assert verify_data(data) == []
    return data


def _mut(data, fn):
    d = copy.deepcopy(data)
    fn(d)
    return verify_data(d)


def _set(path, value):
    def fn(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return fn


CASES = {
    # R1 types and integrality: never truncated or coerced
    "capacity 2.5": (("chains", 0, "capacity"), 2.5, "capacity"),
    "capacity '5'": (("chains", 0, "capacity"), "5", "capacity"),
    "capacity true": (("chains", 0, "capacity"), True, "capacity"),
    "num_blocks '1'": (("placement", 0, "num_blocks"), "1", "num_blocks"),
    "num_blocks 1.5": (("placement", 0, "num_blocks"), 1.5, "num_blocks"),
    "first_block 1.0": (("placement", 0, "first_block"), 1.0, "first_block"),
    "hop blocks 2.5": (("chains", 0, "blocks"), [1, 2.5], "blocks"),
    "L '3'": (("instance", "num_blocks"), "3", "num_blocks"),
    "memory '2'": (("instance", "servers", 0, "memory_gb"), "2", "memory_gb"),
    "memory true": (("instance", "servers", 0, "memory_gb"), True, "memory_gb"),
    # R2 finite positive parameters
    "memory NaN": (("instance", "servers", 0, "memory_gb"), math.nan, "memory_gb"),
    "memory 0": (("instance", "servers", 0, "memory_gb"), 0.0, "memory_gb"),
    "s_c = 0": (("instance", "cache_size_gb"), 0.0, "cache_size_gb"),
    "s_m = -1": (("instance", "block_size_gb"), -1.0, "block_size_gb"),
    "ρ̄ = 0": (("instance", "target_load"), 0.0, "target_load"),
    "ρ̄ = 1.5": (("instance", "target_load"), 1.5, "target_load"),
    "λ = 0": (("instance", "arrival_rate"), 0.0, "arrival_rate"),
    "λ = inf": (("instance", "arrival_rate"), math.inf, "arrival_rate"),
    "τ^c < 0": (("instance", "servers", 1, "tau_comm_s"), -1.0, "tau_comm_s"),
    "unknown server in placement": (("placement", 0, "server"), "nobody", "not a server"),
    "unknown server in chain": (("chains", 0, "servers"), ["j1", "zz"], "not a server"),
    # R3 ranges
    "range beyond L": (("placement", 1, "first_block"), 3, "outside 1..3"),
    "num_blocks > L": (("placement", 1, "num_blocks"), 4, "outside 0..3"),
    # R7 times
    "wrong T_k": (("chains", 0, "service_time_s"), 2.0, "service time"),
    # R9 metrics
    "wrong ν": (("metrics", "service_rate"), 9.0, "service_rate"),
    "wrong job servers": (("metrics", "job_servers"), 1, "job_servers"),
    "wrong Σc": (("metrics", "total_capacity"), 99, "total_capacity"),
    "wrong chain count": (("metrics", "num_chains"), 7, "num_chains"),
    "wrong λ/ρ̄": (("metrics", "required_rate"), 0.1, "required_rate"),
    "metric as string": (("metrics", "service_rate"), "0.66", "service_rate"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_one_violation_per_rule(base, name):
    path, value, word = CASES[name]
    errs = _mut(base, _set(path, value))
    assert errs and any(word in e for e in errs), (name, errs)


def test_chain_rule(base):
    # R4: j1 (block 1) → j5 (block 3 only): block 2 is skipped
    errs = _mut(base, lambda d: d["chains"][0].update(servers=["j1", "j5"], blocks=[1, 2]))
    assert any("cannot process block 2" in e for e in errs)
    errs = _mut(base, lambda d: d["chains"][0].update(servers=["j1", "j4"], blocks=[1, 1]))
    assert any("ends at block 2" in e for e in errs)


def test_blocks_per_hop(base):
    # R5: j1 → j2 processes (1, 2) blocks, not (1, 1)
    errs = _mut(base, lambda d: d["chains"][0].update(blocks=[1, 1]))
    assert any("processes 2 blocks" in e for e in errs)


def test_memory_exact(base):
    # R6: j1 holds 10 slots (⌊(2 − 1)/0.1⌋ exactly); chains through j1 carry 5 + 5; one more overflows
    errs = _mut(base, lambda d: d["chains"][0].update(capacity=6))
    assert any("j1" in e and "memory" in e for e in errs)


def test_rate_target_exact(base):
    # R8: λ raised so that ν falls short of λ/ρ̄ by 1e-10 relative (the design has ν = Σ c/T)
    nu = sum(c["capacity"] / c["service_time_s"] for c in base["chains"])

    def fn(d):
        d["instance"]["arrival_rate"] = nu * 0.7 * (1 + 1e-10)
        d["metrics"] = {}
    errs = _mut(base, fn)
    assert any(e.startswith("rate:") for e in errs), errs

    def ok(d):
        d["instance"]["arrival_rate"] = nu * 0.7 * (1 - 1e-10)
        d["metrics"] = {}
    assert _mut(base, ok) == []


def test_zero_service_time_and_zero_cache_do_not_crash(base):
    def fn(d):
        for s in d["instance"]["servers"]:
            s["tau_comm_s"] = 0.0
            s["tau_comp_s"] = 0.0
    errs = _mut(base, fn)  # T_k = 0: reported, no ZeroDivisionError
    assert errs and any("service time" in e or "T_k" in e for e in errs)


def test_cli_lists_every_broken_rule(base, tmp_path):
    d = copy.deepcopy(base)
    d["chains"][0]["capacity"] = 2.5
    d["instance"]["servers"][0]["memory_gb"] = "2"
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(d))
    proc = subprocess.run([sys.executable, "-m", "chaincomp.cli", "verify", str(f)], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "capacity" in proc.stdout and "memory_gb" in proc.stdout
