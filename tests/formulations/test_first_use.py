"""First use fast (issue 10 item 6): tiny instances run the numba kernels' pure-Python originals
(chaincomp/core/jit.py), so a fresh install compiles nothing for the worked example; both forms are
the same code and must give the same answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaincomp import methods
from tests.formulations.tiny import random_instance

ROOT = Path(__file__).resolve().parents[2]


def test_fresh_install_compiles_nothing_for_the_worked_example(tmp_path):
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    env.pop("CHAINCOMP_JIT", None)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--example", "worked-example", "--method",
                           "milp", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t
    assert proc.returncode == 0, proc.stderr
    sol = json.loads(proc.stdout)
    assert sol["solver"]["status"] == "optimal" and sol["solver"]["objective"] == 2
    compiled = [p.name for p in cache.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert compiled == [], compiled  # no kernel was compiled
    assert wall < 10.0, wall  # measured ≤ 2 s (benchmarks/bench_first_use.py); generous for a loaded CI machine


@pytest.mark.parametrize("seed,J,L", [(3, 3, 2), (11, 3, 3), (19, 4, 2), (5, 4, 4)])
def test_pure_python_and_compiled_kernels_agree(monkeypatch, seed, J, L):
    p = random_instance(seed, J, L)
    out = {}
    for mode in ("never", "always"):
        monkeypatch.setenv("CHAINCOMP_JIT", mode)
        try:
            sol = methods.run("milp", p, time_limit_s=20)
            out[mode] = (sol.solver["status"], sol.solver["objective"], sol.solver["bound"])
        except Exception as exc:  # noqa: BLE001 - the same outcome either way
            out[mode] = type(exc).__name__
    assert out["never"] == out["always"], out


def test_jit_mode_is_validated(monkeypatch):
    from chaincomp.core import jit
    from chaincomp.errors import UsageError

    monkeypatch.setenv("CHAINCOMP_JIT", "sometimes")
    with pytest.raises(UsageError):
        jit.mode()
    monkeypatch.setenv("CHAINCOMP_JIT", "auto")
    assert jit.use_compiled(jit.TINY_WORK) is False and jit.use_compiled(jit.TINY_WORK + 1) is True


@pytest.mark.slow
def test_first_compiled_milp_compiles_up_front_and_keeps_the_time_limit(tmp_path):
    """Issue 10 items 5 and 6 together: on an empty numba cache a milp that runs compiled kernels
    compiles them all at the start (chaincomp/formulations/warmup.py), says so on stderr, and still
    ends within its time limit (≤ limit + 5 %); the second run finds them cached and says nothing."""
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    env.pop("CHAINCOMP_JIT", None)
    limit = 50.0
    cmd = [sys.executable, "-m", "chaincomp.cli", "solve", "--example", "bloom-j20", "--method", "milp",
           "--time-limit", f"{limit:g}", "--json"]
    runs = []
    for _ in range(2):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        runs.append((time.perf_counter() - t, proc))
    (wall1, first), (wall2, second) = runs
    assert first.returncode == 0, first.stderr
    assert "compiling them once" in first.stderr and "Traceback" not in first.stderr
    sol = json.loads(first.stdout)
    assert sol["solver"]["first_use_compile_s"] > 0
    assert sol["solver"]["time_s"] <= 1.05 * limit
    assert wall1 <= 1.05 * limit + 1.0, wall1  # + interpreter shutdown after the output is written
    assert second.returncode == 0, second.stderr
    assert "compiling them once" not in second.stderr
    assert "first_use_compile_s" not in json.loads(second.stdout)["solver"]
    assert wall2 < wall1


def test_warm_up_is_skipped_for_tiny_instances_and_after_it_ran(monkeypatch, tmp_path):
    from chaincomp.formulations import warmup

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("CHAINCOMP_JIT", raising=False)
    assert warmup.groups_for(3, 3) == []  # pure-Python kernels (core/jit.py): nothing to compile
    assert warmup.groups_for(4, 8) == ["pricing"]  # J·L = 32 (pure-Python GCA), J·L² = 256
    assert warmup.groups_for(40, 70) == ["greedy", "score", "pricing"]
    assert warmup.ensure_compiled(3, 3) is None
    assert not any(warmup.is_compiled(g) for g in ("greedy", "score", "pricing"))
    # the kernels are already in this process (and on disk in the default cache), so this only loads them
    took = warmup.ensure_compiled(4, 8)
    assert took is not None and warmup.is_compiled("pricing") and not warmup.is_compiled("greedy")
    assert warmup.ensure_compiled(4, 8) is None  # the marker is there: nothing to do
    assert warmup.ensure_compiled(40, 70) is not None and warmup.is_compiled("greedy")
