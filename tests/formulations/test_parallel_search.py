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

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


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


def _warm_child(p, g) -> None:
    """Let one child load — on a fresh numba cache: compile and cache — every kernel it runs (the
    child's specialisations are not all the ones the parent's warm-up compiles), so that the timed
    tests below measure the search, not a one-time compilation."""
    ps = ParallelSearch(p, [pl for _, pl, _ in g.candidates], time.perf_counter() + 120.0, seed=0)
    end = time.perf_counter() + 120.0
    while not ps.ready and ps.alive and time.perf_counter() < end:
        time.sleep(0.1)
    ps.close(0.0)


def test_search_process_designs_verify_and_stop_at_the_deadline():
    """The child's best placements give verified, exactly feasible GCA designs ≤ the greedy's value and
    ≥ the brute-force optimum; the child leaves by its deadline (+ 2 s) on its own."""
    from chaincomp.formulations.anneal_kernel import run_compiled
    from chaincomp.formulations.local_search import PlacementSearch

    p, g = _tiny_with_greedy()
    opt = brute_force(p)
    from chaincomp.formulations.anneal_kernel import run_lns

    # compile (or load) the kernels here, not in the child (a fresh numba cache takes ~10 s)
    run_compiled(PlacementSearch(p), [g.placement], float("inf"), max_evals=10)
    run_lns(PlacementSearch(p), g.placement, time.perf_counter() + 0.1, patience=1)
    _warm_child(p, g)
    t = time.perf_counter()
    ps = ParallelSearch(p, [pl for _, pl, _ in g.candidates], t + 5.0, seed=0)
    ps.process.join(10.0)  # start-up (≈ 1–2 s, loading the cached kernels ≈ 1 s more) within the 5 s budget
    assert not ps.alive, "the search process outlived its deadline"
    assert time.perf_counter() - t < 7.0
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


def test_direct_score_is_gca_job_servers():
    """The compiled search's early-stopping GCA score (anneal_kernel.score_direct) gives the library
    GCA's job-server count (Alg. 2 + truncation) on 400 random placements of tiny instances, and the
    same fractional count as the grouped kernel's score."""
    import numpy as np

    from chaincomp.core.placement import Placement
    from chaincomp.formulations.anneal_kernel import score_direct
    from chaincomp.formulations.local_search import PlacementSearch, _score, job_servers_of
    from chaincomp.heuristics.gca import gca

    rng = np.random.default_rng(5)
    checked = feasible = 0
    for seed in range(40):
        p = random_instance(seed, int(rng.integers(2, 7)), int(rng.integers(2, 8)))
        s = PlacementSearch(p, seed=0)
        for _ in range(10):
            a = np.zeros(s.J, np.int64)
            m = np.zeros(s.J, np.int64)
            for j in range(s.J):
                if s.mmax[j] > 0 and rng.random() < 0.8:
                    m[j] = rng.integers(1, s.mmax[j] + 1)
                    a[j] = rng.integers(1, s.L - m[j] + 2)
            if not m.any():
                continue
            f = score_direct(a, m, s.tau_c, s.tau_p, s.slots_len, s.L, s.R)
            want = gca(p, Placement(a, m)).job_servers_needed(p.required_rate)
            assert job_servers_of(f) == want, (seed, a, m)
            assert abs(f - _score(a, m, s.tau_c, s.tau_p, s.slots_len, s.L, s.R)) <= 1e-9 * max(1.0, f)
            checked += 1
            feasible += want is not None
    assert checked >= 300 and feasible >= 50


def test_compiled_search_never_beats_brute_force_and_designs_verify():
    from chaincomp.formulations.anneal_kernel import run_compiled
    from chaincomp.formulations.local_search import PlacementSearch

    tested = 0
    for seed in range(20):
        p = random_instance(100 + seed, 3, 4)
        g = greedy_start(p)
        if g is None:
            continue
        opt = brute_force(p)
        r = run_compiled(PlacementSearch(p, seed=seed), [pl for _, pl, _ in g.candidates], deadline=float("inf"),
                         max_evals=3000)
        assert r.value is not None and opt <= r.value <= g.job_servers, (seed, r.value, opt)
        al = gca_design(p, r.placement)
        assert al is not None and al.total_capacity == r.value
        assert_valid(Solution.create(p, "milp", r.placement, al))
        assert exact.check(p, r.placement, al).feasible
        tested += 1
    assert tested >= 10


def test_cli_single_process_flag():
    """--single-process reaches the milp (parameters.parallel_search false); other methods refuse it (UsageError)."""
    import json

    from typer.testing import CliRunner

    from chaincomp.cli.app import app

    runner = CliRunner()
    res = runner.invoke(app, ["solve", "--example", "worked-example", "--method", "milp", "--single-process",
                              "--time-limit", "10", "--json"], catch_exceptions=True)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["parameters"]["parallel_search"] is False
    assert data["solver"]["status"] == "optimal"
    res = runner.invoke(app, ["solve", "--example", "worked-example", "--method", "greedy", "--single-process"],
                        catch_exceptions=True)
    from chaincomp.errors import UsageError

    assert isinstance(res.exception, UsageError) and "--single-process" in str(res.exception)  # exit 2 in the CLI


def test_a_script_without_main_guard_does_not_rerun_in_the_child(tmp_path):
    """spawn re-imports the caller's __main__ in the child; a user script without the
    ``if __name__ == "__main__":`` guard must neither run twice nor print a child traceback."""
    script = tmp_path / "plain_script.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from benchmarks.milp_instances import bloom_like
        from chaincomp import methods
        print("top level ran", flush=True)
        sol = methods.run("milp", bloom_like(20, 16, 0), time_limit_s=6)
        log = sol.solver["phases"].get("parallel_search", {{}})
        print("child", "error" not in log, flush=True)
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("top level ran") == 1, proc.stdout
    assert "child True" in proc.stdout
    assert "Traceback" not in proc.stderr and "bootstrapping" not in proc.stderr, proc.stderr


def test_search_process_finds_a_first_design_when_the_greedy_has_none():
    """A busy BLOOM instance where GBP-CR + GCA reach λ/ρ̄ at no c: the child search still starts
    (from GBP-CR's short placements, :func:`search_starts`) and reports a placement whose GCA design
    meets the rate (before, the milp skipped the second process there and found its first design
    only after ≈ 12 s of in-process search)."""
    from chaincomp.data import resolve
    from chaincomp.formulations.local_search import search_starts
    from chaincomp.formulations.parallel_search import start_search
    from chaincomp.instances.generators import generate_problem
    from chaincomp.instances.network import load_network

    net = load_network(resolve("ripe_atlas_eu_rtt.csv"))
    p = generate_problem("bloom", seed=7, index=0, network=net, servers=40, eta=0.2, rate=2.4)
    assert greedy_start(p) is None
    starts = search_starts(p, None, {})
    assert starts and all(pl.used.size for pl in starts)
    log: dict = {}
    ps = start_search(p, None, {}, time.perf_counter() + 90.0, 0, log)
    assert ps is not None, log
    found = None
    try:
        end = time.perf_counter() + 90.0
        while found is None and ps.alive and time.perf_counter() < end:
            time.sleep(0.2)
            for kind, pl, value, _t in ps.poll():
                if kind == "best" and value is not None:
                    found = pl
    finally:
        ps.close(0.0)
    assert found is not None, "the search process reported no design within 90 s"
    al = gca_design(p, found)
    assert al is not None and al.service_rate >= p.required_rate * (1 - 1e-9)
    assert_valid(Solution.create(p, "parallel-search", found, al))
