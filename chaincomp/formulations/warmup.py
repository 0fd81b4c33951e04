"""First use of the milp's compiled kernels: compile them up front, inside the time limit.

numba compiles a kernel on its first call and then keeps it on disk (``cache=True``). On a fresh
install (or a fresh ``NUMBA_CACHE_DIR``) the milp's kernels — pricing, completion hulls, GBP-CR,
GCA, the placement search's score, annealing and large-neighbourhood moves — take ≈ 37 s to
compile (GBP-CR + GCA 16 s, pricing 7.5 s, the search's score 4.5 s, annealing moves 9.5 s, measured
on this 2-core machine). A compilation cannot be interrupted, so one that starts in the middle of a phase runs
that phase past its deadline: measured on a cold cache, ``--time-limit 20`` at J = 40 took 27 s
(the in-process search compiled its score for 15 s of a 4 s share, then the pricing compiled).

:func:`ensure_compiled` therefore compiles every kernel once, at the start of the solve, by running
each on the shipped ``bloom-j20`` example (the same argument types, so the large instance reuses
the cached machine code), says so on the ``chaincomp.formulations`` logger, and leaves a marker
keyed by the kernels' sources, numba, Python and the CPU. The solve's phases then get what is left
of the budget; if the compilation alone takes longer than the limit, the run ends with the greedy
design and says why (docs/milp.md, "First use").
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("chaincomp.formulations")

#: modules whose numba kernels the milp runs (their sources key the marker)
KERNEL_MODULES = (
    "chaincomp.formulations.pricing",
    "chaincomp.formulations.completion_hulls",
    "chaincomp.formulations.local_search",
    "chaincomp.heuristics.gbp_cr",
    "chaincomp.heuristics.gca_kernel",
)


def _key() -> str:
    import importlib

    import llvmlite.binding as llvm
    import numba

    h = hashlib.sha256()
    h.update(f"{numba.__version__}|{sys.version}|{llvm.get_host_cpu_name()}".encode())
    for name in KERNEL_MODULES:
        h.update(Path(importlib.import_module(name).__file__).read_bytes())
    return h.hexdigest()[:20]


def _marker_dirs() -> list[Path]:
    """Where numba keeps the cache (NUMBA_CACHE_DIR, else next to the sources), then a user folder."""
    out = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        out.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    out.append(Path(__file__).resolve().parent / "__pycache__")
    out.append(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "chaincomp")
    return out


def _marker_name() -> str:
    return f"chaincomp-milp-kernels-{_key()}.ok"


def is_compiled() -> bool:
    """Has :func:`ensure_compiled` completed for these kernel sources on this machine? (When
    ``NUMBA_CACHE_DIR`` is set, only a marker there counts: it is that cache that must be warm.)"""
    name = _marker_name()
    dirs = _marker_dirs()[:1] if os.environ.get("NUMBA_CACHE_DIR") else _marker_dirs()
    return any((d / name).is_file() for d in dirs)


def _write_marker() -> None:
    name = _marker_name()
    for d in _marker_dirs():
        try:
            d.mkdir(parents=True, exist_ok=True)
            (d / name).write_text(time.strftime("%Y-%m-%dT%H:%M:%S") + "\n")
            return
        except OSError:
            continue


def compile_kernels() -> float:
    """Run every kernel of the milp's main process once on the ``bloom-j20`` example (compiled form);
    seconds taken. The search process (:mod:`.parallel_search`) compiles its annealing moves itself,
    on the other core, while the main process goes on (it reports when it is ready)."""
    import numpy as np

    from chaincomp.core.jit import use_compiled
    from chaincomp.formulations.common import greedy_start, segments
    from chaincomp.formulations.local_search import PlacementSearch
    from chaincomp.formulations.pricing import Pricer
    from chaincomp.instances.examples import load_example

    t = time.perf_counter()
    p = load_example("bloom-j20")
    assert use_compiled(p.num_servers * p.num_blocks), "the warm-up instance must use the compiled kernels"
    g = greedy_start(p)  # GBP-CR + GCA kernels
    segs = segments(p)
    pricer = Pricer(p, segs)
    pi = np.full(segs.count, 1e-3)
    pricer.hull(pi, 10.0)  # hop prices, completion hulls, relaxed shortest paths
    pricer.relaxed_min(10.0)
    pricer.elementary(pi, 10.0, count=4, work_limit=10_000)  # exact search (mode 0)
    pricer.enumerate(pi, 10.0, -0.5, 10)  # enumeration (mode 1)
    if g is not None:  # the in-process placement search's score (the search process compiles its own moves)
        PlacementSearch(p, 0).score(g.placement.first_block, g.placement.num_blocks)
    return time.perf_counter() - t


def ensure_compiled(work: int) -> float | None:
    """Compile the milp's kernels now if this instance runs them compiled (``work`` = J·L²) and they
    were never compiled here; returns the seconds it took (None: nothing to do)."""
    from chaincomp.core.jit import use_compiled

    if not use_compiled(work) or is_compiled():
        return None
    log.warning("first use of the milp's compiled kernels on this machine: compiling them once "
                "(≈ 30 s, cached for later runs); it counts toward this run's time limit, which a "
                "shorter limit cannot keep on this first run")
    try:
        took = compile_kernels()
    except Exception as exc:  # noqa: BLE001 - never let the warm-up break a solve: compile lazily then
        log.warning("could not compile the kernels up front (%s: %s); they compile on first call instead",
                    type(exc).__name__, exc)
        return None
    _write_marker()
    log.info("kernels compiled in %.1f s", took)
    return took
