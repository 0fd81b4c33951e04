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
