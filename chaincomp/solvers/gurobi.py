"""Gurobi backend (gurobipy; optional extra ``pip install chaincomp[gurobi]``).

Missing package, missing licence, or a model too large for the size-limited pip licence raise
:class:`~chaincomp.errors.SolverUnavailable` with the limit and the suggestion ``--solver highs``;
there is never a silent fallback to another solver. Ctrl-C: our SIGINT handler sets a flag that the
Gurobi callback turns into ``model.terminate()``; Gurobi's own Ctrl-C handling (status INTERRUPTED)
is mapped to ``interrupted`` as well.
"""

from __future__ import annotations

import time

import numpy as np

from chaincomp.errors import SolverUnavailable
from chaincomp.solvers.base import (
    STOP,
    ProgressDisplay,
    SolveOptions,
    SolveResult,
    classify_status,
    interruptible,
    relative_gap,
)
from chaincomp.solvers.model import MilpModel

#: limits of Gurobi's size-limited (pip) licence
SIZE_LIMIT = 2000


def _import():
    try:
        import gurobipy
    except ImportError:
        raise SolverUnavailable(
            "Gurobi is not installed (pip install gurobipy, or the 'gurobi' extra of chaincomp); use --solver highs"
        ) from None
    try:  # the backend passes the constraint matrix as a scipy sparse matrix
        import scipy.sparse  # noqa: F401
    except ImportError:
        raise SolverUnavailable(
            "the Gurobi backend needs scipy, which is not installed (pip install scipy, or the 'gurobi' extra of chaincomp); "
            "use --solver highs"
        ) from None
    return gurobipy


def version() -> str:
    gp = _import()
    return ".".join(str(x) for x in gp.gurobi.version())


def _too_large(model: MilpModel) -> SolverUnavailable:
    exc = SolverUnavailable(
        f"Gurobi's size-limited licence allows at most {SIZE_LIMIT} variables and {SIZE_LIMIT} constraints; "
        f"this model has {model.num_cols} variables and {model.num_rows} constraints. "
        "Use --solver highs, or install a full Gurobi licence."
    )
    exc.size_limited = True  # the caller may keep what it found so far (see formulations/colgen.py)
    return exc


def solve(model: MilpModel, options: SolveOptions | None = None) -> SolveResult:
    gp = _import()
    GRB = gp.GRB
    opts = options or SolveOptions()
    t0 = time.perf_counter()
    try:
        env = gp.Env(empty=True)
        env.setParam("OutputFlag", 1 if opts.verbose else 0)
        env.start()
    except gp.GurobiError as exc:
        raise SolverUnavailable(f"Gurobi licence problem: {exc}. Use --solver highs.") from None
    try:
        m = gp.Model(model.name, env=env)
        n = model.num_cols
        vtype = np.where(model.integrality, GRB.INTEGER, GRB.CONTINUOUS)
        lb = np.where(np.isinf(model.col_lower), -GRB.INFINITY, model.col_lower)
        ub = np.where(np.isinf(model.col_upper), GRB.INFINITY, model.col_upper)
        x = m.addMVar(n, lb=lb, ub=ub, obj=model.objective, vtype=vtype)
        m.ModelSense = GRB.MAXIMIZE if model.sense == "max" else GRB.MINIMIZE
        m.ObjCon = float(model.objective_offset)
        if model.num_rows:
            import scipy.sparse as sp

            indptr, indices, data = model.csr()
            A = sp.csr_matrix((data, indices, indptr), shape=(model.num_rows, n))
            lo, up = model.row_lower, model.row_upper
            both = np.isfinite(lo) & np.isfinite(up)
            eq = both & (lo == up)
            rng = both & ~eq
            for mask, sense, rhs in (
                (eq, "=", lo),
                (np.isfinite(up) & ~np.isfinite(lo), "<", up),
                (np.isfinite(lo) & ~np.isfinite(up), ">", lo),
            ):
                if mask.any():
                    m.addMConstr(A[mask], x, sense, rhs[mask])
            if rng.any():
                m.addMConstr(A[rng], x, ">", lo[rng])
                m.addMConstr(A[rng], x, "<", up[rng])
        if opts.time_limit_s is not None:
            m.Params.TimeLimit = float(max(opts.time_limit_s, 0.01))
        if opts.mip_gap is not None:
            m.Params.MIPGap = float(opts.mip_gap)
        if opts.threads is not None:
            m.Params.Threads = int(opts.threads)
        if opts.seed is not None:
            m.Params.Seed = int(opts.seed)
        m.update()
        if model.start is not None and model.integrality.any():
            x.Start = model.start
        display = ProgressDisplay(opts.progress, opts.label, model.sense)

        def cb(mod, where):
            if STOP.requested:
                mod.terminate()
            if where == GRB.Callback.MIP and opts.progress:
                display.update(
                    mod.cbGet(GRB.Callback.MIP_OBJBST), mod.cbGet(GRB.Callback.MIP_OBJBND), mod.cbGet(GRB.Callback.MIP_NODCNT)
                )

        with interruptible():
            try:
                m.optimize(cb)
            except gp.GurobiError as exc:
                if "size-limited" in str(exc) or getattr(exc, "errno", None) == 10010:
                    raise _too_large(model) from None
                raise SolverUnavailable(f"Gurobi failed: {exc}. Use --solver highs.") from None
            finally:
                display.close()
            interrupted = STOP.requested
        wall = time.perf_counter() - t0
        st = m.Status
        has_sol = m.SolCount > 0
        values = np.asarray(x.X, float) if has_sol else None
        objective = float(m.ObjVal) if has_sol else None
        is_mip = bool(model.integrality.any())
        bound = None
        try:
            bound = float(m.ObjBound) if is_mip else (objective if st == GRB.OPTIMAL else None)
        except (gp.GurobiError, AttributeError):
            bound = None
        status = classify_status(
            st == GRB.OPTIMAL,
            st in (GRB.INFEASIBLE, GRB.INF_OR_UNBD),
            interrupted or st == GRB.INTERRUPTED,
            st == GRB.TIME_LIMIT,
            values is not None,
        )
        if status == "optimal" and bound is None:
            bound = objective
        nodes = int(m.NodeCount) if is_mip else 0
        return SolveResult(
            status=status,
            objective=objective,
            bound=bound,
            gap=relative_gap(objective, bound),
            wall_time_s=wall,
            nodes=nodes,
            rows=model.num_rows,
            columns=model.num_cols,
            integers=model.num_integers,
            solver="gurobi",
            solver_version=version(),
            values=values,
            message=f"gurobi status {st}",
        )
    finally:
        try:
            m.dispose()
        except Exception:
            pass
        env.dispose()
