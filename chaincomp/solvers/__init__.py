"""Solver backends for :class:`~chaincomp.solvers.model.MilpModel`: HiGHS (default) and Gurobi.

``solve(model, solver="highs", time_limit_s=…, mip_gap=…, threads=…, seed=…, verbose=…, progress=…)``
returns a :class:`~chaincomp.solvers.base.SolveResult`.
"""

from __future__ import annotations

from chaincomp.errors import UsageError
from chaincomp.solvers.base import SolveOptions, SolveResult, interruptible
from chaincomp.solvers.model import MilpModel

SOLVERS = ("highs", "gurobi")

__all__ = ["MilpModel", "SolveOptions", "SolveResult", "SOLVERS", "solve", "solver_version", "check_solver", "interruptible"]


def check_solver(name: str) -> str:
    name = (name or "highs").lower()
    if name not in SOLVERS:
        raise UsageError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")
    return name


def solver_version(name: str) -> str:
    name = check_solver(name)
    if name == "highs":
        from chaincomp.solvers import highs

        return highs.version()
    from chaincomp.solvers import gurobi

    return gurobi.version()


def solve(model: MilpModel, solver: str = "highs", options: SolveOptions | None = None, **kwargs) -> SolveResult:
    """Solve with the named backend. ``kwargs`` are :class:`SolveOptions` fields."""
    name = check_solver(solver)
    opts = options or SolveOptions(**kwargs)
    if name == "highs":
        from chaincomp.solvers import highs

        return highs.solve(model, opts)
    from chaincomp.solvers import gurobi

    return gurobi.solve(model, opts)
