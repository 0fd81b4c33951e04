"""Batch manifests (JSON or TOML): runs of methods × parameter grids × instances × seeds, read and
type-checked into :class:`~chaincomp.batch.tasks.Task` lists (docs/batch.md). Paths named in a
manifest must stay inside its folder (issue 12: a hostile manifest must not name files elsewhere)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaincomp.batch.tasks import (
    Task,
    _normalize_grid,
    check_task_count,
    expand_grid,
    parse_seeds,
    resolve_instances,
)
from chaincomp.errors import UsageError
from chaincomp.io import limits


@dataclass
class Manifest:
    """A parsed manifest: the tasks plus batch-level settings it names."""

    tasks: list[Task]
    providers: list[str] = field(default_factory=list)
    out: Path | None = None
    source: Path | None = None


def load_manifest(path: str | Path, timeout_s: float | None = None) -> Manifest:
    """Read a JSON or TOML manifest (by extension; ``.toml`` → tomllib, anything else → JSON).

    Layout (every key optional except ``runs``' ``methods``)::

        instances = ["sets/quick/*.json", "more/", "example:worked-example"]  # default instance set
        seeds = [0, 1, 2]            # or "0-9"; default [0]
        task_timeout_s = 120         # hard kill limit per task (default: none / 2×time_limit_s+60)
        providers = ["my_methods"]   # extra modules (or .py files) that register methods
        out = "results.jsonl"        # default results file (relative to the manifest)

        [[runs]]
        methods = ["greedy"]
        params = { c = ["auto", 5, 7], tune = ["lower", "upper"] }

        [[runs]]
        methods = ["milp"]
        instances = ["tiny/*.json"]  # a run may override instances, seeds, task_timeout_s
        params = { solver = "highs", time_limit_s = [10, 60] }

    Paths (instances, ``.py`` providers, ``out``) are relative to the manifest's folder and must
    stay inside it: an absolute path or one with ``..`` is refused (give such a path on the command
    line instead: instance paths as arguments, ``--out FILE``, ``--provider FILE``). Every field is
    type-checked; a wrong type is a message naming the manifest, the field and what was expected.
    ``providers`` are only *listed* here; the CLI imports them only with ``--run-provider-code``.
    Without ``runs`` the top-level ``methods``/``params`` form a single run.
    """
    from chaincomp.errors import InvalidInstance
    from chaincomp.io import files as io_files

    path = Path(path)
    try:
        data = io_files.read_toml(path, "manifest") if path.suffix.lower() == ".toml" else io_files.read_json(path, "manifest")
    except InvalidInstance as exc:
        raise UsageError(f"manifest {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"manifest {path}: expected a table/object at the top level")
    known = {"instances", "seeds", "task_timeout_s", "providers", "out", "runs", "methods", "params", "description", "name"}
    unknown = set(data) - known
    if unknown:
        raise UsageError(f"manifest {path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(known))}")
    where0 = f"manifest {path}"
    for key in ("description", "name"):
        if key in data and not isinstance(data[key], str):
            raise UsageError(f"{where0}: {key}: expected a string, got {_kind(data[key])}")
    base = path.resolve().parent
    runs = data.get("runs")
    if runs is None:
        runs = [{"methods": data.get("methods"), "params": data.get("params")}]
    elif data.get("methods") is not None or data.get("params") is not None:
        raise UsageError(f"manifest {path}: give either top-level methods/params or [[runs]], not both")
    if not isinstance(runs, list) or not runs:
        raise UsageError(f"manifest {path}: runs: expected a non-empty list of tables/objects")
    top_instances = _str_list(data.get("instances"), f"{where0}: instances")
    top_timeout = _opt_timeout(data.get("task_timeout_s"), f"{where0}: task_timeout_s")
    tasks: list[Task] = []
    ids: set[str] = set()
    for i, run in enumerate(runs):
        where = f"manifest {path}: runs[{i}]"
        if not isinstance(run, dict):
            raise UsageError(f"{where}: expected a table/object, got {_kind(run)}")
        extra = set(run) - {"methods", "method", "params", "instances", "seeds", "task_timeout_s"}
        if extra:
            raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
        methods = _str_list(run.get("methods", run.get("method")), f"{where}: methods")
        if not methods:
            raise UsageError(f"{where}: no 'methods'")
        inst_sources = _str_list(run["instances"], f"{where}: instances") if "instances" in run else top_instances
        if not inst_sources:
            raise UsageError(f"{where}: no 'instances' (set them at the top level or in the run)")
        for src in inst_sources:
            if not (src.startswith("example:") or src.startswith("set:")):
                _inside(src, f"{where}: instances")
        seeds_raw = run.get("seeds", data.get("seeds"))
        if seeds_raw is not None and not isinstance(seeds_raw, (str, int, list)):
            raise UsageError(f"{where}: seeds: expected a string like \"0-9\", an integer or a list of integers, got {_kind(seeds_raw)}")
        seeds = parse_seeds(seeds_raw)
        run_timeout = timeout_s if timeout_s is not None else (
            _opt_timeout(run["task_timeout_s"], f"{where}: task_timeout_s") if "task_timeout_s" in run else top_timeout)
        params = run.get("params") or {}
        if not isinstance(params, dict):
            raise UsageError(f"{where}: params: expected a table/object of KEY = value or [values], got {_kind(params)}")
        for key, vals in params.items():
            for v in (vals if isinstance(vals, list) else [vals]):
                if v is not None and not isinstance(v, (str, int, float, bool)):
                    raise UsageError(f"{where}: params.{key}: expected a scalar (string, number, true/false) or a list of scalars, got {_kind(v)}")
                if isinstance(v, float) and not math.isfinite(v):
                    raise UsageError(f"{where}: params.{key}: expected a finite number, got {v}")
        refs = resolve_instances(inst_sources, base)
        grid = _normalize_grid(params, where)
        check_task_count(len(refs) * len(methods) * len(seeds) * math.prod(len(v) for v in grid.values()), where)
        try:
            run_tasks = expand_grid(refs, methods, grid, seeds, run_timeout)
        except UsageError as exc:  # a parameter value solve would refuse: name the run it is in
            raise UsageError(f"{where}: params: {exc}") from None
        for task in run_tasks:
            if task.task_id not in ids:  # identical tasks named twice run once
                ids.add(task.task_id)
                tasks.append(task)
    providers = _str_list(data.get("providers"), f"{where0}: providers")
    resolved = []
    for p in providers:
        if p.endswith(".py") or "/" in p or "\\" in p:
            resolved.append(str(base / _inside(p, f"{where0}: providers")))
        else:
            resolved.append(p)
    out = data.get("out")
    if out is not None and not isinstance(out, str):
        raise UsageError(f"{where0}: out: expected a file name (string), got {_kind(out)}")
    return Manifest(tasks, resolved, (base / _inside(out, f"{where0}: out")) if out else None, path)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return f"a boolean ({str(v).lower()})"
    if isinstance(v, (int, float)):
        return f"a number ({v})"
    if isinstance(v, str):
        return f"a string ({v[:40]!r})"
    return {dict: "a table/object", list: "a list"}.get(type(v), type(v).__name__)


def _str_list(v: Any, where: str) -> list[str]:
    """A string or a list of strings (None → [])."""
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return list(v)
    bad = next((x for x in v if not isinstance(x, str)), v) if isinstance(v, list) else v
    raise UsageError(f"{where}: expected a string or a list of strings, got {_kind(bad)}")


def _opt_timeout(v: Any, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= limits.MAX_TASK_TIMEOUT_S:
        raise UsageError(f"{where}: expected a number of seconds in (0, {limits.MAX_TASK_TIMEOUT_S:g}], got {_kind(v)}")
    return float(v)


def _inside(rel: str, where: str) -> str:
    """A manifest path must be relative and stay in the manifest's folder (no absolute path, no ``..``)."""
    from pathlib import PurePosixPath, PureWindowsPath

    if not rel or "\x00" in rel:
        raise UsageError(f"{where}: expected a non-empty path, got {rel!r}")
    pp = PurePosixPath(rel)
    if pp.is_absolute() or PureWindowsPath(rel).is_absolute() or rel.startswith("~"):
        raise UsageError(f"{where}: {rel!r} is an absolute path; a manifest may only name paths inside its own folder "
                         "(give this one on the command line instead)")
    if ".." in pp.parts or ".." in PureWindowsPath(rel).parts:
        raise UsageError(f"{where}: {rel!r} leaves the manifest's folder ('..'); a manifest may only name paths inside "
                         "its own folder (give this one on the command line instead)")
    return rel
