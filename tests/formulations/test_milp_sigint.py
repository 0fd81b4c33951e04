"""Ctrl-C during a long MILP solve: exit 0, status ``interrupted``, a verified incumbent (issue 4)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest

from chaincomp.core.solution import Solution
from chaincomp.core.verify import verify_solution


def test_sigint_returns_verified_incumbent(tmp_path):
    exe = shutil.which("chaincomp")
    cmd = [exe] if exe else [sys.executable, "-m", "chaincomp.cli.app"]
    out = tmp_path / "design.json"
    proc = subprocess.Popen(
        cmd + ["solve", "--example", "bloom-j20", "--rate", "1.0", "--method", "milp", "--time-limit", "120",
               "--json", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(6.0)
    if proc.poll() is not None:
        pytest.fail(f"solve ended before the signal: {proc.stderr.read()}")
    t = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.perf_counter() - t < 30, "the solve did not stop promptly"
    assert proc.returncode == 0, stderr
    data = json.loads(stdout)
    assert data["solver"]["status"] == "interrupted"
    assert data["solver"]["proved_optimal"] is False
    sol = Solution.from_dict(data)
    assert verify_solution(sol) == []
    assert json.loads(out.read_text())["solver"]["status"] == "interrupted"
