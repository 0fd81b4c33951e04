"""Hand-written JSON Schemas of the files chaincomp writes beyond the Solution (and of the batch
manifest it reads). Objects list their required keys and the types of known ones; extra keys are
allowed (so a new field is not a breaking change), except in the manifest, whose loader rejects
unknown keys too.
"""

from __future__ import annotations

from typing import Any

NUM = {"type": "number"}
NUM_OR_NULL = {"type": ["number", "null"]}
INT = {"type": "integer"}
INT_OR_NULL = {"type": ["integer", "null"]}
STR = {"type": "string"}
STR_OR_NULL = {"type": ["string", "null"]}
BOOL = {"type": "boolean"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None, closed: bool = False) -> dict[str, Any]:
    props = {**required, **(optional or {})}
    out: dict[str, Any] = {"type": "object", "required": list(required), "properties": props}
    if closed:
        out["additionalProperties"] = False
    return out


def arr(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


#: per-run statistics of a time (seconds): mean/median/P95/P99/max and the 95 % CI half-width
STATS = obj({k: NUM_OR_NULL for k in ("mean", "median", "p95", "p99", "max")}, {"mean_ci95": NUM_OR_NULL})

POLICY_RESULT = obj(
    {"policy": STR, "replications": INT, "measured_jobs": INT,
     "response_time_s": STATS, "waiting_time_s": STATS, "service_time_s": STATS,
     "throughput_per_s": NUM_OR_NULL, "service_share": NUM_OR_NULL},
    {"engine": STR, "retries": INT,
     "chains": arr(obj({"chain": INT}, {"occupancy": NUM_OR_NULL, "utilization": NUM_OR_NULL, "job_share": NUM_OR_NULL,
                                        "capacity": INT, "service_time_s": NUM, "servers": arr(STR)}))},
)


def simulate() -> dict[str, Any]:
    return obj(
        {"simulation": obj({"arrivals": {"enum": ["poisson", "trace"]}, "service": STR, "num_jobs": INT_OR_NULL,
                            "replications": INT, "seed": INT, "warmup_jobs": INT}, {"engine": STR}),
         "workload": obj({"kind": {"enum": ["poisson", "trace"]}}),
         "policies": {**arr(POLICY_RESULT), "minItems": 1},
         "design": obj({"source": STR, "method": STR, "instance": STR})},
        {"allocation": obj({"num_chains": INT, "total_capacity": INT, "service_rate": NUM}),
         "theorem4": {"type": ["object", "null"], "properties": {
             "arrival_rate": NUM, "load": NUM_OR_NULL, "response_time_lower_s": NUM_OR_NULL,
             "response_time_upper_s": NUM_OR_NULL, "applies": BOOL, "note": STR}}},
    ) | {"title": "chaincomp simulate --json / --out"}


ERROR = {"type": ["object", "null"], "properties": {"type": STR, "message": STR}}


def batch_record() -> dict[str, Any]:
    return obj(
        {"task_id": {"type": "string", "pattern": "^[0-9a-f]{20}$"}, "instance": STR, "method": STR,
         "params": {"type": "object"}, "seed": INT, "config": STR,
         "status": {"enum": ["ok", "failed", "invalid"]}, "error": ERROR,
         "solution": {"oneOf": [{"$ref": "urn:chaincomp:schema:solution:v1"}, {"type": "null"}]}},
        {"instance_sha256": STR_OR_NULL, "instance_name": STR_OR_NULL, "violations": arr(STR),
         "wall_time_s": NUM_OR_NULL, "method_time_s": NUM_OR_NULL, "method_cpu_time_s": NUM_OR_NULL,
         "worker": STR_OR_NULL, "finished_at": STR_OR_NULL,
         "simulation": {"type": ["object", "null"], "properties": {
             "policy": STR, "num_jobs": INT, "mean_response_time_s": NUM_OR_NULL,
             "response_time_s": STATS, "waiting_time_s": STATS, "service_time_s": STATS}}},
    ) | {"title": "one line of a chaincomp batch results file (JSONL)"}


def batch_summary() -> dict[str, Any]:
    return obj(
        {"out": STR, "executor": STR, "tasks": INT, "skipped": INT, "ran": INT, "ok": INT, "failed": INT,
         "invalid": INT, "wall_time_s": NUM, "failures": arr(obj({"task_id": STR, "status": STR}, {"error": ERROR}))},
        {"dropped_partial_line": BOOL, "csv": STR},
    ) | {"title": "chaincomp batch --json"}


def batch_tasks() -> dict[str, Any]:
    return obj({"tasks": arr(obj({"task_id": STR, "instance": STR, "config": STR, "seed": INT},
                                 {"timeout_s": NUM_OR_NULL}))}) | {"title": "chaincomp batch --dry-run --json"}


GROUP = obj(
    {"group": STR, "method": STR, "tasks": INT, "ok": INT, "failed": INT, "invalid": INT},
    {k: NUM_OR_NULL for k in ("job_servers_mean", "job_servers_median", "ratio_to_best", "gap_mean",
                              "response_time_lower_s", "response_time_upper_s", "simulated_response_time_s",
                              "wall_time_mean_s", "wall_time_median_s", "wall_time_total_s", "method_time_total_s")}
    | {"best_count": INT},
)


def report() -> dict[str, Any]:
    return obj(
        {"records": INT, "by": {"enum": ["config", "method"]}, "cases": INT, "groups": arr(GROUP),
         "failures": arr(obj({"task_id": STR, "status": STR},
                             {"instance": STR, "config": STR, "seed": INT_OR_NULL,
                              "error_type": STR_OR_NULL, "error_message": STR_OR_NULL}))},
        {"file": STR, "csv": STR, "plots": arr(STR)},
    ) | {"title": "chaincomp report --json / --out"}


SCALAR = {"type": ["number", "string", "boolean", "null"]}


def experiment() -> dict[str, Any]:
    row = {"type": "object", "additionalProperties": {"anyOf": [SCALAR, arr(SCALAR)]}}
    return obj(
        {"experiment": {"enum": ["placement", "allocation", "dispatch", "tuning", "overall", "testbed"]},
         "title": STR, "meta": {"type": "object"}, "rows": arr(row)},
        {"tables": {"type": "object", "additionalProperties": arr(row)}},
    ) | {"title": "chaincomp experiment NAME --json, and NAME.json in --out"}


def verify() -> dict[str, Any]:
    return obj({"file": STR, "valid": BOOL, "violations": arr(STR)}, closed=True) | {"title": "chaincomp verify --json / --out"}


def examples() -> dict[str, Any]:
    return arr(obj({"name": STR, "description": STR, "servers": INT, "blocks": INT,
                    "arrival_rate": NUM, "target_load": NUM})) | {"title": "chaincomp examples --json / --out"}


def generate() -> dict[str, Any]:
    return obj({"family": STR, "seed": INT, "count": INT,
                "files": arr(obj({"file": STR, "servers": INT, "blocks": INT, "memory_gb": NUM,
                                  "arrival_rate": NUM, "hostable": BOOL}))}) | {"title": "chaincomp generate --json"}


SOURCES = {"oneOf": [STR, arr(STR)]}
SEEDS = {"oneOf": [{"type": "string", "pattern": r"^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$"},
                   INT, arr(INT)]}
PARAMS = {"type": "object", "additionalProperties": {"anyOf": [SCALAR, arr(SCALAR)]}}


def manifest() -> dict[str, Any]:
    run = obj({}, {"methods": SOURCES, "method": SOURCES, "params": PARAMS, "instances": SOURCES, "seeds": SEEDS,
                   "task_timeout_s": NUM}, closed=True)
    return obj({}, {"instances": SOURCES, "seeds": SEEDS, "task_timeout_s": NUM, "providers": arr(STR), "out": STR,
                    "runs": {**arr(run), "minItems": 1}, "methods": SOURCES, "params": PARAMS,
                    "description": STR, "name": STR}, closed=True) | {
        "title": "chaincomp batch --manifest FILE (JSON, or TOML with the same structure)"}


SCHEMAS = {
    "simulate": (simulate, "simulation report — simulate --json / --out"),
    "batch-record": (batch_record, "one line of a batch results file (JSONL) — batch --out, read by report"),
    "batch-summary": (batch_summary, "batch run summary — batch --json"),
    "batch-tasks": (batch_tasks, "task list — batch --dry-run --json"),
    "report": (report, "batch summary — report --json / --out"),
    "experiment": (experiment, "experiment result — experiment NAME --json, NAME.json in --out"),
    "manifest": (manifest, "batch manifest (JSON or TOML) — read by batch --manifest"),
    "verify": (verify, "verification report — verify --json / --out"),
    "examples": (examples, "embedded example list — examples --json / --out"),
    "generate": (generate, "generated instance list — generate --json"),
}
