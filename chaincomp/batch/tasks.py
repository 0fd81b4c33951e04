"""Tasks of a batch: one task = (instance file, method, parameters, seed).

A batch is a grid: instance sets × methods × parameter grids × seeds. It comes either from the
command line (instance paths/dirs/globs + ``--method`` + ``--param KEY=V1,V2`` + ``--seeds``) or from
a manifest (JSON or TOML, see :func:`chaincomp.batch.manifest.load_manifest` and docs/batch.md).

Task ids are stable: ``sha256`` of the canonical JSON of (sha256 of the instance file's bytes, method,
parameters, seed), first 20 hex digits. Renaming or moving an instance file keeps its tasks' ids, so
``--resume`` recognises finished work; editing the file's content makes new tasks.

Choices (the issue leaves them open):
- Parameter aliases: ``c`` → ``cache_reservation``, ``time_limit`` → ``time_limit_s``,
  ``mip_gap``/``mip-gap`` kept as ``mip_gap``; keys are otherwise passed to the method unchanged as
  keyword arguments (a method rejects options it does not support → the task fails with that message).
- ``c = "auto"`` (or ``cache_reservation = "auto"``) means "let the method tune c" and is not passed on.
- ``policy`` and ``sim_jobs`` are not method options: they ask the worker to simulate the solution
  afterwards (see :mod:`chaincomp.batch.worker`).
- A directory means its ``*.json`` files (not recursive; use a glob ``dir/**/*.json`` for that), sorted
  by name; a glob that matches nothing and a missing file are usage errors (before anything runs); a
  file that exists but is not a valid instance becomes a *failed task* with the loader's message.
- ``example:NAME`` names an embedded example instance (``chaincomp examples``); ``set:NAME`` a
  shipped instance set (``set:quick``: chaincomp/instances/sets/quick, see docs/batch.md).
"""

from __future__ import annotations

import glob
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

from chaincomp.errors import UsageError
from chaincomp.io import limits

#: parameter-name aliases accepted on the command line and in manifests
PARAM_ALIASES = {
    "c": "cache_reservation",
    "time_limit": "time_limit_s",
    "time-limit": "time_limit_s",
    "mip-gap": "mip_gap",
    "sim-jobs": "sim_jobs",
}

#: parameters consumed by the worker's simulation step, not passed to the method
SIM_PARAMS = ("policy", "sim_jobs")


@dataclass(frozen=True)
class InstanceRef:
    """An instance as the batch sees it: a label (path or ``example:NAME``), its text and hash."""

    label: str
    text: str
    sha256: str
    path: str | None = None  # absolute path when the instance is a file

    @classmethod
    def from_text(cls, label: str, text: str, path: str | None = None) -> "InstanceRef":
        return cls(label, text, hashlib.sha256(text.encode()).hexdigest(), path)


@dataclass(frozen=True)
class Task:
    """One unit of work. ``params`` holds method options and simulation settings (sorted keys)."""

    instance: InstanceRef = field(repr=False)
    method: str
    params: tuple[tuple[str, Any], ...]
    seed: int | None
    timeout_s: float | None = None

    @property
    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)

    @cached_property
    def task_id(self) -> str:
        return task_id(self.instance.sha256, self.method, self.param_dict, self.seed)

    @property
    def config(self) -> str:
        """A short label of method + parameters, e.g. ``greedy[tune=upper]`` (seeds excluded)."""
        return config_label(self.method, self.param_dict)

    def payload(self, providers: Sequence[str] = ()) -> dict[str, Any]:
        """What a worker needs: plain data only (picklable, no paths required on the worker)."""
        return {
            "task_id": self.task_id,
            "instance": self.instance.label,
            "instance_sha256": self.instance.sha256,
            "instance_text": self.instance.text,
            "instance_path": self.instance.path,
            "method": self.method,
            "params": self.param_dict,
            "seed": self.seed,
            "timeout_s": self.timeout_s,
            "providers": list(providers),
        }


def task_id(instance_sha256: str, method: str, params: dict[str, Any], seed: int | None) -> str:
    key = json.dumps(
        {"instance_sha256": instance_sha256, "method": method, "params": params, "seed": seed},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def config_label(method: str, params: dict[str, Any]) -> str:
    if not params:
        return method
    inner = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{method}[{inner}]"


# ---------------------------------------------------------------------------------------------
# parsing helpers
# ---------------------------------------------------------------------------------------------
def parse_scalar(text: str) -> Any:
    """``"5"`` → 5, ``"0.5"`` → 0.5, ``"none"``/``"null"`` → None, ``"true"`` → True, else the string."""
    s = text.strip()
    low = s.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(s)
    except ValueError:
        pass
    try:
        x = float(s)
        if math.isfinite(x):
            return x
    except ValueError:
        pass
    return s


def parse_param_options(options: Sequence[str]) -> dict[str, list[Any]]:
    """``["c=5,7,auto", "tune=lower,upper"]`` → ``{"cache_reservation": [5, 7, "auto"], "tune": [...]}``."""
    grid: dict[str, list[Any]] = {}
    for opt in options:
        if "=" not in opt:
            raise UsageError(f"--param expects KEY=VALUE[,VALUE...], got {opt!r}")
        key, _, values = opt.partition("=")
        key = normalize_key(key.strip())
        if not key:
            raise UsageError(f"--param expects KEY=VALUE[,VALUE...], got {opt!r}")
        vals = [parse_scalar(v) for v in values.split(",")]
        grid.setdefault(key, []).extend(vals)
    return grid


def parse_seeds(text: str | Sequence[int] | int | None) -> list[int | None]:
    """``"0-9"``, ``"0,3,5"``, ``"0-4,10"``, an int, a list, or None (→ ``[0]``)."""
    if text is None:
        return [0]
    if isinstance(text, bool):
        raise UsageError(f"seeds must be integers, got {text!r}")
    if isinstance(text, int):
        return [limits.check_seed(text, "seeds")]
    if isinstance(text, (list, tuple)):
        if not text:
            raise UsageError("seeds: an empty list runs nothing; give at least one seed (default [0])")
        out = []
        for s in text:
            if isinstance(s, bool) or not isinstance(s, int):
                raise UsageError(f"seeds must be integers, got {s!r}")
            out.append(limits.check_seed(s, "seeds"))
        _check_seed_count(len(out), f"{len(out)} seeds")
        return out
    seeds: list[int | None] = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, "")
                lo_i, hi_i = int(lo), int(hi)
                if hi_i < lo_i:
                    raise ValueError
                _check_seed_count(len(seeds) + hi_i - lo_i + 1, text)
                seeds.extend(range(lo_i, hi_i + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise UsageError(f"--seeds expects e.g. 0-9 or 0,3,5, got {text!r}") from None
    _check_seed_count(len(seeds), text)
    for s in seeds:
        limits.check_seed(s, "seeds")
    return seeds


def _check_seed_count(n: int, text: Any) -> None:
    if n > limits.MAX_SEEDS:
        raise UsageError(f"seeds {str(text)[:60]!r}: {n} seeds exceed the limit of {limits.MAX_SEEDS} per batch (docs/reliability.md, Limits)")


def normalize_key(key: str) -> str:
    return PARAM_ALIASES.get(key, key)


def _normalize_grid(grid: dict[str, Any] | None, where: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for key, vals in (grid or {}).items():
        if not isinstance(vals, list):
            vals = [vals]
        if not vals:
            raise UsageError(f"{where}: parameter {key!r} has an empty list of values")
        out[normalize_key(key)] = list(vals)
    return out


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Cartesian product of a parameter grid (keys sorted, values in the order given)."""
    keys = sorted(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


# ---------------------------------------------------------------------------------------------
# instances
# ---------------------------------------------------------------------------------------------
def _has_glob(s: str) -> bool:
    return any(ch in s for ch in "*?[")


def resolve_instances(sources: Iterable[str | Path], base: Path | None = None) -> list[InstanceRef]:
    """Instance files/dirs/globs/``example:NAME`` → de-duplicated refs in the order given."""
    refs: list[InstanceRef] = []
    seen: set[str] = set()

    def add_file(p: Path, label: str) -> None:
        key = str(p.resolve())
        if key in seen:
            return
        seen.add(key)
        from chaincomp.errors import InvalidInstance
        from chaincomp.io import files as io_files

        try:  # regular UTF-8 files only (a FIFO is refused before it is opened, so nothing blocks)
            text = io_files.read_text(p, "instance file")
        except InvalidInstance as exc:
            # unreadable content becomes a failed task with this message (the worker re-raises it)
            text = f"\x00unreadable:{exc}"
        refs.append(InstanceRef.from_text(label, text, key))

    for src in sources:
        s = str(src)
        if s.startswith("example:"):
            name = s.split(":", 1)[1]
            if s in seen:
                continue
            seen.add(s)
            refs.append(InstanceRef.from_text(s, _example_text(name)))
            continue
        if s.startswith("set:"):
            folder = shipped_set_dir(s.split(":", 1)[1])
            for m in sorted(folder.glob("*.json")):
                add_file(m, f"{s}/{m.name}")
            continue
        path = Path(s)
        if base is not None and not path.is_absolute():
            path = base / path
        if _has_glob(s):
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise UsageError(f"instance glob {s!r} matches no file")
            for m in files:
                add_file(m, str(m))
        elif path.is_dir():
            files = sorted(path.glob("*.json"))
            if not files:
                raise UsageError(f"instance directory {s!r} has no *.json file")
            for m in files:
                add_file(m, str(m))
        elif path.is_file():
            add_file(path, str(path))
        else:
            raise UsageError(f"instance {s!r}: no such file, directory or glob match")
    return refs


def shipped_sets() -> list[str]:
    """Names of the instance sets shipped in chaincomp/instances/sets."""
    root = Path(__file__).resolve().parents[1] / "instances" / "sets"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def shipped_set_dir(name: str) -> Path:
    folder = Path(__file__).resolve().parents[1] / "instances" / "sets" / name
    if not name or not folder.is_dir() or not any(folder.glob("*.json")):
        raise UsageError(f"set:{name}: no such shipped instance set; available: {', '.join(shipped_sets()) or 'none'}")
    return folder


def _example_text(name: str) -> str:
    try:
        from chaincomp.instances import examples
    except ModuleNotFoundError:
        raise UsageError(f"example:{name}: embedded examples are not available in this installation") from None
    problem = examples.load_example(name)
    return json.dumps(problem.to_dict(), sort_keys=True, default=_json_default)


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


# ---------------------------------------------------------------------------------------------
# grids and manifests
# ---------------------------------------------------------------------------------------------
def expand_grid(
    instances: Sequence[InstanceRef],
    methods: Sequence[str],
    params: dict[str, list[Any]] | None = None,
    seeds: Sequence[int | None] = (0,),
    timeout_s: float | None = None,
) -> list[Task]:
    """instances × methods × product(params) × seeds, in that nesting order."""
    if not instances:
        raise UsageError("no instances given")
    if not methods:
        raise UsageError("no method given (use --method NAME)")
    points = grid_points(_normalize_grid(params, "--param"))
    tasks = []
    for inst in instances:
        for method in methods:
            for point in points:
                for seed in seeds:
                    tasks.append(make_task(inst, method, point, seed, timeout_s))
    return tasks


def make_task(inst: InstanceRef, method: str, params: dict[str, Any], seed: int | None, timeout_s: float | None) -> Task:
    params = check_params({normalize_key(k): v for k, v in params.items()})
    hard = effective_timeout(timeout_s, params)
    return Task(inst, str(method), tuple(sorted(params.items())), seed, hard)


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """A task's parameters, checked like ``solve``'s options (:func:`chaincomp.methods.check_options`)
    before any task runs; ``seed`` is refused (each task's seed comes from ``--seeds`` / ``seeds``,
    so a ``seed`` parameter would label configs that all run with the same seeds)."""
    from chaincomp.methods import check_options

    if "seed" in params:
        raise UsageError("parameter seed: the seed of each task comes from --seeds (a manifest's `seeds`); "
                         "remove seed from the parameters")
    return check_options(params, "parameter")


def effective_timeout(timeout_s: float | None, params: dict[str, Any]) -> float | None:
    """The hard wall-clock limit of a task: the given one, else 2 × time_limit_s + 60 s when the
    method has a solver time limit, else none (at most MAX_TASK_TIMEOUT_S)."""
    if timeout_s is not None:
        limits.positive_option(timeout_s, "task timeout (s)", limits.MAX_TASK_TIMEOUT_S)
        return float(timeout_s)
    tl = params.get("time_limit_s")
    if isinstance(tl, (int, float)) and not isinstance(tl, bool) and tl > 0:
        return 2.0 * float(tl) + 60.0
    return None


def check_task_count(n: int, where: str) -> None:
    """Refuse a grid of more than :data:`~chaincomp.io.limits.MAX_TASKS` tasks before building it."""
    from chaincomp.io import limits

    if n > limits.MAX_TASKS:
        raise UsageError(f"{where}: the grid has {n} tasks, beyond the limit of {limits.MAX_TASKS} (docs/reliability.md, Limits)")


def dedupe(tasks: Iterable[Task]) -> list[Task]:
    seen: set[str] = set()
    out = []
    for t in tasks:
        if t.task_id not in seen:
            seen.add(t.task_id)
            out.append(t)
    return out
