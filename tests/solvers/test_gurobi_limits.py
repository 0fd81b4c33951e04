"""Gurobi with pip's size-limited licence (issue 10 item 4) and without its dependencies.

The licence here really is size-limited (2000 variables / constraints): the backend test builds a
2600-variable model and Gurobi refuses it. (At 40 × 70 the milp's integer master over all generated
columns reaches 2431 variables after ~20 s; how soon depends on the machine, so the milp-level test
raises that same refusal for every master beyond 40 columns.) The solve must keep the greedy incumbent and the column-generation
bound and name the part Gurobi could not take. gurobipy without scipy → SolverUnavailable, exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from chaincomp.errors import SolverUnavailable
from chaincomp.solvers import MilpModel, SolveOptions, solve


def _gurobi_or_skip():
    try:
        from chaincomp.solvers import solver_version

        solver_version("gurobi")
    except SolverUnavailable as exc:
        pytest.skip(f"Gurobi unavailable: {exc}")


def _big_model(n=2600):
    m = MilpModel("big", "min")
    x = m.add_vars("x", n, lb=0.0, ub=1.0, integer=True, obj=1.0)
    for i in range(n):  # a cycle cover: x_i + x_{i+1} ≥ 1
        m.add_row("cover", [x[i], x[(i + 1) % n]], [1.0, 1.0], lower=1.0)
    return m


def test_backend_refusal_is_a_clear_size_limited_error():
    _gurobi_or_skip()
    model = _big_model()
    with pytest.raises(SolverUnavailable) as err:
        solve(model, "gurobi", SolveOptions(time_limit_s=5))
    assert "size-limited" in str(err.value) and getattr(err.value, "size_limited", False)


def _check_kept(sol):
    s = sol.solver
    assert s["name"] == "gurobi" and s["objective"] is not None and s["bound"] is not None
    assert s["bound"] <= s["objective"]
    assert "gurobi could not take" in s["label"] and "size-limited" in s["label"]
    assert sol.extra["exact_check"]["feasible"]


def test_milp_keeps_incumbent_and_bound_when_an_integer_master_is_refused(monkeypatch):
    """Gurobi's own refusal (the exception the backend raises for the licence, see the test above),
    here for every integer master beyond 40 columns so that a 20 × 16 instance reaches it in seconds."""
    _gurobi_or_skip()
    from benchmarks.milp_instances import bloom_like
    from chaincomp import methods
    from chaincomp.solvers import gurobi

    real = gurobi.solve

    def limited(model, options=None):
        if model.num_cols > 40:
            raise gurobi._too_large(model)
        return real(model, options)

    monkeypatch.setattr(gurobi, "solve", limited)
    p = replace(bloom_like(20, 16, 0), arrival_rate=3.0)
    _check_kept(methods.run("milp", p, solver="gurobi", time_limit_s=6))


def test_gurobipy_without_scipy_is_solver_unavailable_exit_2():
    code = ("import sys; sys.modules['scipy'] = None; sys.modules['scipy.sparse'] = None;"
            "sys.argv = ['chaincomp', 'solve', '--example', 'worked-example', '--method', 'milp', '--solver', 'gurobi'];"
            "from chaincomp.cli.app import main; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    try:
        import gurobipy  # noqa: F401
    except ImportError:
        assert "Gurobi is not installed" in proc.stderr
    else:
        assert "needs scipy" in proc.stderr and "--solver highs" in proc.stderr


def test_greedy_ilp_keeps_gca_allocation_when_the_licence_refuses(monkeypatch):
    """greedy-ilp: the §2.2 ILP refused by the size-limited licence → the GBP-CR placement with GCA's
    (truncated) allocation, status ``solver_refused``, a warning and a label that says so."""
    _gurobi_or_skip()
    from chaincomp import methods
    from chaincomp.core.verify import verify_solution
    from chaincomp.instances.examples import load_example
    from chaincomp.solvers import gurobi

    monkeypatch.setattr(gurobi, "solve", lambda model, options=None: (_ for _ in ()).throw(gurobi._too_large(model)))
    p = load_example("bloom-j20")
    greedy = methods.run("greedy", p)
    import logging

    records: list = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # the CLI's logger does not propagate to caplog's root handler
    logger = logging.getLogger("chaincomp.formulations")
    logger.addHandler(handler)
    try:
        sol = methods.run("greedy-ilp", p, solver="gurobi", time_limit_s=5)
    finally:
        logger.removeHandler(handler)
    assert sol.solver["status"] == "solver_refused" and not sol.solver["proved_optimal"]
    assert "could not take the §2.2 ILP" in sol.solver["label"] and "not optimal" in sol.solver["label"]
    assert any("could not take" in r.getMessage() for r in records)
    assert verify_solution(sol) == []
    assert sol.metrics["total_capacity"] == greedy.metrics["job_servers"]  # GCA, truncated, at the same c


def test_compact_refused_by_the_licence_is_solver_unavailable_at_once(monkeypatch):
    """The compact §2.3 model is one model: refused → nothing was found, the licence message at once
    (SolverUnavailable → exit 2 in the CLI), never a silent switch to HiGHS."""
    _gurobi_or_skip()
    import time

    from chaincomp import methods
    from chaincomp.instances.examples import load_example
    from chaincomp.solvers import gurobi

    monkeypatch.setattr(gurobi, "solve", lambda model, options=None: (_ for _ in ()).throw(gurobi._too_large(model)))
    t = time.perf_counter()
    with pytest.raises(SolverUnavailable) as err:
        methods.run("milp", load_example("worked-example"), solver="gurobi", formulation="compact", time_limit_s=120)
    assert "size-limited" in str(err.value) and time.perf_counter() - t < 30.0  # far inside the budget (≈ 1 s idle)
