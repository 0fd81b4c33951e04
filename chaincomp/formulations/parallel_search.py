"""The milp's placement search on the second core (issue 10 item 3, primal side; restricted: a heuristic).

Column generation (:mod:`.colgen`) is single-threaded. While it runs, a child process runs the
placement search of :mod:`.local_search` (simulated annealing over placements scored by GCA, SPEC
§3.2) from the greedy's placements until a deadline, and sends every placement whose GCA design needs
fewer job servers than any before it through a pipe. The main process *harvests* them (non-blocking)
at every column-generation round and before the integer phases: each harvested placement's GCA
design, re-checked in the main process, becomes the incumbent when it beats it (history timestamped
at the harvest: the moment the main process holds it), and its GCA chains join the master's column
pool — exactly what :func:`.local_search.run_local_search` does in-process.

So ``chaincomp solve --method milp`` uses **two processes** (``threads`` is the integer solver's
thread count in the main process; the search process is one more). ``solve_colgen(parallel_search=
False)`` keeps everything in one process.

Process hygiene
---------------
- ``spawn`` start method (a fresh interpreter: no forked numba/HiGHS state); the child ignores
  SIGINT and SIGTERM (the disposition is set while the child is started, and an ignored signal stays
  ignored across exec), so Ctrl-C in a terminal reaches only the parent's handler (its STOP flag,
  :func:`chaincomp.solvers.base.interruptible`), which asks the child to stop through a STOP hook;
- the child stops at its deadline, when asked (a lock-free shared flag), or within 50 ms when its parent has gone
  (``os.getppid()`` changes — e.g. the parent left with ``os._exit`` on a second Ctrl-C);
- :meth:`ParallelSearch.close` drains the pipe, joins the child (terminates it if it does not leave
  within ``wait_s``, SIGKILL) and is also run by a finalizer; the child is a daemon, so a normal interpreter
  exit terminates it too.

Seeds: the child's random stream is seeded from ``seed`` (``seed + 7919``), but its result depends on
how many evaluations fit before the deadline (wall clock, machine load), so runs with the same seed
may differ. With ``parallel_search=False`` the milp's own phases are unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sys
import signal
import threading
import time
import weakref

import numpy as np

from chaincomp.core.placement import Placement
from chaincomp.problem import Problem

SEED_OFFSET = 7919  # the child's seed = seed + SEED_OFFSET (independent of the in-process searches)
#: the child process needs ≈ 1–2 s to start (interpreter + imports + cached numba kernels); it is
#: only worth starting when the search gets at least this long
MIN_BUDGET_S = 3.0
#: below this many servers column generation settles in about a second and the search is not started
#: (docs/milp.md: proved optimal up to 20 × 16)
MIN_SERVERS = 16
#: while the search process runs (and has its kernels loaded), the milp's in-process local searches
#: (colgen steps 2b, 2c) are skipped and their time goes to column generation and the integer phases
REPLACES_IN_PROCESS = True


def replaces_in_process(ps) -> bool:
    """Skip the in-process local search? Only when the child is searching already (a fresh numba cache
    keeps it compiling for 10–30 s; the in-process search then runs as without it)."""
    return ps is not None and REPLACES_IN_PROCESS and ps.ready and ps.alive
#: lengths (s) of the child's first annealing rounds; later rounds double the last one
ROUNDS_S = (5.0, 10.0)
#: after each annealing round, a large-neighbourhood search (anneal_kernel.run_lns) for up to this
#: share of the round's length (it stops earlier after 60 steps without progress)
LNS_SHARE = 0.5


def _watch(stop_value, parent_pid: int, flag) -> None:  # runs in the child
    while True:
        if stop_value.value or os.getppid() != parent_pid:
            flag.request()
            return
        time.sleep(0.05)


def _worker(problem: Problem, starts, wall_deadline: float, seed, conn, stop_event, parent_pid: int) -> None:
    """Child process: anneal until ``wall_deadline`` (``time.time()``), send ("best", a, m, value) at
    each new best integer value and ("visit", a, m) at new best fractional scores, then ("done", stats)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        from chaincomp.formulations.anneal_kernel import run_compiled, run_lns
        from chaincomp.formulations.local_search import job_servers_of
        from chaincomp.formulations.local_search import PlacementSearch
        from chaincomp.solvers.base import STOP

        threading.Thread(target=_watch, args=(stop_event, parent_pid, STOP), daemon=True).start()
        deadline = time.perf_counter() + (wall_deadline - time.time())
        search = PlacementSearch(problem, seed)
        pls = [Placement(np.asarray(a, np.int64), np.asarray(m, np.int64)) for a, m in starts]
        # load (or, on a fresh numba cache, compile: ~10–30 s) the kernels, then say so: until then the
        # main process runs its own in-process search (colgen step 2b)
        t_ready = time.perf_counter()
        run_compiled(search, pls[:1], float("inf"), max_evals=search.evaluations + 2)  # one chunk
        run_lns(search, pls[0], time.perf_counter() + 0.2, patience=1)  # at least one step
        conn.send(("ready", round(time.perf_counter() - t_ready, 3)))
        last_visit = [0.0]

        def on_improve(pl: Placement, value) -> None:
            conn.send(("best", pl.first_block, pl.num_blocks, value))

        def on_visit(pl: Placement) -> None:  # throttled: at most 20 per second
            now = time.perf_counter()
            if now - last_visit[0] >= 0.05:
                last_visit[0] = now
                conn.send(("visit", pl.first_block, pl.num_blocks))

        # iterated annealing: rounds of growing length (ROUNDS_S, then doubling), each cooled over its
        # own span and started from the best placement so far — improvements come early, and the
        # later, longer rounds search deeper
        t_start = time.perf_counter()
        rounds = []
        lns_steps = 0
        best = None
        k = 0
        while not STOP.requested and time.perf_counter() < deadline - 0.05:
            span = ROUNDS_S[k] if k < len(ROUNDS_S) else ROUNDS_S[-1] * 2 ** (k - len(ROUNDS_S) + 1)
            end = min(deadline, time.perf_counter() + span)
            if deadline - end < 0.5 * span:  # do not leave a stub of a round: stretch this one
                end = deadline
            r = run_compiled(search, pls if best is None else [best.placement], end,
                             on_improve=on_improve, on_visit=on_visit)
            rounds.append(r.value)
            if best is None or r.score < best.score:
                best = r
            # then the large neighbourhood: free a few servers, re-insert each at its best range
            lns_end = min(deadline, time.perf_counter() + LNS_SHARE * span)
            pl, f, steps = run_lns(search, best.placement, lns_end, on_improve=on_improve)
            lns_steps += steps
            if f < best.score - 1e-12:
                best.placement, best.score, best.value = pl, f, job_servers_of(f)
                rounds.append(best.value)
            k += 1
        if best is not None:
            conn.send(("best", best.placement.first_block, best.placement.num_blocks, best.value))
        elapsed = time.perf_counter() - t_start
        conn.send(("done", {"evaluations": search.evaluations, "time_s": round(elapsed, 3),
                            "best_gca": None if best is None else best.value, "rounds": rounds,
                            "lns_steps": lns_steps,
                            "evals_per_s": round(search.evaluations / max(elapsed, 1e-9))}))
    except (BrokenPipeError, EOFError, OSError):  # the parent has gone: nothing to report to
        pass
    except Exception as exc:  # noqa: BLE001 - reported to the parent (phases.parallel_search.error), no traceback
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except (BrokenPipeError, EOFError, OSError):
            pass
    finally:
        try:
            conn.close()
        except OSError:  # pragma: no cover
            pass



@contextlib.contextmanager
def _main_module_hidden():
    """Start a spawned child without re-running the caller's ``__main__``.

    The ``spawn`` start method re-imports the parent's main module in the child (as ``__mp_main__``)
    so that functions defined there can be unpickled. The child here runs only chaincomp code, so
    that import is useless — and harmful for a user script without an ``if __name__ == "__main__":``
    guard: it would re-run the script's top level in the child (a second milp, a RuntimeError about
    the bootstrapping phase printed from the child). multiprocessing skips the import when the main
    module has neither ``__spec__`` nor ``__file__`` (as in an interactive session); both are hidden
    while the process starts and restored at once."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__spec__", "__file__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__["__spec__"] = None
            main.__dict__.pop("__file__", None)
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)

class ParallelSearch:
    """A placement search running in a child process until ``deadline`` (a ``time.perf_counter()`` value)."""

    def __init__(self, problem: Problem, starts: list[Placement], deadline: float, seed: int | None = None) -> None:
        import multiprocessing as mp

        from chaincomp.solvers.base import STOP

        ctx = mp.get_context("spawn")
        self._recv, send = ctx.Pipe(duplex=False)
        # a lock-free shared flag (an Event's lock could be left held by the child's watcher thread
        # when the child exits, and the parent's set() would then block forever)
        self._stop = ctx.RawValue("b", 0)
        wall_deadline = time.time() + (deadline - time.perf_counter())
        arrays = [(np.asarray(pl.first_block, np.int64), np.asarray(pl.num_blocks, np.int64)) for pl in starts]
        child_seed = (0 if seed is None else int(seed)) + SEED_OFFSET
        self.process = ctx.Process(target=_worker, name="chaincomp-placement-search", daemon=True,
                                   args=(problem, arrays, wall_deadline, child_seed, send, self._stop, os.getpid()))
        self.started_at = time.perf_counter()
        self.stats: dict = {}
        self.ready = False  # the child has its kernels loaded and is searching
        self.ready_s = None
        self.received = 0
        self._closed = False
        # the child inherits ignored SIGINT/SIGTERM (no KeyboardInterrupt traceback while it imports)
        old = None
        if threading.current_thread() is threading.main_thread():
            old = (signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN))
        try:
            with _main_module_hidden():
                self.process.start()
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old[0])
                signal.signal(signal.SIGTERM, old[1])
        send.close()  # the child holds the only sending end: EOF when it leaves
        # a receiver thread stamps each message when it arrives (a pricing round of the main thread can
        # take seconds; the designs are the process's from that moment: every one is harvested)
        self._lock = threading.Lock()
        self._inbox: list = []
        self._receiver = threading.Thread(target=self._receive, name="chaincomp-search-receiver", daemon=True)
        self._receiver.start()
        self._hook = self._request_stop
        STOP.hooks.append(self._hook)
        self._finalizer = weakref.finalize(self, _shutdown, self.process, self._stop, self._recv)

    def _receive(self) -> None:
        try:
            while True:
                msg = self._recv.recv()
                now = time.perf_counter()
                with self._lock:
                    self.received += 1
                    if msg[0] == "best":
                        self._inbox.append(("best", _placement(msg[1], msg[2]), msg[3], now))
                    elif msg[0] == "visit":
                        self._inbox.append(("visit", _placement(msg[1], msg[2]), None, now))
                    elif msg[0] == "done":
                        self.stats = dict(msg[1])
                    elif msg[0] == "ready":
                        self.ready = True
                        self.ready_s = msg[1]
                    elif msg[0] == "error":
                        self.stats = {"error": msg[1]}
        except (EOFError, OSError):  # the child has left (every message it sent was read)
            pass

    def poll(self) -> list[tuple]:
        """Every message received and not yet returned (non-blocking): (kind, Placement, value, t) with
        kind "best" (value = its GCA job servers) or "visit" (a good placement; value None), t the
        ``time.perf_counter()`` of its arrival."""
        with self._lock:
            out, self._inbox = self._inbox, []
        return out

    def close(self, wait_s: float = 1.0) -> list[tuple]:
        """Ask the child to stop, collect its last messages, join it (killed after ``wait_s``)."""
        if self._closed:
            return []
        self._request_stop()
        self._receiver.join(wait_s)  # ends at EOF: the child has sent everything and left
        self._closed = True
        if self.process.is_alive():
            self.process.kill()
        out = self.poll()
        from chaincomp.solvers.base import STOP

        if self._hook in STOP.hooks:
            STOP.hooks.remove(self._hook)
        self._finalizer()
        return out

    def _request_stop(self) -> None:
        self._stop.value = 1

    @property
    def alive(self) -> bool:
        return self.process.is_alive()


def _shutdown(process, stop_event, recv) -> None:
    try:
        stop_event.value = 1
        process.join(1.0)
        if process.is_alive():  # it ignores SIGTERM (see the module docstring): SIGKILL
            process.kill()
            process.join(1.0)
    finally:
        try:
            recv.close()
        except OSError:  # pragma: no cover
            pass


def _placement(a, m) -> Placement:
    m = np.asarray(m, np.int64)
    return Placement(np.where(m > 0, np.asarray(a, np.int64), 0), m.copy())


def start_search(problem: Problem, greedy, inc: dict, deadline: float, seed, log: dict) -> ParallelSearch | None:
    """Start the child search from :func:`.local_search.search_starts` when the budget
    allows (``log`` gets the reason otherwise). ``deadline``: a ``time.perf_counter()`` value."""
    from chaincomp.formulations.local_search import search_starts

    starts = search_starts(problem, greedy, inc)
    if not starts:
        log["skipped"] = "no start placement (GBP-CR places no block at any c)"
        return None
    if problem.num_servers < MIN_SERVERS:
        log["skipped"] = f"fewer than {MIN_SERVERS} servers (column generation settles alone)"
        return None
    if deadline - time.perf_counter() < MIN_BUDGET_S:
        log["skipped"] = f"budget below {MIN_BUDGET_S:g} s (a search process takes ≈ 1–2 s to start)"
        return None
    try:
        return ParallelSearch(problem, starts, deadline, seed)
    except OSError as exc:  # e.g. no more processes allowed: the milp goes on in one process
        log["skipped"] = f"could not start the search process: {exc}"
        return None


def harvest(ps: ParallelSearch | None, messages, problem: Problem, segs, master, inc: dict, better, history: list,
            t0: float, log: dict) -> None:
    """Take the child's messages into the milp (module docstring): better GCA designs become the
    incumbent (re-computed here, never trusted from the child), their chains and those of visited
    placements join ``master``'s pool. ``messages``: from :meth:`ParallelSearch.poll` / ``close``."""
    from chaincomp.formulations.common import chain_segments
    from chaincomp.formulations.local_search import gca_design
    from chaincomp.heuristics.gca import gca

    for kind, pl, value, t_arrived in messages:
        if kind == "best":
            log["received"] = log.get("received", 0) + 1
            if value is None or not better(float(value)):
                continue
            al = gca_design(problem, pl)
            if al is None or not better(float(al.total_capacity)):
                continue
            inc.update(placement=pl, allocation=al, value=float(al.total_capacity), source="parallel search")
            _record(history, t_arrived - t0, float(al.total_capacity))
            log["improvements"] = log.get("improvements", 0) + 1
            log["best"] = float(al.total_capacity)
        else:
            log["harvested"] = log.get("harvested", 0) + 1
        for ch in gca(problem, pl).chains:
            master.add_chain(chain_segments(segs, pl, ch), ch.service_time_s)
    if ps is not None and ps.ready_s is not None:
        log["child_ready_s"] = ps.ready_s
    if ps is not None and ps.stats:
        log.update(ps.stats)
        if "error" in ps.stats and not log.get("warned"):
            import warnings

            log["warned"] = True
            warnings.warn(f"the milp's search process failed ({ps.stats['error']}); the milp went on without it",
                          RuntimeWarning, stacklevel=2)


def _record(history: list, t: float, value: float) -> None:
    """Insert (t, value) into the (time, incumbent) list at its time and keep the list strictly improving
    (a design that arrived earlier than it was harvested may make later entries redundant)."""
    history.append((t, value))
    history.sort(key=lambda e: e[0])
    kept: list = []
    for e in history:
        if not kept or e[1] < kept[-1][1]:
            kept.append(e)
    history[:] = kept
