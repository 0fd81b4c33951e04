"""First use of the milp's compiled kernels: compile them up front, inside the time limit.

numba compiles a kernel on its first call and then keeps it on disk (``cache=True``). On a fresh
install (or a fresh ``NUMBA_CACHE_DIR``) the milp's kernels — pricing, completion hulls, GBP-CR,
GCA, the placement search's score, annealing and large-neighbourhood moves — take ≈ 37 s to
compile (GBP-CR + GCA 16 s, pricing 7.5 s, the search's score 4.5 s, annealing moves 9.5 s, measured
on this 2-core machine). A compilation cannot be interrupted, so one that starts in the middle of a phase runs
that phase past its deadline: measured on a cold cache, ``--time-limit 20`` at J = 40 took 27 s
(the in-process search compiled its score for 15 s of a 4 s share, then the pricing compiled).

:func:`ensure_compiled` therefore compiles, at the start of the solve, every kernel group the
instance will run compiled (:func:`groups_for`: GBP-CR + GCA and the search's score, pricing — small
instances run some of them as pure Python, core/jit.py) by running each on the shipped ``bloom-j20``
example (the same argument types, so the real instance reuses the cached machine code), says so on
the ``chaincomp.formulations`` logger, and leaves a marker per group keyed by the kernels' sources,
numba, Python and the CPU. The solve's phases then get what is left
of the budget; if the compilation alone takes longer than the limit, the run ends with the greedy
design and says why (docs/milp.md, "First use").
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=1)
def _key() -> str:
    """Hash of the kernels' sources, numba, Python and the CPU (computed once per process)."""
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
    try:
        user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (KeyError, RuntimeError):  # no home directory (e.g. a bare container user): the others only
        return out
    return out + [user / "chaincomp"]


def _marker_name(group: str) -> str:
    return f"chaincomp-kernels-{group}-{_key()}.ok"


def is_compiled(group: str) -> bool:
    """Has :func:`ensure_compiled` compiled this kernel group (see :func:`groups_for`) for these sources on this
    machine? (With ``NUMBA_CACHE_DIR`` set only a marker there counts: that cache must be warm.)"""
    name = _marker_name(group)
    dirs = _marker_dirs()[:1] if os.environ.get("NUMBA_CACHE_DIR") else _marker_dirs()
    return any((d / name).is_file() for d in dirs)


def _write_marker(group: str) -> None:
    name = _marker_name(group)
    for d in _marker_dirs():
        try:
            d.mkdir(parents=True, exist_ok=True)
            (d / name).write_text(time.strftime("%Y-%m-%dT%H:%M:%S") + "\n")
            return
        except OSError:
            continue


def _compile(group: str, p) -> None:
    """Run the kernels of ``group`` once on instance ``p`` (the ``bloom-j20`` example: compiled form)."""
    import numpy as np

    from chaincomp.formulations.common import greedy_start, segments
    from chaincomp.formulations.local_search import PlacementSearch
    from chaincomp.formulations.pricing import Pricer

    if group == "greedy":
        greedy_start(p)  # GBP-CR + GCA kernels
    elif group == "pricing":
        segs = segments(p)
        pricer = Pricer(p, segs)
        pi = np.full(segs.count, 1e-3)
        pricer.hull(pi, 10.0)  # hop prices, completion hulls, relaxed shortest paths
        pricer.relaxed_min(10.0)
        pricer.elementary(pi, 10.0, count=4, work_limit=10_000)  # exact search (mode 0)
        pricer.enumerate(pi, 10.0, -0.5, 10)  # enumeration (mode 1)
    elif group == "score":  # the in-process placement search's score
        from chaincomp.heuristics.gbp_cr import gbp_cr

        pl = gbp_cr(p, 1).placement
        PlacementSearch(p, 0).score(pl.first_block, pl.num_blocks)


def groups_for(num_servers: int, num_blocks: int) -> list[str]:
    """The kernel groups a milp on a J × L instance runs compiled (core/jit.py decides by work size:
    J·L for GBP-CR and GCA, J·L² for pricing); the search's score only beside compiled GCA."""
    from chaincomp.core.jit import use_compiled

    out = []
    if use_compiled(num_servers * num_blocks):
        out += ["greedy", "score"]
    if use_compiled(num_servers * num_blocks ** 2):
        out.append("pricing")
    return out


def ensure_compiled(num_servers: int, num_blocks: int) -> float | None:
    """Compile now the kernel groups this instance runs compiled and that were never compiled here;
    returns the seconds it took (None: nothing to do). The search process (:mod:`.parallel_search`)
    compiles its annealing moves itself, on the other core, while the main process goes on."""
    todo = [g for g in groups_for(num_servers, num_blocks) if not is_compiled(g)]
    if not todo:
        return None
    log.warning("first use of the milp's compiled kernels on this machine (%s): compiling them once "
                "(≈ 30 s for all, cached for later runs); it counts toward this run's time limit, which a "
                "shorter limit cannot keep on this first run", ", ".join(todo))
    t = time.perf_counter()
    from chaincomp.instances.examples import load_example

    try:
        example = load_example("bloom-j20")  # J·L = 1 400: every kernel runs compiled
    except Exception as exc:  # noqa: BLE001 - never let the warm-up break a solve: compile lazily then
        log.warning("could not load the warm-up example (%s: %s); the kernels compile on first call instead",
                    type(exc).__name__, exc)
        return None
    for group in todo:
        try:
            _compile(group, example)
        except Exception as exc:  # noqa: BLE001 - never let the warm-up break a solve: compile lazily then
            log.warning("could not compile the %s kernels up front (%s: %s); they compile on first call instead",
                        group, type(exc).__name__, exc)
            continue
        _write_marker(group)
    took = time.perf_counter() - t
    log.info("kernels compiled in %.1f s", took)
    return took
