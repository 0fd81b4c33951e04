"""The milp's placement search in a second process (chaincomp/formulations/parallel_search.py).

Ground truth: the verifier and the exact check on every harvested design, the greedy's value (never
worse), the exact brute-force optimum on a tiny instance (never better), wall-clock deadlines, the
STOP flag (Ctrl-C / SIGTERM) and the death of the parent process (no orphan left behind).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from chaincomp.core import exact
from chaincomp.core.solution import Solution
from chaincomp.core.verify import assert_valid
from chaincomp.formulations.common import greedy_start
from chaincomp.formulations.local_search import gca_design
from chaincomp.formulations.parallel_search import ParallelSearch, _record
from chaincomp.solvers.base import STOP

from tests.formulations.bruteforce import brute_force
from tests.formulations.tiny import random_instance


def _tiny_with_greedy():
    for seed in range(200, 260):
        p = random_instance(seed, 4, 4)
        g = greedy_start(p)
        if g is not None:
            return p, g
    raise AssertionError("no tiny instance with a greedy design")


def _gone(pid: int, within: float) -> bool:
    end = time.perf_counter() + within
    while time.perf_counter() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie (exited, not yet reaped by its parent) counts as gone
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_search_process_designs_verify_and_stop_at_the_deadline():
    """The child's best placements give verified, exactly feasible GCA designs ≤ the greedy's value and
    ≥ the brute-force optimum; the child leaves by its deadline (+ 1 s) on its own."""
    p, g = _tiny_with_greedy()
    opt = brute_force(p)
    t = time.perf_counter()
    ps = ParallelSearch(p, [pl for _, pl, _ in g.candidates], t + 2.5, seed=0)
    ps.process.join(8.0)  # start-up (≈ 1–2 s) + the 2.5 s budget
    assert not ps.alive, "the search process outlived its deadline"
    assert time.perf_counter() - t < 8.0
    msgs = ps.close()
    best = [m for m in msgs if m[0] == "best"]
    assert best, "the search sent no placement"
    assert ps.stats["evaluations"] > 100
    for _, pl, value, t_arr in best:
        al = gca_design(p, pl)
        assert al is not None and al.total_capacity == value
        assert opt <= value <= g.job_servers
        sol = Solution.create(p, "milp", pl, al)
        assert_valid(sol)
        assert exact.check(p, pl, al).feasible
        assert t <= t_arr <= time.perf_counter()


def test_stop_flag_reaches_the_child():
    """STOP.request() (what the Ctrl-C/SIGTERM handler calls) makes the child leave within a second,
    long before its deadline; close() after that returns at once."""
    p, g = _tiny_with_greedy()
    ps = ParallelSearch(p, [pl for _, pl, _ in g.candidates], time.perf_counter() + 60.0, seed=1)
    try:
        time.sleep(2.0)  # let it start and search
        t = time.perf_counter()
        STOP.request()
        ps.process.join(3.0)
        assert not ps.alive
        assert time.perf_counter() - t < 3.0
    finally:
        STOP.requested = False
        ps.close(0.0)
    assert ps._hook not in STOP.hooks


def test_child_dies_with_its_parent():
    """A parent that leaves with os._exit (the second-Ctrl-C path) leaves no search process behind."""
    code = textwrap.dedent("""
        import os, sys, time
        from tests.formulations.tiny import random_instance
        from chaincomp.formulations.common import greedy_start
        from chaincomp.formulations.parallel_search import ParallelSearch
        if __name__ == "__main__":
            for seed in range(200, 260):
                p = random_instance(seed, 4, 4)
                g = greedy_start(p)
                if g is not None:
                    break
            ps = ParallelSearch(p, [pl for _, pl, _ in g.candidates], time.perf_counter() + 60.0)
            print(ps.process.pid, flush=True)
            time.sleep(1.5)
            os._exit(3)
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=30)
    assert out.returncode == 3, out.stderr
    pid = int(out.stdout.split()[0])
    assert _gone(pid, 3.0), "the search process survived its parent"
    assert "Traceback" not in out.stderr


def test_history_record_keeps_improvements_in_time_order():
    h = [(0.1, 60.0), (5.0, 58.0)]
    _record(h, 3.0, 59.0)  # arrived at 3 s, harvested later
    assert h == [(0.1, 60.0), (3.0, 59.0), (5.0, 58.0)]
    _record(h, 2.0, 57.0)  # makes the later, worse entries redundant
    assert h == [(0.1, 60.0), (2.0, 57.0)]
