"""HiGHS backend (highspy; the default solver, always installed).

The solve runs in highspy's solver thread while the main thread waits in short steps, so our SIGINT
handler (:func:`chaincomp.solvers.base.interruptible`) can ask HiGHS to stop through its user-interrupt
callback; the incumbent is then returned with status ``interrupted``. Progress (incumbent, bound,
nodes) is read from the MIP-interrupt callback.
"""

from __future__ import annotations

import time

import numpy as np

from chaincomp.solvers.base import (
    STOP,
    ProgressDisplay,
    SolveOptions,
    SolveResult,
    cancel_hook,
    classify_status,
    interruptible,
    relative_gap,
)
from chaincomp.solvers.model import MilpModel


def new_highs():
    """A ``highspy.Highs`` with output off; the one-time banner HiGHS prints to C stdout on first
    construction is swallowed so ``--json`` output stays clean."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (embedded interpreter): just construct
        h = highspy.Highs()
    else:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
    h.setOptionValue("output_flag", False)
    return h


def version() -> str:
    h = new_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def build_lp(model: MilpModel):
    """The model as a ``highspy.HighsLp`` (row-wise matrix)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = model.num_cols
    lp.num_row_ = model.num_rows
    lp.col_cost_ = model.objective
    lp.col_lower_ = model.col_lower
    lp.col_upper_ = model.col_upper
    lp.row_lower_ = model.row_lower
    lp.row_upper_ = model.row_upper
    lp.offset_ = float(model.objective_offset)
    indptr, indices, data = model.csr()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = model.num_cols
    lp.a_matrix_.num_row_ = model.num_rows
    lp.a_matrix_.start_ = indptr.astype(np.int32)
    lp.a_matrix_.index_ = indices.astype(np.int32)
    lp.a_matrix_.value_ = data
    lp.sense_ = highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize
    integ = model.integrality
    if integ.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integ]
    return lp


def solve(model: MilpModel, options: SolveOptions | None = None) -> SolveResult:
    """Solve ``model`` with HiGHS (see the module docstring for Ctrl-C and progress)."""
    import highspy

    opts = options or SolveOptions()
    t0 = time.perf_counter()
    h = new_highs()
    h.setOptionValue("output_flag", bool(opts.verbose))
    if opts.time_limit_s is not None:
        h.setOptionValue("time_limit", float(max(opts.time_limit_s, 0.01)))
    if opts.mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(opts.mip_gap))
    if opts.seed is not None:
        h.setOptionValue("random_seed", int(opts.seed))
    if opts.threads is not None:
        h.setOptionValue("threads", int(opts.threads))
    h.passModel(build_lp(model))
    is_mip = bool(model.integrality.any())
    if model.start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = model.start.tolist()
        sol.value_valid = True
        h.setSolution(sol)

    display = ProgressDisplay(opts.progress, opts.label, model.sense)
    live = {"primal": None, "dual": None, "nodes": None}

    def on_mip(e) -> None:
        d = e.data_out
        live["primal"], live["dual"], live["nodes"] = d.mip_primal_bound, d.mip_dual_bound, d.mip_node_count

    h.HandleUserInterrupt = True
    if is_mip:
        h.cbMipInterrupt += on_mip
    with interruptible(), cancel_hook(h.cancelSolve):
        if STOP.requested:
            h.cancelSolve()
        h.startSolve()
        try:
            while True:
                done, _ = h.wait(0.2)
                if done:
                    break
                display.update(live["primal"], live["dual"], live["nodes"])
        finally:
            display.close()
        interrupted = STOP.requested
    wall = time.perf_counter() - t0
    res = _result(h, model, wall, interrupted, is_mip)
    if is_mip and model.start is not None and res.values is not None and not interrupted:
        # HiGHS 1.16 with presolve on can return "Optimal" with the MIP start as the solution and objective
        # and bound 0 (seen on a 12-column master whose start was feasible but not optimal); a result that
        # disagrees with its own solution is not trusted: solve again without the start
        own = float(model.objective @ res.values) + float(model.objective_offset)
        if abs(own - res.objective) > 1e-6 * max(1.0, abs(own)):
            import copy

            retry = copy.copy(model)
            retry.start = None
            left = None if opts.time_limit_s is None else max(0.05, opts.time_limit_s - wall)
            again = solve(retry, SolveOptions(left, opts.mip_gap, opts.threads, opts.seed, opts.verbose, opts.progress,
                                              opts.label))
            again.wall_time_s += wall
            again.message += " (re-solved without the MIP start: HiGHS returned an inconsistent result with it)"
            return again
    return res


def _result(h, model: MilpModel, wall: float, interrupted: bool, is_mip: bool) -> SolveResult:
    import highspy

    ms = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    has_sol = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value, float) if has_sol else None
    objective = float(info.objective_function_value) if has_sol else None
    if is_mip:
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound) or abs(bound) >= 1e29:
            bound = None
    else:
        bound = objective if ms == S.kOptimal else None
    status = classify_status(
        ms == S.kOptimal, ms == S.kInfeasible, interrupted or ms == S.kInterrupt, ms == S.kTimeLimit, values is not None
    )
    if status == "optimal" and bound is None:
        bound = objective
    gap = relative_gap(objective, bound)
    if status == "optimal" and gap is not None and not is_mip:
        gap = 0.0
    nodes = int(info.mip_node_count) if is_mip else 0
    return SolveResult(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        wall_time_s=wall,
        nodes=nodes,
        rows=model.num_rows,
        columns=model.num_cols,
        integers=model.num_integers,
        solver="highs",
        solver_version=version(),
        values=values,
        message=h.modelStatusToString(ms),
    )
