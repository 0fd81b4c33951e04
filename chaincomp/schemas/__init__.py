"""JSON Schemas (draft 2020-12) of every file chaincomp reads or writes — ``chaincomp schema NAME``.

Each schema carries ``$schema`` (the 2020-12 meta-schema) and ``$id`` = ``urn:chaincomp:schema:NAME:v1``
(a URN: stable, version-tagged, and not pretending to be a downloadable URL). Inputs
(cluster, model, workload, instance) and the solution come from the pydantic models that also
validate them (:mod:`chaincomp.instances.schema`); the other files are described in
:mod:`chaincomp.schemas.outputs`. Tests validate real outputs of every command against them with
the ``jsonschema`` package (tests/schemas).

A new file kind registers its schema here, e.g. the elastic package's event timelines::

    from chaincomp import schemas
    schemas.register("events", lambda: {...}, "event timeline (join, leave, fail, rate)")
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from chaincomp.errors import UsageError

DIALECT = "https://json-schema.org/draft/2020-12/schema"
VERSION = "v1"

_REGISTRY: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {}


def schema_id(name: str) -> str:
    return f"urn:chaincomp:schema:{name}:{VERSION}"


def register(name: str, factory: Callable[[], dict[str, Any]], description: str) -> None:
    """Make ``factory()`` (a JSON Schema dict without ``$schema``/``$id``) available as ``name``."""
    _REGISTRY[name] = (factory, description)


def names() -> dict[str, str]:
    """Registered schema names → one-line descriptions."""
    _load()
    return {k: v[1] for k, v in _REGISTRY.items()}


def get(name: str) -> dict[str, Any]:
    """The schema ``name`` with ``$schema``, ``$id`` and ``title`` set; UsageError for unknown names."""
    _load()
    if name not in _REGISTRY:
        raise UsageError(f"unknown schema {name!r}; choose one of {', '.join(_REGISTRY)}")
    factory, description = _REGISTRY[name]
    body = copy.deepcopy(factory())
    out = {"$schema": DIALECT, "$id": schema_id(name), "title": body.pop("title", name), "description": description}
    out.update(body)
    return out


def _load() -> None:
    if _REGISTRY:
        return
    from chaincomp.instances.schema import SCHEMAS
    from chaincomp.schemas import outputs

    input_desc = {
        "cluster": "cluster file: servers (memory, GPU or explicit τ's, RTT) — read by --cluster",
        "model": "model file: explicit sizes or a model card, or a raw Hugging Face config.json — read by --model",
        "workload": "workload file: arrival rate, target load, token lengths — read by --workload",
        "instance": "single-file instance {name, cluster, model, workload} — read by --instance, written by generate",
        "solution": "Solution JSON — written by solve --out/--json, read by verify, simulate, batch",
    }
    from chaincomp.instances.schema import model_file_schema

    for kind, model in SCHEMAS.items():
        factory = model_file_schema if kind == "model" else model.model_json_schema
        register(kind, factory, input_desc.get(kind, f"{kind} file"))
    for name, (factory, description) in outputs.SCHEMAS.items():
        register(name, factory, description)
    from chaincomp.elastic.events import EventsFile

    register("events", EventsFile.model_json_schema, "event timeline (join, leave, fail, rate) — read by recompose and simulate --events, written by events")


def validator(name: str):
    """A ``jsonschema`` Draft 2020-12 validator of ``name`` that resolves references between the
    toolkit's schemas (a batch record embeds a Solution). Needs the ``jsonschema`` package (test extra)."""
    try:
        import jsonschema
        from referencing import Registry, Resource
    except ImportError as exc:  # pragma: no cover - jsonschema is in the test extra
        raise UsageError("validating against the schemas needs the jsonschema package: pip install 'chaincomp[test]'") from exc
    registry = Registry().with_resources(
        (schema_id(n), Resource.from_contents(get(n))) for n in names())
    return jsonschema.Draft202012Validator(get(name), registry=registry)
