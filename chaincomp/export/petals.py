"""PETALS server commands for a design (``chaincomp solve --export petals``).

One ``python -m petals.cli.run_server`` command per server that the design's cache allocation uses,
with flags checked against PETALS' ``src/petals/cli/run_server.py`` (petals 2.x):

``MODEL`` (positional)
    the Hugging Face Hub repo id: ``model_name`` if given, else the imported config's
    ``_name_or_path``, else the catalog card's repo (BLOOM-176B → ``bigscience/bloom``). When none is
    known the export is refused (never a ``MODEL_NAME`` placeholder).
``--block_indices a:b``
    0-based, half-open: server hosting blocks a_j..a_j+m_j−1 (1-based, SPEC §1) gets
    ``a_j−1 : a_j−1+m_j``.
``--attn_cache_tokens N``
    PETALS sizes its KV-cache pool as ``N × num_blocks`` token-blocks (each token-block =
    2 · hidden / kv_groups values of ``--torch_dtype``), shared by all sessions on the server. The
    design reserves, on server j, U_j = Σ_{chains k ∋ j} c_k · m_ij job-block slots (Eq. 3), each
    slot holding one job's keys and values of one block for ``max_seq_len`` tokens (s_c). So
    N = ⌈U_j · T / m_j⌉ with T = ``max_seq_len`` (or, when the model gives none,
    T = s_c / (2 · kv_width · kv_bytes), kv_width = kv_heads · head_dim = hidden / kv_groups).
    PETALS' byte size for that pool is reported next to the design's U_j · s_c; a difference
    (e.g. an explicit s_c that is not the architecture's) is listed in ``notes``.
``--inference_max_length T``
    so that a session of the design's full length is accepted (PETALS' default is 2048, or 8192
    for GQA/MQA models).
``--torch_dtype`` / ``--quant_type``
    from the design's weight dtype (s_m): fp16 → ``float16`` + ``none``, bf16 → ``bfloat16`` +
    ``none``, fp32 → ``float32`` + ``none``, int8 → ``int8``, nf4 → ``nf4`` (the paper's BLOOM-176B);
    quantized weights compute and cache in the KV-cache dtype (fp16 → ``float16`` …). The quant
    type is always given because PETALS' default quantizes on GPUs.
``--new_swarm`` / ``--initial_peers``
    the first server starts a private swarm (``--new_swarm --port 31337``); the others join it with
    ``--initial_peers MULTIADDR`` — the multiaddr the first server prints at start-up
    (``/ip4/IP/tcp/31337/p2p/PEER_ID``). Without ``initial_peers`` the placeholder
    ``/ip4/FIRST_SERVER_IP/tcp/31337/p2p/FIRST_SERVER_PEER_ID`` is written and a note says so.
``--throughput X``
    the server's tokens/s as PETALS defines it (its per-block forward rate divided by the mean
    number of blocks a request uses, (m_j + 1)/2), taken from the design's timing model:
    per-block rate = (l̄_in + l̄_out) / τ^p_j. Giving it skips PETALS' start-up benchmark; it only
    informs PETALS' own client routing (the design's orchestrator routes jobs itself). Servers are
    pinned by ``--block_indices``, so PETALS never rebalances them.
``--tensor_parallel_devices cuda:0 …``
    for multi-GPU nodes (``num_gpus`` > 1, one server in the model, SPEC §6.3).

Every value is quoted with :func:`shlex.quote`; ids or names containing control characters are
refused (they could break the command or a comment line).
"""

from __future__ import annotations

import math
import shlex
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from chaincomp.errors import UsageError

#: model families PETALS serves (src/petals/models/)
PETALS_FAMILIES = ("bloom", "llama", "falcon", "mixtral")
#: catalog card → (Hub repo id, family)
CARD_REPOS = {
    "BLOOM-176B": ("bigscience/bloom", "bloom"),
    "LLaMA-2-7B": ("meta-llama/Llama-2-7b-hf", "llama"),
    "LLaMA-2-13B": ("meta-llama/Llama-2-13b-hf", "llama"),
    "LLaMA-2-70B": ("meta-llama/Llama-2-70b-hf", "llama"),
    "Llama-3-8B": ("meta-llama/Meta-Llama-3-8B", "llama"),
    "Llama-3-70B": ("meta-llama/Meta-Llama-3-70B", "llama"),
    "LLaMA-30B": ("huggyllama/llama-30b", "llama"),
}
TORCH_DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}
QUANT = {"fp16": "none", "bf16": "none", "fp32": "none", "int8": "int8", "nf4": "nf4"}
TORCH_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4}
SWARM_PORT = 31337
PEERS_PLACEHOLDER = f"/ip4/FIRST_SERVER_IP/tcp/{SWARM_PORT}/p2p/FIRST_SERVER_PEER_ID"


@dataclass(frozen=True)
class PetalsServer:
    """One server's command and the numbers behind it."""

    server: str
    argv: list[str]
    first_block_0: int
    end_block_0: int
    cache_slots: int
    attn_cache_tokens: int
    petals_cache_gb: float
    design_cache_gb: float
    throughput_tokens_s: float
    role: str  # "bootstrap" (--new_swarm) or "join" (--initial_peers)

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class PetalsExport:
    model: str
    torch_dtype: str
    quant_type: str
    tokens_per_slot: int
    servers: list[PetalsServer]
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Shell text: notes and one comment + command per server."""
        out = [f"# note: {n}" for n in self.notes]
        for s in self.servers:
            out.append(f"# server {s.server}: blocks {s.first_block_0}:{s.end_block_0} (0-based, half-open), "
                       f"{s.cache_slots} cache slots = {s.attn_cache_tokens} tokens per block, {s.role}")
            out.append(s.command)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for rec, s in zip(d["servers"], self.servers):
            rec["command"] = s.command
        return d


def _check_text(what: str, value: str) -> str:
    if not value or any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise UsageError(f"PETALS export: {what} {value!r} is empty or contains control characters; refusing to write it into a shell command")
    return value


def _model_info(meta: dict[str, Any], model_name: str | None) -> tuple[str, str | None]:
    m = meta.get("model") or {}
    if model_name is not None and (not model_name.strip() or model_name != model_name.strip()):
        raise UsageError(f"PETALS export: --model-name: expected a Hugging Face repo id such as bigscience/bloom "
                         f"(no blanks around it), got {model_name!r}")
    card = m.get("card")
    family = m.get("architecture") or (CARD_REPOS[card][1] if card in CARD_REPOS else None)
    name = model_name or m.get("hf_name") or (CARD_REPOS[card][0] if card in CARD_REPOS else None) \
        or meta.get("hf_repo")
    if not name:
        raise UsageError(
            f"PETALS export: the model {m.get('name') or 'of this instance'!r} has no Hugging Face repo id "
            "(no _name_or_path in its config.json and no known model card); pass --model-name REPO "
            "(e.g. --model-name bigscience/bloom)")
    return _check_text("model name", name), family


def _tokens_per_slot(problem, m: dict[str, Any]) -> int:
    if m.get("max_seq_len"):
        return int(m["max_seq_len"])
    kv_bytes = m.get("kv_bytes_per_value") or 2.0
    width = None
    if m.get("head_dim") and m.get("num_key_value_heads"):
        width = m["head_dim"] * m["num_key_value_heads"]
    elif m.get("hidden_size"):
        width = m["hidden_size"] / (m.get("kv_groups") or 1.0)
    if not width:
        raise UsageError("PETALS export: cannot derive --attn_cache_tokens: the model gives neither max_seq_len nor "
                         "hidden_size (the tokens one cache slot s_c holds); use a model file with them")
    return max(1, int(round(problem.cache_size_gb * 1e9 / (2.0 * width * kv_bytes))))


def slots_per_server(solution) -> list[int]:
    """U_j = Σ_{k ∋ j} c_k · m_ij, the job-block cache slots the allocation uses on each server (Eq. 3)."""
    used = [0] * solution.problem.num_servers
    for chain, cap in zip(solution.allocation.chains, solution.allocation.capacities):
        for j, b in zip(chain.servers, chain.blocks):
            used[j] += int(b) * int(cap)
    return used


def petals_export(solution, model_name: str | None = None, initial_peers: str | None = None) -> PetalsExport:
    """PETALS server commands for ``solution`` (flags and their derivation: module docstring).

    Raises :class:`UsageError` when the model's repo id, the slot length, a PETALS-compatible
    dtype or architecture is missing, or an id contains control characters.
    """
    p = solution.problem
    meta = p.meta or {}
    m = meta.get("model") or {}
    name, family = _model_info(meta, model_name)
    notes: list[str] = []
    if family is not None and family not in PETALS_FAMILIES:
        raise UsageError(f"PETALS export: PETALS serves {', '.join(PETALS_FAMILIES)} models; this model's type is {family!r}")
    if family is None:
        notes.append(f"the model's architecture is unknown to chaincomp; PETALS serves {', '.join(PETALS_FAMILIES)} models only")
    dtype = m.get("dtype") or "fp16"
    kv_dtype = m.get("kv_cache_dtype") or "fp16"
    if dtype not in QUANT:
        raise UsageError(f"PETALS export: weight dtype {dtype!r} has no PETALS equivalent")
    quant = QUANT[dtype]
    torch_dtype = TORCH_DTYPES.get(dtype) if quant == "none" else TORCH_DTYPES.get(kv_dtype)
    if torch_dtype is None:
        raise UsageError(f"PETALS export: PETALS keeps the KV cache in --torch_dtype; kv_cache_dtype {kv_dtype!r} is not one of fp16, bf16, fp32")
    if quant == "none" and TORCH_BYTES[torch_dtype] != {"fp16": 2, "bf16": 2, "fp32": 4}.get(kv_dtype):
        notes.append(f"PETALS caches keys/values in {torch_dtype}, the design sized s_c for {kv_dtype}")
    T = _tokens_per_slot(p, m)
    petals_token_bytes = None
    if m.get("hidden_size"):
        petals_token_bytes = 2.0 * m["hidden_size"] / (m.get("kv_groups") or 1.0) * TORCH_BYTES[torch_dtype]
    if initial_peers is None:
        peers = PEERS_PLACEHOLDER
    else:
        peers = _check_text("--initial-peers", initial_peers)
    servers_meta = meta.get("servers") or []
    used = slots_per_server(solution)
    a, mm = solution.placement.first_block, solution.placement.num_blocks
    out: list[PetalsServer] = []
    idle = []
    for j, sid in enumerate(p.server_ids):
        if mm[j] <= 0:
            continue
        _check_text("server id", sid)
        if used[j] == 0:
            idle.append(sid)
            continue
        start, end = int(a[j]) - 1, int(a[j]) - 1 + int(mm[j])
        tokens = math.ceil(used[j] * T / int(mm[j]))
        per_block_rate = (p.mean_input_tokens + p.mean_output_tokens) / float(p.tau_comp_s[j])
        throughput = per_block_rate / ((int(mm[j]) + 1) / 2.0)
        design_gb = used[j] * p.cache_size_gb
        petals_gb = tokens * int(mm[j]) * petals_token_bytes / 1e9 if petals_token_bytes else float("nan")
        role = "bootstrap" if not out else "join"
        argv = ["python", "-m", "petals.cli.run_server", name,
                "--block_indices", f"{start}:{end}",
                "--attn_cache_tokens", str(tokens),
                "--inference_max_length", str(T),
                "--torch_dtype", torch_dtype,
                "--quant_type", quant,
                "--throughput", f"{throughput:.6g}"]
        num_gpus = int((servers_meta[j] if j < len(servers_meta) else {}).get("num_gpus") or 1)
        if num_gpus > 1:
            argv += ["--tensor_parallel_devices", *[f"cuda:{g}" for g in range(num_gpus)]]
        argv += ["--new_swarm", "--port", str(SWARM_PORT)] if role == "bootstrap" else ["--initial_peers", peers]
        out.append(PetalsServer(sid, argv, start, end, used[j], tokens, petals_gb, design_gb, throughput, role))
    if not out:
        raise UsageError("PETALS export: the design's allocation uses no server")
    if initial_peers is None and len(out) > 1:
        notes.append(f"start server {out[0].server} first; replace {PEERS_PLACEHOLDER} in the other commands with the "
                     "multiaddr it prints (or pass --initial-peers)")
    if idle:
        notes.append(f"servers {', '.join(idle)} host blocks but no chain of the allocation uses them; not exported")
    if petals_token_bytes:
        worst = max(out, key=lambda s: s.petals_cache_gb - s.design_cache_gb)
        if worst.petals_cache_gb > worst.design_cache_gb * 1.005:
            notes.append(f"PETALS' KV cache (2·hidden/kv_groups·{TORCH_BYTES[torch_dtype]} B per token and block) for {T}-token "
                         f"slots is larger than the design's s_c = {p.cache_size_gb:.4g} GB: e.g. server {worst.server} "
                         f"{worst.petals_cache_gb:.3f} GB vs {worst.design_cache_gb:.3f} GB")
        over = [s for j, s in ((p.server_ids.index(s.server), s) for s in out)
                if s.petals_cache_gb + p.block_size_gb * (s.end_block_0 - s.first_block_0) > float(p.memory_gb[j]) + 1e-9]
        if over:
            notes.append("with PETALS' cache size these servers exceed their memory: " + ", ".join(
                f"{s.server} ({s.petals_cache_gb + p.block_size_gb * (s.end_block_0 - s.first_block_0):.2f} GB > "
                f"{float(p.memory_gb[p.server_ids.index(s.server)]):.2f} GB)" for s in over)
                + "; re-solve with the architecture's s_c (a model file without an explicit cache_size_gb)")
    else:
        notes.append("hidden_size unknown: PETALS' cache size in bytes could not be checked against the design")
    return PetalsExport(name, torch_dtype, quant, T, out, notes)
