"""Signals (docs/reliability.md, "Signals"): SIGTERM behaves like Ctrl-C, a second signal exits at
once with one line, no traceback from an interrupt, the simulator stops promptly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaincomp.core.solution import Solution
from chaincomp.core.verify import verify_solution

ROOT = Path(__file__).resolve().parents[2]


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "chaincomp.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


MILP = ("solve", "--example", "bloom-j20", "--rate", "1.0", "--method", "milp", "--time-limit", "120", "--json")


@pytest.fixture(scope="module", autouse=True)
def compiled_kernels():
    """On a fresh clone the numba kernels compile on first use, and a signal handler cannot run while
    the main thread is inside LLVM (seconds): solve once first, so that the timings below measure
    the signal handling, not a one-time compilation. The milp is run to its end once and interrupted
    once (the phases after a Ctrl-C may use kernels that a finished run did not)."""
    subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--example", "bloom-j20", "--rate", "1.0",
                    "--method", "milp", "--time-limit", "10", "--json"], cwd=ROOT, capture_output=True, timeout=300)
    proc = _start(*MILP)
    time.sleep(6.0)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    subprocess.run([sys.executable, "-m", "chaincomp.cli", "simulate", "--example", "bloom-j20", "--jobs", "20000",
                    "--json"], cwd=ROOT, capture_output=True, timeout=300)


@pytest.mark.slow
def test_sigterm_writes_the_incumbent_like_ctrl_c(tmp_path):
    out = tmp_path / "design.json"
    proc = _start(*MILP, "--out", str(out))
    time.sleep(6.0)
    if proc.poll() is not None:
        pytest.fail(f"solve ended before the signal: {proc.stderr.read()}")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    data = json.loads(stdout)
    assert data["solver"]["status"] == "interrupted"
    assert verify_solution(Solution.from_dict(data)) == []
    assert json.loads(out.read_text())["solver"]["status"] == "interrupted"


_SLOW_CLEANUP = """
import sys, time
from chaincomp import interrupts
interrupts.install()
try:
    while True:
        time.sleep(0.01)
except KeyboardInterrupt:
    print("cleaning up", flush=True)   # the first Ctrl-C is being handled (slowly)
    time.sleep(30)
    print("cleanup finished", flush=True)
"""


@pytest.mark.slow
def test_second_ctrl_c_during_cleanup_exits_at_once_with_one_line():
    """Deterministic: the second signal arrives while the first one's handling is known to run."""
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_CLEANUP], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    assert proc.stdout.readline().strip() == "cleaning up"
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - t < 2.0
    assert proc.returncode == 130
    assert "cleanup finished" not in stdout
    assert stderr.strip().splitlines() == ["chaincomp: interrupted again, exiting now"]


@pytest.mark.slow
def test_two_ctrl_c_during_milp_end_at_once_without_traceback():
    """End to end: two Ctrl-C 50 ms apart during a milp solve. The first one may already have written
    the incumbent and ended the process before the second arrives (exit 0, a verified design with
    status ``interrupted``); otherwise the second exits at once (130, one line — or no line when it
    came during interpreter shutdown)."""
    proc = _start(*MILP)
    time.sleep(6.0)
    if proc.poll() is not None:
        pytest.fail(f"solve ended before the signal: {proc.stderr.read()}")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    t = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    # "at once" against the solve's 60 s budget: the first signal may have started writing the verified
    # incumbent, which takes ≈ 0.5 s idle and measured 2.3 s on a machine loaded by other solves
    assert time.monotonic() - t < 5.0
    assert "Traceback" not in stderr
    if proc.returncode == 0:
        data = json.loads(stdout)
        assert data["solver"]["status"] == "interrupted"
        assert verify_solution(Solution.from_dict(data)) == []
    else:
        assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, stderr)
        assert stderr.strip().splitlines() in ([], ["chaincomp: interrupted again, exiting now"])


@pytest.mark.slow
def test_simulator_stops_promptly_on_ctrl_c():
    """Measured on this 2-core machine: 0.03–0.37 s from the signal to the process's exit."""
    proc = _start("simulate", "--example", "bloom-j20", "--jobs", "20000000", "--json")
    time.sleep(4.0)
    if proc.poll() is not None:
        pytest.fail(f"simulate ended before the signal: {proc.stderr.read()}")
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    elapsed = time.monotonic() - t
    assert proc.returncode == 130 and stderr.strip() == "interrupted"
    assert elapsed < 1.0, f"{elapsed:.2f} s from Ctrl-C to exit"


def test_interrupt_during_start_up_prints_no_traceback():
    """SIGINT/SIGTERM at several moments while chaincomp's modules are being imported."""
    code = "import sys; sys.stdout.write('up\\n'); sys.stdout.flush(); from chaincomp.cli.entry import main; main(sys.argv[1:])"
    for sig, delay in ((signal.SIGINT, 0.05), (signal.SIGINT, 0.1), (signal.SIGTERM, 0.15), (signal.SIGINT, 0.3)):
        proc = subprocess.Popen([sys.executable, "-c", code, "solve", "--example", "bloom-j20"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "up\n"
        time.sleep(delay)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
        assert "Traceback" not in stderr, stderr
        assert proc.returncode in (0, 130), (proc.returncode, stderr)


def test_kernel_stop_flag_keeps_results_identical():
    """The kernel's stop flag is only read, never changes results: same seed → same arrays."""
    import numpy as np

    from chaincomp.sim.kernel import chain_dispatch_kernel, run_kernel

    rng = np.random.default_rng(3)
    n, K = 5000, 4
    args = (1, np.cumsum(rng.exponential(0.2, n)), rng.exponential(1.0, n), np.zeros(n), np.zeros(n), rng.random(n),
            np.tile([1.0, 0, 0, 0], (K, 1)), np.array([1, 2, 1, 3]), np.ones(K), 10)
    a = run_kernel(*args)
    b = chain_dispatch_kernel(*args, np.zeros(1, dtype=np.int8))
    for x, y in zip(a, b):
        assert np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
