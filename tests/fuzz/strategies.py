"""Hypothesis strategies over every input kind the CLI reads (docs/reliability.md, "Fuzzing").

Instances (the embedded examples, whole or split into cluster / model / workload files), Hugging
Face config.json, Solution JSON, Azure-format trace CSV, batch manifests (JSON and TOML) and results
JSONL — each both generated from scratch and as mutations of a valid document: one to three leaves
replaced by hostile values (wrong types, 0, negatives, 1e308, 10³⁰, huge strings, markup, control
characters), keys deleted or added, subtrees wrapped or nested deeply; plus raw-byte damage
(truncation, non-UTF-8 bytes, UTF-16).
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources

from hypothesis import strategies as st

HOSTILE_SCALARS = [
    0, -1, 1, 2, 3, 0.0, -0.0, 1e-300, 1e-12, 2.5, 1e6, 1e300, 1e308, 10**30, -(10**30), 2**63, 2**64,
    True, False, None, "", "1", "0.5", "nan", "Infinity", "[/]", "[bold]x", "a\nb", "\x1b[31mred", "‮rtl",
    "x" * 300, "../../etc/passwd", "/etc/passwd", "example:nope", "set:nope", "-", "A100", "fp16",
]

scalars = st.one_of(
    st.sampled_from(HOSTILE_SCALARS),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)

json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


@lru_cache(maxsize=None)
def example(name: str) -> dict:
    text = resources.files("chaincomp.instances").joinpath("examples", f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


EXAMPLES = ("worked-example", "bloom-j20", "mig-testbed")


def _paths(obj, path=()):
    yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, path + (i,))


def _get(obj, path):
    for k in path:
        obj = obj[k]
    return obj


def _set(obj, path, value):
    if not path:
        return value
    parent = _get(obj, path[:-1])
    parent[path[-1]] = value
    return obj


@st.composite
def mutated(draw, base: dict, max_edits: int = 3):
    """``base`` with 1..max_edits hostile edits (replace, delete, add, wrap, nest deeply)."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_edits))):
        paths = list(_paths(doc))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "wrap", "deep", "duplicate"]))
        target = _get(doc, path) if path else doc
        if op == "replace":
            doc = _set(doc, path, draw(json_values))
        elif op == "delete" and path:
            parent = _get(doc, path[:-1])
            if isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, list) and parent:
                parent.pop(path[-1])
        elif op == "add" and isinstance(target, dict):
            target[draw(st.sampled_from(["memroy_gb", "extra", "id", "count", "num_gpus", "hf_config", "card", "servers"]))] = draw(json_values)
        elif op == "add" and isinstance(target, list):
            target.append(draw(json_values) if not target else copy.deepcopy(target[0]))
        elif op == "wrap":
            doc = _set(doc, path, [copy.deepcopy(target)])
        elif op == "deep":
            depth = draw(st.sampled_from([40, 70, 200, 3000]))
            doc = _set(doc, path, json.loads("[" * depth + "1" + "]" * depth) if depth < 900 else {"deep": True})
            if depth >= 900:  # beyond the C parser's recursion limit: written as raw text by raw_json
                doc = _set(doc, path, "__DEEP__")
        elif op == "duplicate" and isinstance(target, list) and target:
            target.extend(copy.deepcopy(target[:1]) * draw(st.sampled_from([1, 2, 6000])))
    return doc


def dump(doc) -> str:
    """JSON text; the ``"__DEEP__"`` marker becomes 3000 nested lists (deeper than the JSON parser's limit)."""
    text = json.dumps(doc)
    return text.replace('"__DEEP__"', "[" * 3000 + "]" * 3000)


@st.composite
def byte_damage(draw, text: str) -> bytes:
    """Valid text damaged at the byte level: truncated, a bad byte, UTF-16, NUL, empty, BOM."""
    raw = text.encode("utf-8")
    kind = draw(st.sampled_from(["truncate", "badbyte", "utf16", "utf16-nobom", "nul", "empty", "bom", "latin1"]))
    if kind == "truncate":
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    if kind == "badbyte":
        i = draw(st.integers(0, max(0, len(raw) - 1)))
        return raw[:i] + bytes([draw(st.sampled_from([0x80, 0xC3, 0xFF, 0xFE]))]) + raw[i:]
    if kind == "utf16":
        return text.encode("utf-16")
    if kind == "utf16-nobom":
        return text.encode("utf-16-le")
    if kind == "nul":
        return raw + b"\x00"
    if kind == "empty":
        return b""
    if kind == "bom":
        return b"\xef\xbb\xbf" + raw
    return text.replace("e", "é").encode("latin-1", errors="replace")


# --- instance files ------------------------------------------------------------------------------

instances = st.sampled_from(EXAMPLES).flatmap(lambda name: mutated(example(name)))


@st.composite
def split_files(draw):
    """(cluster, model, workload) dicts from an example, one of them mutated."""
    base = example(draw(st.sampled_from(EXAMPLES)))
    parts = {k: copy.deepcopy(base[k]) for k in ("cluster", "model", "workload")}
    which = draw(st.sampled_from(["cluster", "model", "workload"]))
    parts[which] = draw(mutated(parts[which]))
    return parts


HF_BASE = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "max_position_embeddings": 4096,
    "vocab_size": 32000, "torch_dtype": "float16", "hidden_act": "silu",
}

hf_configs = st.one_of(mutated(HF_BASE), st.dictionaries(st.sampled_from(sorted(HF_BASE) + ["n_layer", "n_head", "n_embed", "d_model"]), scalars, max_size=8))

# --- Solution JSON ---------------------------------------------------------------------------


@lru_cache(maxsize=None)
def solution(name: str = "worked-example") -> dict:
    from chaincomp import methods
    from chaincomp.instances.examples import load_example

    return json.loads(methods.run("greedy", load_example(name), seed=0).to_json())


solutions = st.sampled_from(["worked-example", "mig-testbed"]).flatmap(lambda n: mutated(solution(n)))

# --- traces ----------------------------------------------------------------------------------

timestamps = st.one_of(
    st.sampled_from(["2023-11-16 18:17:03.9799600", "2023-11-16 18:17:04", "1700000000", "1700000000.5", "2263-01-01 00:00:00",
                     "1600-01-01 00:00:00", "2023-13-45 99:99:99", "2023-11-16T18:17:03Z", "", "yesterday", "2023-11-16 18:17:03.1234567890"]),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")),
)
tokens = st.one_of(st.integers(0, 10**4), st.sampled_from(["-1", "1e30", "nan", "inf", "2.5", "", "x", str(10**40)]))


@st.composite
def traces(draw) -> str:
    header = draw(st.sampled_from(["TIMESTAMP,ContextTokens,GeneratedTokens", "TIMESTAMP,ContextTokens", "timestamp,a,b", "", "TIMESTAMP,ContextTokens,GeneratedTokens,Extra"]))
    rows = draw(st.lists(st.tuples(timestamps, tokens, tokens), min_size=0, max_size=30))
    sort = draw(st.booleans())
    if sort:
        rows = sorted(rows, key=lambda r: r[0])
    lines = [header] + [f"{a},{b},{c}" for a, b, c in rows]
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["\"unterminated", "a,b", ",,,,", "2023-11-16 18:17:05,1"])))
    return "\n".join(lines) + "\n"

# --- manifests -------------------------------------------------------------------------------

MANIFEST_BASE = {"instances": ["example:worked-example"], "seeds": "0-1", "runs": [{"methods": ["greedy"], "params": {"c": ["auto", 1]}}]}
manifest_keys = st.sampled_from(["instances", "seeds", "task_timeout_s", "providers", "out", "runs", "methods", "params", "name", "bogus"])
manifests = st.one_of(mutated(MANIFEST_BASE), st.dictionaries(manifest_keys, json_values, max_size=5))


def toml_text(doc) -> str | None:
    """A TOML rendering of a manifest-like dict (None when it has no TOML form)."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
                return None
            return repr(v) if isinstance(v, float) else str(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            parts = [val(x) for x in v]
            return None if any(p is None for p in parts) else "[" + ", ".join(parts) + "]"
        if isinstance(v, dict):
            parts = [f"{json.dumps(str(k))} = {val(x)}" for k, x in v.items()]
            return None if any(p.endswith("= None") for p in parts) else "{ " + ", ".join(parts) + " }"
        return None
    if not isinstance(doc, dict):
        return None
    lines = []
    for k, v in doc.items():
        t = val(v)
        if t is None:
            return None
        lines.append(f"{json.dumps(str(k))} = {t}")
    return "\n".join(lines) + "\n"

# --- results JSONL ---------------------------------------------------------------------------

GOOD_RECORD = {"chaincomp_results": 1, "task_id": "abc123", "instance": "example:worked-example", "method": "greedy", "config": "greedy",
               "seed": 0, "params": {}, "status": "ok", "error": None, "wall_time_s": 0.01,
               "solution": {"metrics": {"job_servers": 2, "total_capacity": 3, "response_time_lower_s": 3.0}, "solver": None}}

jsonl_lines = st.one_of(
    st.just(json.dumps(GOOD_RECORD)),
    mutated(GOOD_RECORD).map(json.dumps),
    json_values.map(json.dumps),
    st.sampled_from(["", "{", "[[[[[[", "null", "\"x\"", "[" * 5000, "{\"task_id\": \"a\", \"status\": NaN}"]),
)


@st.composite
def jsonl_files(draw) -> bytes:
    lines = draw(st.lists(jsonl_lines, min_size=0, max_size=12))
    raw = "\n".join(lines).encode("utf-8")
    if draw(st.booleans()):
        raw += draw(st.sampled_from([b"\n\xff\xfe\xfa garbage", b"\n\x00\x00", b"\n{\"task_id\": \"cut", b""]))
    return raw
