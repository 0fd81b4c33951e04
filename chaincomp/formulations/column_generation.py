"""The column-generation loop of the milp (:mod:`.colgen`, step 2): pricing rounds on the restricted
master LP (:mod:`.master`) with the hop-graph pricing (:mod:`.pricing`), Wentges dual smoothing,
and a valid Lagrangian (Farley) bound from every round's duals — the formulas are in the module
docstring of :mod:`.colgen`."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from chaincomp.formulations.common import Segments
from chaincomp.formulations.master import _Master
from chaincomp.formulations.pricing import Pricer
from chaincomp.problem import Problem
from chaincomp.solvers.base import STOP

RC_TOL = 1e-7  # a column "improves" when its reduced cost is below −RC_TOL (relative to cost 1)


def _rc(jobs: bool, piR: float, T: float, P: float) -> float:
    """Reduced cost in minimisation form: 1 − π_R/T + P (job servers) or P − 1/T (throughput)."""
    return (1.0 - piR / T + P) if jobs else (P - 1.0 / T)


@dataclass
class _Bound:
    """A valid bound from one dual vector (see the module docstring, step 2)."""

    value: float  # lower bound on the LP over all columns (job servers) / upper bound (throughput)
    piR: float  # dual-feasible duals (already divided by γ for job servers)
    pi: np.ndarray
    exact_pricing: bool


def _lagrangian(problem: Problem, segs: Segments, jobs: bool, x_bar: float, piR: float, pi: np.ndarray,
                rc_lb: float, tp_min: float = 0.0) -> tuple[float, float, np.ndarray]:
    """Bound from duals (π_R, π ≥ 0) and a lower bound ``rc_lb`` on the minimum reduced cost over
    every simple chain: u_j = max_σ S_σ π_σ makes every y column dual feasible.

    Throughput also uses scaling: with ``tp_min`` ≤ min_k T_k·P_k (P_k = Σ b π), γ = 1/tp_min ≥
    max_k μ_k/P_k, so (γπ, γu) is dual feasible and γ·Σu ≥ OPT; the smaller of the two bounds is kept."""
    u = np.zeros(problem.num_servers)
    np.maximum.at(u, segs.server, segs.slots * pi)
    if jobs:
        gamma = max(1.0, 1.0 - rc_lb)
        return (problem.required_rate * piR - float(u.sum())) / gamma, piR / gamma, pi / gamma
    value = float(u.sum()) + max(0.0, -rc_lb) * x_bar
    if tp_min > 0.0:
        value = min(value, float(u.sum()) / tp_min)
    return value, piR, pi


def _column_generation(master: _Master, pricer: Pricer, jobs: bool, deadline: float, on_bound=None,
                       elem_count: int = 64, x_bar: float = 0.0, alpha0: float = 0.5, max_rounds: int | None = None,
                       work_limit: int = 10_000_000, restricted_tries: int = 6):
    """Column generation until converged, the deadline, or Ctrl-C. Returns (converged, last _LP).

    Dual stabilisation (Wentges smoothing): pricing runs at π_in = α·π_center + (1 − α)·π_LP, where
    the center is the dual vector with the best Lagrangian bound so far; columns are added when their
    reduced cost at π_LP is negative; a mis-price (none is) sets α = 0 for the next round, and only a
    complete exact pricing at π_LP itself with no improving simple chain declares convergence.
    ``on_bound(_Bound, _LP)`` receives the valid bound of every pricing round; returning True stops.
    """
    problem, segs = master.problem, master.segs
    const = 1.0 if jobs else 0.0
    converged = False
    lp = None
    center = None  # (value, piR, pi) of the best bound so far
    alpha = alpha0
    need_lp = True
    rounds = 0
    work_cap = work_limit
    rng = np.random.default_rng(0)
    while not STOP.requested and time.perf_counter() < deadline:
        rounds += 1
        if max_rounds is not None and rounds > max_rounds:
            break
        if need_lp:
            lp = master.solve(deadline)
            if lp is None:
                break
        if center is None or alpha <= 0.0:
            piR_in, pi_in, a = lp.piR, lp.pi.copy(), 0.0
        else:
            a = alpha
            piR_in = a * center[1] + (1 - a) * lp.piR
            pi_in = a * center[2] + (1 - a) * lp.pi
        pi_price = pi_in.copy()
        pi_price[master.forbidden] = np.inf
        w = piR_in if jobs else 1.0
        pts, hull_complete = pricer.hull(pi_price, w, const=const)
        # a valid lower bound on the minimum reduced cost at π_in without the exact search: the relaxed
        # minimum from the completion hull Q(0) (see pricing._completion_hulls)
        relaxed = pricer.relaxed_min(w, const)
        # the exact search is capped (its cost can explode at some dual vectors); a capped search
        # still returns the columns found so far, and the cap grows whenever a capped search found none
        elem, complete = pricer.elementary(pi_price, w, const=const, count=elem_count, threshold=-RC_TOL,
                                           deadline=deadline, work_limit=work_cap)
        if not complete and not elem:
            work_cap *= 4
        elif elem and work_limit is not None and work_cap > work_limit:
            work_cap = max(work_limit, work_cap // 2)  # columns again: back toward the cheap cap
        if complete:
            rc_lb = min(_rc(jobs, piR_in, T, P) for _, T, P in elem) if elem else -RC_TOL
        else:
            rc_lb = relaxed
        rc_lb = min(rc_lb, 0.0)
        if not master.fixed:  # bounds only mean something for the unrestricted master
            tp_min = 0.0
            if not jobs and pricer.qn[0] > 0:
                # T·P is quasi-concave and monotone on R²₊: its minimum over the relaxed chains is ≥ the
                # minimum over the completion-hull vertices Q(0)
                n0 = int(pricer.qn[0])
                tp_min = float(np.min(pricer.qt[0, :n0] * pricer.qp[0, :n0]))
            value, bR, bpi = _lagrangian(problem, segs, jobs, x_bar, piR_in, pi_in, rc_lb, tp_min)
            if on_bound is not None and on_bound(_Bound(value, bR, bpi, complete), lp):
                break  # the caller's early termination (the rounded bound cannot improve any more)
            if center is None or (value > center[0] if jobs else value < center[0]):
                center = (value, piR_in, pi_in)
        if not complete and not elem and not STOP.requested:
            # the capped exact search found nothing (its tree can explode at degenerate duals): price
            # restricted hop graphs (a random half of the servers removed) — small trees, simple chains;
            # heuristic columns only (the bound above and the convergence test use the full search)
            for _ in range(restricted_tries):
                drop = np.flatnonzero(rng.random(problem.num_servers) < 0.5)
                pi_sub = pi_price.copy()
                pi_sub[np.isin(segs.server, drop)] = np.inf
                sub, _c = pricer.elementary(pi_sub, w, const=const, count=elem_count, threshold=-RC_TOL,
                                            deadline=deadline, work_limit=work_limit)
                if sub:
                    elem = sub
                    work_cap = max(work_limit, work_cap // 4)  # undo this round's growth
                    break
        # add the columns that improve the current LP (reduced cost at π_LP)
        added = 0
        for p, T, _ in elem + [q for q in pts if _simple(segs, q[0])]:
            _, _, P_out = pricer.evaluate(p, lp.pi)
            if _rc(jobs, lp.piR, T, P_out) < -RC_TOL:
                added += master.add_chain(p, T)
        if added:
            need_lp = True
            alpha = min(alpha0, alpha + 0.1) if a > 0 else alpha
            continue
        if a > 0:  # mis-price: price at π_LP itself without re-solving the LP
            need_lp = False
            alpha = 0.0
            continue
        converged = complete and not elem
        if not converged and not complete:
            need_lp = False  # cut short (work cap, deadline, Ctrl-C): retry with the larger cap
            continue
        break
    return converged, lp


def _simple(segs: Segments, path: tuple) -> bool:
    """No server twice (such LP columns can never carry integer capacity)."""
    servers = segs.server[list(path)]
    return len(set(servers.tolist())) == len(servers)
