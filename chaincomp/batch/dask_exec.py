"""The Dask executor: tasks as :mod:`dask.distributed` futures (``--scheduler tcp://HOST:PORT`` or
``--scheduler local``).

Everything cluster-related is Dask's own: :class:`distributed.Client` / :class:`distributed.LocalCluster`,
``client.submit(..., retries=N, resources=...)``, :func:`distributed.as_completed`, the nanny's
memory limit (a worker over it is restarted; its task then fails with ``KilledWorker`` after Dask's
``allowed-failures`` and is recorded as failed), and ``client.restart_workers`` (used to reclaim a
worker whose task hung). No scheduling or cluster code of our own.

Per-task time limits: a thread cannot be killed, so the worker function
(:func:`chaincomp.batch.worker.execute_task_with_deadline`) runs the task in a watchdog thread and
returns a failed ``TimeoutError`` record when the limit passes; the client then asks Dask to restart
that worker (only possible with nanny-managed worker processes, i.e. not ``processes=False``) so the
abandoned thread stops burning CPU. ``retries`` re-runs a task only when its *worker* was lost (an
exception inside the method is a result, not a Dask error, and is not retried).

Workers need ``chaincomp`` importable (the same version). Instances travel inside the task payload,
so workers need no shared file system; method providers named with ``--provider`` must be
importable on the workers (module names) or exist at the same path (``.py`` files).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Iterator

from chaincomp.batch.local import Outcome
from chaincomp.batch.store import encode_record
from chaincomp.errors import UsageError


class DaskExecutor:
    """Run task payloads on a Dask cluster.

    Parameters
    ----------
    scheduler : ``"local"`` (start a LocalCluster with ``jobs`` single-threaded worker processes),
        a scheduler address ``tcp://HOST:PORT``, or None when ``client`` is given.
    client : an existing :class:`distributed.Client` (the caller keeps ownership).
    jobs : LocalCluster worker count (default: cores).
    retries : Dask retries per task when its worker dies (default 1).
    memory_limit_gb : LocalCluster per-worker memory limit (the nanny restarts a worker above it).
    resources : Dask abstract resources each task needs, e.g. ``{"GPU": 1}`` (workers must declare them).
    security : a :class:`distributed.security.Security` for a remote ``tls://`` scheduler (see
        :func:`tls_security`); without it Dask's configuration (``distributed.comm.tls.*``) applies.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = "local",
        client=None,
        jobs: int | None = None,
        retries: int = 1,
        memory_limit_gb: float | None = None,
        resources: dict[str, float] | None = None,
        processes: bool = True,
        security=None,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - dask[distributed] is a dependency
            raise UsageError("--scheduler needs dask[distributed]: pip install 'dask[distributed]'") from None
        self._own_client = client is None
        self._cluster = None
        self.retries = retries
        self.resources = resources
        self.running = 0
        if client is not None:
            self.client = client
        elif scheduler == "local":
            import os

            import dask

            n = max(1, int(jobs or os.cpu_count() or 1))
            # Locked down (docs/reliability.md, "Security"): scheduler and workers listen on 127.0.0.1
            # only, over TLS with a temporary certificate authority that only this process and its
            # workers hold (another local process cannot connect and run code in the workers), and
            # the HTTP servers serve no routes (no dashboard, no /json, no proxy).
            dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []})
            kwargs: dict[str, Any] = {}
            if processes:
                from distributed.security import Security

                try:
                    kwargs = {"protocol": "tls://", "security": Security.temporary()}
                except ImportError:  # pragma: no cover - `cryptography` (a distributed dependency) missing
                    raise UsageError("--scheduler local needs the 'cryptography' package for its temporary TLS certificates") from None
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=processes,
                memory_limit=f"{memory_limit_gb}GB" if memory_limit_gb else "auto",
                host="127.0.0.1",
                dashboard_address=None,
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                **kwargs,
            )
            self.client = Client(self._cluster, **({"security": kwargs["security"]} if "security" in kwargs else {}))
        elif scheduler:
            try:
                if security is not None:
                    self.client = Client(scheduler, timeout="20s", security=security)
                else:  # Dask's own configuration (distributed.comm.tls.*, DASK_DISTRIBUTED__COMM__TLS__*) applies
                    self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        else:
            raise UsageError("DaskExecutor needs a scheduler address, 'local', or a client")
        self.name = f"dask:{'local' if scheduler == 'local' else (scheduler or self.client.scheduler.address)}"

    def close(self) -> None:
        if self._own_client:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _threads(self) -> int:
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:  # noqa: BLE001
            return 1

    def run(self, payloads: Iterable[dict[str, Any]], on_start: Callable[[dict[str, Any]], None] | None = None) -> Iterator[Outcome]:
        """Submit every payload, yield an :class:`Outcome` per task as futures complete."""
        from distributed import as_completed

        from chaincomp.batch.worker import base_record, error_info, execute_task_with_deadline, finish

        payloads = list(payloads)
        if not payloads:
            return
        threads = self._threads()
        futures = {}
        for p in payloads:
            fut = self.client.submit(
                execute_task_with_deadline,
                p,
                key=f"chaincomp-task-{p['task_id']}-{time.monotonic_ns()}",
                pure=False,
                retries=self.retries,
                resources=self.resources,
            )
            futures[fut] = p
            if on_start is not None:
                self.running = min(len(futures), threads)
                on_start(p)
        pending = len(futures)
        try:
            for fut in as_completed(futures):
                p = futures.pop(fut)
                pending -= 1
                self.running = min(pending, threads)
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError, lost data…
                    rec = finish(base_record(p), time.perf_counter())
                    rec["wall_time_s"] = None
                    rec["error"] = error_info(exc, with_traceback=False)
                    if type(exc).__name__ == "KilledWorker":
                        rec["error"]["message"] = (
                            f"the Dask worker running this task died {self.retries + 1} time(s) "
                            f"(crash or memory limit): {exc}"
                        )
                if rec.get("abandoned"):
                    self._reclaim(rec.get("worker"))
                try:
                    line = encode_record(rec)
                except (TypeError, ValueError) as exc:
                    rec.update(status="failed", solution=None, error={"type": type(exc).__name__, "message": f"result not JSON-serializable: {exc}"})
                    line = encode_record(rec)
                fut.release()
                yield Outcome(rec["task_id"], rec["status"], rec["error"], line)
        finally:
            if futures:
                self.client.cancel(list(futures))
            self.running = 0

    def _reclaim(self, worker: str | None) -> None:
        """Restart the worker whose task hung (nanny-managed workers only); ignore when impossible."""
        if not worker:
            return
        try:
            self.client.restart_workers([worker], raise_for_error=False)
        except Exception:  # noqa: BLE001 - no nanny (processes=False) or an older distributed
            pass


def tls_security(ca_file: str | None, cert: str | None, key: str | None):
    """Dask TLS settings for a remote scheduler (``--tls-ca-file``/``--tls-cert``/``--tls-key``):
    :class:`distributed.security.Security` with encryption required. All three or none."""
    given = [x is not None for x in (ca_file, cert, key)]
    if not any(given):
        return None
    if not all(given):
        raise UsageError("--tls-ca-file, --tls-cert and --tls-key go together (Dask TLS: CA, client certificate, client key)")
    from pathlib import Path

    for name, f in (("--tls-ca-file", ca_file), ("--tls-cert", cert), ("--tls-key", key)):
        if not Path(f).is_file():
            raise UsageError(f"{name} {f}: no such file")
    from distributed.security import Security

    return Security(tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
