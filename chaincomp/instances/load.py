"""Loading instance files into a :class:`~chaincomp.problem.Problem`.

Two forms:

* three files — ``cluster.json``, ``model.json`` (our model file *or* a Hugging Face
  ``config.json``), optional ``workload.json`` — via :func:`load_problem`;
* one file ``{"name", "cluster", "model", "workload", "meta"}`` (what ``chaincomp generate`` writes
  and what the embedded examples are) via :func:`load_instance_file`.

Every user mistake raises :class:`~chaincomp.errors.InvalidInstance` whose message names the file,
the JSON path of the field and what was expected, one line per problem, e.g.
``cluster.json: servers[3].memory_gb: expected a number > 0, got -5``. A model that fits on no
server (or a cluster that cannot host all L blocks) raises
:class:`~chaincomp.errors.InfeasibleInstance`.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from chaincomp.errors import InfeasibleInstance, InvalidInstance
from chaincomp.instances import catalog
from chaincomp.instances.derive import FieldError, ResolvedModel, build_problem, check_hostable, resolve_model
from chaincomp.io import files as io_files
from chaincomp.io import limits as io_limits
from chaincomp.instances.schema import ClusterSpec, InstanceSpec, ModelSpec, WorkloadSpec
from chaincomp.problem import Problem

# --- reading and error formatting -------------------------------------------------------------


def read_json(path: str | Path) -> Any:
    """Parse a JSON file under the boundary rules of :mod:`chaincomp.io.files` (regular file, UTF-8,
    strict JSON, bounded size and nesting); any problem raises :class:`InvalidInstance` naming it."""
    return io_files.read_json(path, "file")


def _json_path(loc: tuple, prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated/list down to a pydantic model class (or return tp)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if args else tp
            if not args:
                return tp
        else:
            return tp


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Allowed field names of the object that contains ``loc[-1]``."""
    cur: Any = model
    for part in loc[:-1]:
        cur = _unwrap(cur)
        if isinstance(part, int):
            if typing.get_origin(cur) is list:
                cur = typing.get_args(cur)[0]
            continue
        if isinstance(cur, type) and issubclass(cur, BaseModel) and part in cur.model_fields:
            cur = cur.model_fields[part].annotation
        else:
            return []
    cur = _unwrap(cur)
    if isinstance(cur, type) and issubclass(cur, BaseModel):
        return list(cur.model_fields)
    return []


def _got(value: Any) -> str:
    if isinstance(value, (dict, list)):
        s = json.dumps(value)
        return s if len(s) <= 60 else s[:57] + "..."
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _explain(err: dict, model: type[BaseModel]) -> str:
    t, ctx, inp = err["type"], err.get("ctx") or {}, err.get("input")
    if t == "missing":
        return "required field is missing"
    if t == "extra_forbidden":
        name = str(err["loc"][-1])
        allowed = _fields_at(model, err["loc"])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else (f"; allowed: {', '.join(allowed)}" if allowed else "")
        return f"unknown field{hint}"
    if t == "greater_than":
        return f"expected a number > {_num(ctx.get('gt'))}, got {_got(inp)}"
    if t == "greater_than_equal":
        return f"expected a number ≥ {_num(ctx.get('ge'))}, got {_got(inp)}"
    if t == "less_than_equal":
        return f"expected a number ≤ {_num(ctx.get('le'))}, got {_got(inp)}"
    if t == "less_than":
        return f"expected a number < {_num(ctx.get('lt'))}, got {_got(inp)}"
    if t in ("float_parsing", "float_type"):
        return f"expected a number, got {_got(inp)}"
    if t in ("int_parsing", "int_type", "int_from_float"):
        return f"expected an integer, got {_got(inp)}"
    if t == "finite_number":
        return f"expected a finite number, got {_got(inp)}"
    if t in ("string_type",):
        return f"expected a string, got {_got(inp)}"
    if t == "string_too_short":
        return "expected a non-empty string"
    if t == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {_got(inp)}"
    if t == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {len(inp) if hasattr(inp, '__len__') else _got(inp)}"
    if t in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected an object {{...}}, got {_got(inp)}"
    if t == "list_type":
        return f"expected a list [...], got {_got(inp)}"
    if t == "bool_type" or t == "bool_parsing":
        return f"expected true or false, got {_got(inp)}"
    if t == "value_error":
        msg = err["msg"]
        return msg.removeprefix("Value error, ")
    return f"{err['msg']} (got {_got(inp)})"


def format_validation_error(exc: ValidationError, label: str, model: type[BaseModel], prefix: str = "") -> str:
    """Turn a pydantic error into ``label: json.path: expected …`` lines."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "union:"))))
        lines.append(f"{label}: {_json_path(loc, prefix)}: {_explain(err, model)}")
    return "\n".join(lines)


def _validate(model: type[BaseModel], data: Any, label: str, prefix: str = ""):
    if not isinstance(data, dict):
        where = prefix or "(top level)"
        raise InvalidInstance(f"{label}: {where}: expected a JSON object {{...}}, got {_got(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInstance(format_validation_error(exc, label, model, prefix)) from None


# --- model files (ours or a Hugging Face config.json) ---------------------------------------


#: Hugging Face config.json fields read as integers, with their upper limits (docs/reliability.md)
_HF_INT_FIELDS = {
    **{k: io_limits.MAX_ARCH_DIM for k in ("hidden_size", "n_embed", "d_model", "num_attention_heads", "n_head", "num_heads",
                                           "num_key_value_heads", "num_kv_heads", "intermediate_size", "ffn_hidden_size",
                                           "n_inner", "vocab_size")},
    **{k: io_limits.MAX_BLOCKS for k in ("num_hidden_layers", "n_layer", "num_layers")},
    **{k: io_limits.MAX_TOKENS for k in ("max_position_embeddings", "seq_length", "n_positions")},
}


def _check_hf_numbers(data: dict, label: str) -> None:
    """Strict types at the boundary: each architecture figure is an integer ≥ 1 within its limit."""
    for key, limit in _HF_INT_FIELDS.items():
        if key not in data or data[key] is None:
            continue
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int):
            kind = "an integer" if isinstance(v, (bool, str)) else "an integer ≥ 1"
            raise InvalidInstance(f"{label}: {key}: expected {kind}, got {_got(v)}")
        if v < 1:
            raise InvalidInstance(f"{label}: {key}: expected an integer ≥ 1, got {v}")
        if v > limit:
            raise InvalidInstance(f"{label}: {key}: expected an integer ≤ {limit} (documented limit), got {v}")
    for key in ("model_type", "hidden_act", "activation_function", "_name_or_path", "torch_dtype"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise InvalidInstance(f"{label}: {key}: expected a string, got {_got(data[key])}")


def _hf_card(data: dict, label: str, name: str | None = None, overrides: dict | None = None) -> tuple[catalog.ModelCard, dict]:
    from chaincomp.instances.hf import HFConfigError

    _check_hf_numbers(data, label)
    try:
        return catalog.card_from_hf_config(data, name=name, overrides=overrides)
    except HFConfigError as exc:
        raise InvalidInstance(f"{label}: {exc.field}: {exc.message}") from None


#: model-file fields that, next to ``hf_config``, replace the config's values before the derivation
_HF_OVERRIDES = ("hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size",
                 "layers", "max_seq_len", "vocab_size")


def parse_model(data: Any, label: str, base_dir: Path | None = None, prefix: str = "") -> ResolvedModel:
    """Validate and resolve a model file (ours or a HF config.json) into a :class:`ResolvedModel`.

    A raw Hugging Face config.json (``model_type`` / ``architectures`` / …, see
    :func:`catalog.is_hf_config`) is imported by :mod:`chaincomp.instances.hf`; an unsupported or
    inconsistent one is refused naming the field.
    """
    if isinstance(data, dict) and catalog.is_hf_config(data):
        card, extra = _hf_card(data, label, name=None)
        spec = ModelSpec(name=card.name)
        return _resolve(spec, label, prefix, card, extra)
    spec = _validate(ModelSpec, data, label, prefix)
    card = extra = None
    if spec.hf_config:
        hf_path = Path(spec.hf_config)
        if not hf_path.is_absolute() and base_dir is not None:
            hf_path = base_dir / hf_path
        field = f"{label}: {_json_path(('hf_config',), prefix)} = {spec.hf_config!r}"
        try:  # an error in the referenced config names the model file's field too, not only the config
            hf_data = read_json(hf_path)
            if not isinstance(hf_data, dict):
                raise InvalidInstance(f"{hf_path}: expected a JSON object (Hugging Face config.json)")
            overrides = {k: getattr(spec, k) for k in _HF_OVERRIDES if getattr(spec, k) is not None}
            if spec.num_blocks is not None:
                overrides["layers"] = spec.num_blocks
            card, extra = _hf_card(hf_data, str(hf_path), name=spec.name, overrides=overrides)
        except InvalidInstance as exc:
            raise InvalidInstance(f"{field}: {exc}") from None
    return _resolve(spec, label, prefix, card, extra)


def _resolve(spec: ModelSpec, label: str, prefix: str, card, extra) -> ResolvedModel:
    try:
        return resolve_model(spec, card, extra)
    except FieldError as exc:
        raise InvalidInstance(f"{label}: {_json_path((exc.path,), prefix)}: {exc.message}") from None


# --- public API -------------------------------------------------------------------------------


def _check_overrides(arrival_rate: float | None, target_load: float | None) -> None:
    if arrival_rate is not None and not (arrival_rate > 0):
        raise InvalidInstance(f"--rate: expected a number > 0, got {arrival_rate}")
    if target_load is not None:
        io_limits.check_target_load(target_load)


def load_problem(
    cluster_path: str | Path,
    model_path: str | Path,
    workload_path: str | Path | None = None,
    *,
    arrival_rate: float | None = None,
    target_load: float | None = None,
    check: bool = True,
) -> Problem:
    """Build a Problem from a cluster file, a model file and an optional workload file.

    ``arrival_rate`` / ``target_load`` override the workload's (the CLI's ``--rate`` /
    ``--target-load``). Without a workload file the workload defaults apply (SPEC §6.1 token means,
    ρ̄ = 0.7, t_o = 1 ms, o = 18 ms) and ``arrival_rate`` must be given.

    Raises
    ------
    InvalidInstance
        file missing / not JSON / a field invalid or missing (message: file, JSON path, expectation).
    InfeasibleInstance
        ``check`` and the model fits on no server or the cluster cannot host all blocks.
    """
    _check_overrides(arrival_rate, target_load)
    cluster_path, model_path = Path(cluster_path), Path(model_path)
    cluster = _validate(ClusterSpec, read_json(cluster_path), str(cluster_path))
    model = parse_model(read_json(model_path), str(model_path), base_dir=model_path.parent)
    if workload_path is not None:
        workload_path = Path(workload_path)
        workload = _validate(WorkloadSpec, read_json(workload_path), str(workload_path))
    else:
        workload = WorkloadSpec()
    labels = {"cluster": str(cluster_path), "model": str(model_path), "workload": str(workload_path) if workload_path else None}
    if workload_path is None and arrival_rate is None:
        raise InvalidInstance("no arrival rate λ: give a workload file with arrival_rate (--workload FILE) or pass --rate")
    name = cluster.name or cluster_path.stem
    meta = {"source": {k: v for k, v in labels.items() if v}}
    problem = _build(cluster, model, workload, labels, "", arrival_rate, target_load, name, meta)
    if check:
        _check(problem, model, f"{cluster_path} + {model_path}")
    return problem


def load_instance_dict(
    data: Any,
    source: str = "<instance>",
    *,
    arrival_rate: float | None = None,
    target_load: float | None = None,
    check: bool = True,
    base_dir: Path | None = None,
) -> Problem:
    """Build a Problem from single-file instance data (already parsed JSON)."""
    _check_overrides(arrival_rate, target_load)
    spec = _validate(InstanceSpec, data, source)
    model = parse_model(data["model"], source, base_dir=base_dir, prefix="model")
    labels = {"cluster": source, "model": source, "workload": source}
    meta = {"source": source}
    if spec.description:
        meta["description"] = spec.description
    if spec.meta:
        meta["instance"] = spec.meta
    problem = _build(spec.cluster, model, spec.workload, labels, "single", arrival_rate, target_load, spec.name, meta)
    if check:
        _check(problem, model, source)
    return problem


def load_instance_file(
    path: str | Path,
    *,
    arrival_rate: float | None = None,
    target_load: float | None = None,
    check: bool = True,
) -> Problem:
    """Build a Problem from a single-file instance ``{"name", "cluster", "model", "workload"}``."""
    path = Path(path)
    return load_instance_dict(read_json(path), str(path), arrival_rate=arrival_rate, target_load=target_load,
                              check=check, base_dir=path.parent)


def _build(cluster, model, workload, labels, mode, arrival_rate, target_load, name, meta) -> Problem:
    try:
        return build_problem(cluster, model, workload, arrival_rate=arrival_rate, target_load=target_load, name=name, meta=meta)
    except FieldError as exc:
        if exc.role == "workload" and exc.path == "arrival_rate":
            where = labels["workload"]
            if mode == "single":
                raise InvalidInstance(f"{where}: workload.arrival_rate: no arrival rate λ: give workload.arrival_rate in the file or pass --rate") from None
            raise InvalidInstance(f"{where}: arrival_rate: no arrival rate λ: give arrival_rate in the workload file or pass --rate") from None
        label = labels[exc.role] or exc.role
        path = f"{exc.role}.{exc.path}" if mode == "single" else exc.path
        raise InvalidInstance(f"{label}: {path}: {exc.message}") from None


def _check(problem: Problem, model: ResolvedModel, where: str) -> None:
    io_limits.check_problem(problem, where)
    try:
        check_hostable(problem, model_name=f"model {model.name!r}")
    except InfeasibleInstance as exc:
        raise InfeasibleInstance(f"{where}: {exc}") from None


# --- writing ----------------------------------------------------------------------------------


def instance_to_file_dict(
    name: str,
    cluster: ClusterSpec | dict,
    model: ModelSpec | dict,
    workload: WorkloadSpec | dict | None = None,
    *,
    description: str | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The single-file instance form, validated; only fields that were set are written."""
    data: dict[str, Any] = {"name": name}
    if description:
        data["description"] = description
    for key, part in (("cluster", cluster), ("model", model), ("workload", workload)):
        if part is None:
            continue
        data[key] = part.model_dump(exclude_unset=True, exclude_none=True) if isinstance(part, BaseModel) else part
    if meta:
        data["meta"] = meta
    spec = _validate(InstanceSpec, data, f"<instance {name}>")
    return spec.model_dump(exclude_unset=True, exclude_none=True)


def dump_instance(data: dict[str, Any]) -> str:
    """Deterministic JSON text of an instance dict (same data → same bytes)."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
