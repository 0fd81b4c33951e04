"""Running one task inside a worker (a local pool process or a Dask worker).

:func:`execute_task` never raises for problems of the task itself: it returns a *record* (the line
written to the results JSONL) with ``status`` ``"ok"``, ``"failed"`` (an exception: its type, message
and the last traceback lines) or ``"invalid"`` (the method returned a solution that the independent
verifier :func:`chaincomp.core.verify.verify_solution` rejects; the violations are listed).

Record fields: ``task_id``, ``instance`` (label), ``instance_sha256``, ``instance_name``, ``method``,
``params``, ``seed``, ``config``, ``status``, ``error`` (null or {type, message, exit_code, bound, traceback};
exit_code for the toolkit's own errors, bound for NoDesignFound, traceback for the others),
``violations``, ``wall_time_s`` (whole task in the worker: load + solve + verify + serialize),
``method_time_s`` (the method call only), ``method_cpu_time_s`` (CPU time of the method call in
the worker process: far below ``method_time_s`` means the machine was oversubscribed), ``worker`` (host:pid or Dask worker address),
``finished_at`` (UTC ISO time), ``solution`` (the Solution JSON dict, or null) and ``simulation``
(null unless the task asked for one with ``policy``/``sim_jobs``).

Extra method providers (modules whose import registers methods) reach workers through the task
payload's ``providers`` list and the ``CHAINCOMP_METHOD_PROVIDERS`` environment variable (names
separated by ``,``); each entry is a module name or a path to a ``.py`` file. Both are imported in the
worker before the method is looked up, so test-only or user methods work on every executor.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import importlib.util
import os
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

PROVIDERS_ENV = "CHAINCOMP_METHOD_PROVIDERS"

_loaded_providers: set[str] = set()


def load_providers(providers: list[str] | tuple[str, ...] = ()) -> None:
    """Import extra method-provider modules (names or ``.py`` paths), once per process."""
    names = list(providers)
    env = os.environ.get(PROVIDERS_ENV, "")
    names += [p.strip() for p in env.split(",") if p.strip()]
    for name in names:
        if name in _loaded_providers:
            continue
        from chaincomp.errors import ChaincompError, UsageError

        try:
            if name.endswith(".py") or os.sep in name:
                path = Path(name)
                if not path.is_file():
                    raise UsageError(f"method provider file {name} does not exist")
                mod_name = "chaincomp_provider_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
                spec = importlib.util.spec_from_file_location(mod_name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[mod_name] = module
                spec.loader.exec_module(module)
            else:
                importlib.import_module(name)
        except ChaincompError:
            raise
        except ModuleNotFoundError as exc:
            raise UsageError(f"method provider {name!r}: module {exc.name!r} not found") from None
        except Exception as exc:  # noqa: BLE001 - a provider's own error, reported as one paragraph
            raise UsageError(f"method provider {name!r} failed to import: {type(exc).__name__}: {exc}") from None
        _loaded_providers.add(name)


def worker_label() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------------------------
# instances
# ---------------------------------------------------------------------------------------------
def _looks_like_problem(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("servers"), list):
        return False
    if "num_blocks" not in data or "block_size_gb" not in data:
        return False
    return all(isinstance(s, dict) and "tau_comm_s" in s for s in data["servers"])


def problem_from_text(text: str, label: str, path: str | None = None, sha256: str | None = None):
    """Parse an instance: a single-file instance JSON ``{name, cluster, model, workload}`` (what
    ``chaincomp generate`` writes; :func:`chaincomp.instances.load.load_instance_dict`), a Problem
    JSON (``Problem.to_dict``: servers with τ's already derived), or a Solution JSON (its
    ``instance`` block is solved again)."""
    from chaincomp.errors import InvalidInstance
    from chaincomp.problem import Problem

    if text.startswith("\x00unreadable:"):
        raise InvalidInstance(f"{label}: cannot read the file ({text.split(':', 1)[1]})")
    from chaincomp.io import files as io_files
    from chaincomp.io import limits as io_limits

    data = io_files.parse_json(text, label)  # strict JSON, bounded nesting
    if isinstance(data, dict) and "placement" in data and isinstance(data.get("instance"), dict):
        data = data["instance"]  # a Solution JSON: solve its instance again
    if _looks_like_problem(data):
        from pydantic import ValidationError

        from chaincomp.instances.load import format_validation_error
        from chaincomp.instances.schema import SolutionInstance

        try:  # strict types at the boundary (the Solution file's instance schema)
            SolutionInstance.model_validate(data)
        except ValidationError as exc:
            raise InvalidInstance(format_validation_error(exc, label, SolutionInstance)) from None
        try:
            problem = Problem.from_dict(data)
        except KeyError as exc:
            raise InvalidInstance(f"{label}: missing field {exc} in the problem JSON") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidInstance(f"{label}: malformed problem JSON ({exc})") from None
        io_limits.check_problem(problem, label)
        return problem
    try:
        from chaincomp.instances.load import load_instance_dict
    except ModuleNotFoundError:
        raise InvalidInstance(
            f"{label}: not a problem JSON (servers with tau_comm_s, num_blocks, block_size_gb) and the "
            "instance-file loader (chaincomp.instances.load) is not available"
        ) from None
    # relative references inside the file (e.g. a model config) resolve against its folder
    base_dir = Path(path).parent if path and os.path.isdir(Path(path).parent) else None
    return load_instance_dict(data, label, base_dir=base_dir)


def method_options(params: dict[str, Any], seed: int | None) -> dict[str, Any]:
    """Task parameters → keyword options of the method (``c = auto`` and simulation keys dropped)."""
    from chaincomp.batch.tasks import SIM_PARAMS

    opts = {k: v for k, v in params.items() if k not in SIM_PARAMS}
    if opts.get("cache_reservation") in ("auto", None):
        opts.pop("cache_reservation", None)
    if seed is not None:
        opts["seed"] = seed
    return opts


def simulate_solution(solution, params: dict[str, Any], seed: int | None) -> dict[str, Any]:
    """Simulate the solution with ``policy`` (default: the method's own — PETALS routing for ``petals``,
    WS-RR for ``bprr``, else ``jffc``, :func:`chaincomp.sim.policies.native_policy`; any policy name of
    ``chaincomp simulate --policy``) over ``sim_jobs`` Poisson(λ) jobs (default 20000, Exp service,
    10 % warm-up), seeded with the task's seed (:func:`chaincomp.sim.runner.simulate`).

    Returns the policy's aggregate metrics (``response_time_s`` {mean, median, p95, …}, waiting and
    service times, throughput) plus ``policy``, ``num_jobs`` and ``mean_response_time_s``.
    """
    from chaincomp.errors import UsageError

    try:
        from chaincomp.sim.runner import simulate
    except ModuleNotFoundError:
        raise UsageError("this task asks for a simulation (policy/sim_jobs) but chaincomp.sim is not available") from None
    from chaincomp.sim.policies import native_policy, resolve_policy

    policy = str(params.get("policy") or native_policy(solution))
    num_jobs = int(params.get("sim_jobs", 20000))
    report = simulate(
        solution.problem,
        solution.allocation if solution.allocation.chains else None,
        [resolve_policy(policy, solution)],
        placement=solution.placement,
        num_jobs=num_jobs,
        seed=0 if seed is None else int(seed),
        service="exp",
    )
    res = dict(report.data["policies"][0])
    res.pop("chains", None)
    mean = (res.get("response_time_s") or {}).get("mean")
    return {"policy": policy, "num_jobs": num_jobs, "mean_response_time_s": mean, **res}


# ---------------------------------------------------------------------------------------------
# one task
# ---------------------------------------------------------------------------------------------
def base_record(payload: dict[str, Any]) -> dict[str, Any]:
    from chaincomp.batch.tasks import config_label

    return {
        "task_id": payload["task_id"],
        "instance": payload["instance"],
        "instance_sha256": payload["instance_sha256"],
        "instance_name": None,
        "method": payload["method"],
        "params": payload["params"],
        "seed": payload["seed"],
        "config": config_label(payload["method"], payload["params"]),
        "status": "failed",
        "error": None,
        "violations": [],
        "wall_time_s": None,
        "method_time_s": None,
        "method_cpu_time_s": None,
        "worker": None,
        "finished_at": None,
        "solution": None,
        "simulation": None,
    }


def error_info(exc: BaseException, with_traceback: bool = True) -> dict[str, Any]:
    from chaincomp.errors import ChaincompError

    info: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc) or repr(exc)}
    if isinstance(exc, ChaincompError):  # the CLI's exit code; NoDesignFound: the bound reached (or null)
        info["exit_code"] = exc.exit_code
        if hasattr(exc, "bound"):
            info["bound"] = exc.bound
    if with_traceback and not isinstance(exc, ChaincompError):
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        info["traceback"] = "".join(tb[-6:])[-4000:]
    return info


def finish(record: dict[str, Any], start: float) -> dict[str, Any]:
    record["wall_time_s"] = time.perf_counter() - start
    record["worker"] = worker_label()
    record["finished_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
    return record


from chaincomp.errors import VerificationError as _VerificationError  # noqa: E402


def execute_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one task; always returns its record (see the module docstring)."""
    start = time.perf_counter()
    record = base_record(payload)
    try:
        from chaincomp import methods
        from chaincomp.core.solution import _jsonable
        from chaincomp.core.verify import verify_solution

        load_providers(payload.get("providers") or ())
        problem = problem_from_text(
            payload["instance_text"], payload["instance"], payload.get("instance_path"), payload["instance_sha256"]
        )
        record["instance_name"] = problem.name
        info = methods.get(payload["method"])
        options = method_options(payload["params"], payload["seed"])
        t0, c0 = time.perf_counter(), time.process_time()
        solution = info.func(problem, **options)
        record["method_time_s"] = time.perf_counter() - t0
        record["method_cpu_time_s"] = time.process_time() - c0
        violations = verify_solution(solution)
        record["solution"] = _jsonable(solution.to_dict())
        if violations:
            record["status"] = "invalid"
            record["violations"] = violations
            record["error"] = {"type": "VerificationError", "message": f"{len(violations)} violation(s): {violations[0]}"}
        else:
            if any(k in payload["params"] for k in ("policy", "sim_jobs")):
                record["simulation"] = _jsonable(simulate_solution(solution, payload["params"], payload["seed"]))
            record["status"] = "ok"
    except _VerificationError as exc:  # the method's design failed core/exact.py's check: never emitted
        record["status"] = "invalid"
        record["solution"] = None
        record["violations"] = [line.strip(" -") for line in str(exc).split(":", 1)[-1].split(";") if line.strip(" -")]
        record["error"] = {"type": "VerificationError", "message": str(exc)}
    except MemoryError as exc:
        record["solution"] = None
        record["error"] = {"type": "MemoryError", "message": f"out of memory ({exc or 'allocation failed'}; see --memory-limit-gb)"}
    except Exception as exc:  # noqa: BLE001 - every task failure is recorded, never raised
        record["error"] = error_info(exc)
    return finish(record, start)


def execute_task_with_deadline(payload: dict[str, Any]) -> dict[str, Any]:
    """:func:`execute_task` with the payload's ``timeout_s`` enforced by a watchdog (Dask workers).

    A thread cannot be killed: on timeout the task is recorded as failed and abandoned; its daemon
    thread runs on until the method returns (the local pool, which kills the process, has no such
    leak). The record carries ``"abandoned": true`` so the client can restart that worker.
    """
    timeout = payload.get("timeout_s")
    if not timeout:
        return execute_task(payload)
    start = time.perf_counter()
    box: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: box.append(execute_task(payload)), daemon=True, name="chaincomp-task")
    thread.start()
    thread.join(timeout)
    if box:
        return box[0]
    record = base_record(payload)
    record["error"] = timeout_error(timeout)
    record["abandoned"] = True
    return finish(record, start)


def timeout_error(timeout: float) -> dict[str, Any]:
    return {"type": "TimeoutError", "message": f"task exceeded its time limit of {timeout:g} s and was stopped"}
