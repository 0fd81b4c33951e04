"""The Solution: instance + placement + allocation + metrics + provenance, and its JSON form.

JSON layout (documented in the README, schema from ``chaincomp schema solution``):
``instance``, ``method``, ``parameters`` (incl. ``cache_reservation``), ``placement``
(list of {server, first_block (1-based or null), num_blocks}), ``chains`` (fastest first:
{servers, blocks, service_time_s, capacity}), ``metrics``, ``provenance``, and optionally
``solver`` (MILP runs) and ``extra`` (e.g. the tuning table).
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chaincomp import __version__
from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.jsonfast import dumps_indented
from chaincomp.core.placement import Placement
from chaincomp.errors import InvalidInstance
from chaincomp.problem import Problem


def evaluate(problem: Problem, allocation: Allocation) -> dict[str, Any]:
    """Metrics of an allocation, all recomputed from the instance.

    - ``job_servers``: GCA's objective (SPEC §3.2) — job servers needed, fastest chains first, to
      reach λ/ρ̄ (null if all chains together fall short);
    - ``total_capacity``: C = Σ c_k (every chain is used by JFFC);
    - ``service_rate``: ν = Σ μ_k c_k; ``load``: λ/ν;
    - ``response_time_lower_s`` / ``upper_s``: Theorem-4 bounds over all chains (null if λ ≥ ν);
    - ``surrogate_response_time_s``: Σc/λ with Σc = ``total_capacity`` — SPEC §1.2's bound
      T̄ ≲ (1/λ)Σ_k c_k for the allocation JFFC dispatches over (every chain, full capacity). Not the
      tuning score ``surrogate`` = c·K(c)/λ of GBP-CR's groups (SPEC §3.5), which counts c per group.
    """
    nu = allocation.service_rate
    lam = problem.arrival_rate
    bounds = jffc_bounds(lam, allocation.rates, allocation.capacity_array)
    job_servers = allocation.job_servers_needed(problem.required_rate)
    return {
        "job_servers": job_servers,
        "total_capacity": allocation.total_capacity,
        "num_chains": len(allocation.chains),
        "service_rate": nu,
        "required_rate": problem.required_rate,
        "load": lam / nu if nu > 0 else None,
        "response_time_lower_s": _finite(bounds.lower_s),
        "response_time_upper_s": _finite(bounds.upper_s),
        "surrogate_response_time_s": allocation.total_capacity / lam if allocation.chains else None,
    }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass
class Solution:
    """Everything a method produced, with enough provenance to reproduce it."""

    problem: Problem
    method: str
    placement: Placement
    allocation: Allocation
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    solver: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        problem: Problem,
        method: str,
        placement: Placement,
        allocation: Allocation,
        parameters: dict[str, Any] | None = None,
        wall_time_s: float | None = None,
        seed: int | None = None,
        solver: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> "Solution":
        """Build a solution and fill ``metrics`` and ``provenance``."""
        parameters = dict(parameters or {})
        provenance = {
            "toolkit": "chaincomp",
            "toolkit_version": __version__,
            "python": platform.python_version(),
            "method": method,
            "parameters": parameters,
            "wall_time_s": wall_time_s,
            "seed": seed,
        }
        return cls(
            problem=problem,
            method=method,
            placement=placement,
            allocation=allocation,
            parameters=parameters,
            metrics=evaluate(problem, allocation),
            provenance=provenance,
            solver=solver,
            extra=dict(extra or {}),
        )

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instance": self.problem.to_dict(),
            "method": self.method,
            "parameters": self.parameters,
            "placement": self.placement.to_records(self.problem),
            "chains": self.allocation.to_records(self.problem),
            "metrics": self.metrics,
            "provenance": self.provenance,
        }
        if self.solver is not None:
            out["solver"] = self.solver
        if self.extra:
            out["extra"] = self.extra
        return out

    def to_json(self, indent: int | None = 2) -> str:
        data = _jsonable(self.to_dict())
        if indent is None:
            return json.dumps(data, allow_nan=False)
        return dumps_indented(data, indent)  # same bytes as json.dumps(indent=…), without the slow Python encoder

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<solution>") -> "Solution":
        """Parse a Solution JSON. Raises :class:`InvalidInstance` naming the field on bad data."""
        try:
            problem = Problem.from_dict(data["instance"])
            index = {sid: j for j, sid in enumerate(problem.server_ids)}
            J = problem.num_servers
            a = np.zeros(J, dtype=np.int64)
            m = np.zeros(J, dtype=np.int64)
            for rec in data["placement"]:
                j = index[rec["server"]]
                m[j] = int(rec["num_blocks"])
                a[j] = int(rec["first_block"]) if rec.get("first_block") is not None else 0
            chains, caps = [], []
            for rec in data["chains"]:
                servers = tuple(index[s] for s in rec["servers"])
                blocks = tuple(int(b) for b in rec["blocks"])
                # keep the stated time: the verifier recomputes and compares it
                chains.append(Chain(servers, blocks, float(rec["service_time_s"])))
                caps.append(int(rec["capacity"]))
        except KeyError as exc:
            raise InvalidInstance(f"{source}: missing or unknown field {exc} in the solution JSON") from None
        except (TypeError, ValueError, OverflowError, AttributeError) as exc:
            raise InvalidInstance(f"{source}: malformed solution JSON ({exc})") from None
        for key in ("parameters", "metrics", "provenance", "solver", "extra"):
            if data.get(key) is not None and not isinstance(data[key], dict):
                raise InvalidInstance(f"{source}: field '{key}' of the solution JSON: expected an object or null, "
                                      f"got {type(data[key]).__name__}")
        method = data.get("method") or "unknown"
        if not isinstance(method, str):
            raise InvalidInstance(f"{source}: field 'method' of the solution JSON: expected a string, "
                                  f"got {type(method).__name__}")
        return cls(
            problem=problem,
            method=method,
            placement=Placement(a, m),
            allocation=Allocation(tuple(chains), tuple(caps)),
            parameters=dict(data.get("parameters") or {}),
            metrics=dict(data.get("metrics") or {}),
            provenance=dict(data.get("provenance") or {}),
            solver=data.get("solver"),
            extra=dict(data.get("extra") or {}),
        )

    @classmethod
    def load(cls, path: str | Path) -> "Solution":
        """Read a Solution JSON file through the input boundary (:mod:`chaincomp.io.files`: regular
        UTF-8 file, strict JSON, bounded size and nesting) and the strict schema
        (:class:`~chaincomp.instances.schema.SolutionFile`: JSON numbers, finite, bounded integers)."""
        from chaincomp.instances.load import format_validation_error
        from chaincomp.instances.schema import SolutionFile
        from chaincomp.io import files as io_files
        from pydantic import ValidationError

        path = Path(path)
        data = io_files.read_json(path, "file")
        if not isinstance(data, dict):
            raise InvalidInstance(f"{path}: (top level): expected a JSON object (a Solution), got {type(data).__name__}")
        try:
            SolutionFile.model_validate(data)
        except ValidationError as exc:
            raise InvalidInstance(format_validation_error(exc, str(path), SolutionFile)) from None
        from chaincomp.io import limits

        solution = cls.from_dict(data, source=str(path))
        limits.check_problem(solution.problem, f"{path}: instance")  # finite, positive, within the documented limits
        return solution


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats (→ null) for strict JSON."""
    t = type(obj)
    if t is str or t is int or t is bool or obj is None:
        return obj
    if t is float:
        return obj if math.isfinite(obj) else None
    if t is list and all(type(v) is dict for v in obj):  # record lists: the bulk of a large solution
        return [{str(k): _jsonable(v) for k, v in rec.items()} for rec in obj]
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
