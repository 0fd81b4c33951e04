"""Event timelines (SPEC §9): servers join, leave (announced) or fail (unannounced); λ changes.

File format (``chaincomp schema events`` prints the JSON Schema)::

    {"horizon_s": 86400,                      # optional: end of the timeline (default: see below)
     "events": [
       {"time_s": 600,  "kind": "fail",  "server": "s16"},
       {"time_s": 900,  "kind": "leave", "server": "s03"},
       {"time_s": 1200, "kind": "join",  "server": {"id": "n1", "memory_gb": 40, "tau_comm_s": 0.7,
                                                    "tau_comp_s": 0.109, "region": "eu-west",
                                                    "load_bandwidth_gb_s": 2.0}},
       {"time_s": 3600, "kind": "rate",  "arrival_rate": 1.2}]}

A bare list of events is accepted too. Rules checked on load (each error names the file, the JSON
path and what was expected; exit code 2 in the CLI):

- ``time_s`` ≥ 0 and non-decreasing through the list;
- ``join`` carries a full server record (``memory_gb``, ``tau_comm_s``, ``tau_comp_s``; optional
  ``region`` and ``load_bandwidth_gb_s``) whose id is not in the cluster at that moment;
- ``leave`` / ``fail`` name a server (its id) that is in the cluster at that moment;
- ``rate`` carries ``arrival_rate`` > 0 and no server.

``leave`` is announced: jobs in service there finish, then the server goes. ``fail`` is not: jobs in
service on it are lost (or retried, a simulator option). A *window* is the time between two events.
Default horizon: the last event's time plus the mean gap between events (one hour if there is a
single event at time 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from chaincomp.errors import InvalidInstance
from chaincomp.io import limits as _lim
from chaincomp.io.text import check_identifier
from chaincomp.problem import Problem

if TYPE_CHECKING:  # pragma: no cover
    from chaincomp.core.solution import Solution

EVENT_KINDS = ("join", "leave", "fail", "rate")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)  # "40" or true is not a number


class JoinServer(_Strict):
    """Full record of a joining server (the Solution JSON's server fields plus two optional ones)."""

    id: str = Field(min_length=1, max_length=_lim.MAX_ID_LENGTH, description="New server id (not in the cluster when it joins; no control characters).")
    memory_gb: float = Field(gt=0, le=_lim.MAX_MEMORY_GB, description="GPU memory M_j (GB).")
    tau_comm_s: float = Field(ge=0, le=_lim.MAX_TIME_S, description="τ^c_j, mean per-job communication time (s).")
    tau_comp_s: float = Field(gt=0, le=_lim.MAX_TIME_S, description="τ^p_j, mean per-job computation time per block (s).")
    region: Optional[str] = Field(None, min_length=1, max_length=_lim.MAX_ID_LENGTH, description="Region label (for correlated-failure what-ifs).")
    load_bandwidth_gb_s: Optional[float] = Field(None, ge=_lim.MIN_LOAD_BANDWIDTH_GB_S, le=_lim.MAX_LOAD_BANDWIDTH_GB_S, description="Block load bandwidth (GB/s); default: the instance's or 1 GB/s.")

    _id_ok = field_validator("id")(check_identifier)


#: a server id, or (a JSON object) a join record — chosen by the JSON type, so an error names only
#: the branch that applies (``events[3].server.memory_gb``); tags ``union:…`` are dropped from messages
ServerRef = Annotated[Union[Annotated[str, Tag("union:id")], Annotated[JoinServer, Tag("union:record")]],
                      Discriminator(lambda v: "union:record" if isinstance(v, (dict, JoinServer)) else "union:id")]


class EventSpec(_Strict):
    """One event of the timeline."""

    time_s: float = Field(ge=0, le=_lim.MAX_HORIZON_S, description="When the event happens (s from the timeline start).")
    kind: Literal["join", "leave", "fail", "rate"] = Field(description="join | leave (announced) | fail (unannounced) | rate (λ changes).")
    server: Optional[ServerRef] = Field(None, description="Server id (leave, fail) or a full server record (join).")
    arrival_rate: Optional[float] = Field(None, ge=_lim.MIN_ARRIVAL_RATE, le=_lim.MAX_ARRIVAL_RATE, description="New λ in requests/s (rate events only).")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> "EventSpec":
        if self.kind == "join" and not isinstance(self.server, JoinServer):
            raise ValueError("a join event needs 'server': a full server record {id, memory_gb, tau_comm_s, tau_comp_s}")
        if self.kind in ("leave", "fail") and not isinstance(self.server, str):
            raise ValueError(f"a {self.kind} event needs 'server': the id (a string) of a server in the cluster")
        if self.kind == "rate":
            if self.arrival_rate is None:
                raise ValueError("a rate event needs 'arrival_rate' (requests/s, > 0)")
            if self.server is not None:
                raise ValueError("a rate event takes no 'server'")
        elif self.arrival_rate is not None:
            raise ValueError(f"'arrival_rate' belongs to rate events only, not to a {self.kind} event")
        return self


class EventsFile(_Strict):
    """An event timeline for ``chaincomp recompose`` and ``chaincomp simulate --events``."""

    events: list[EventSpec] = Field(max_length=_lim.MAX_EVENTS, description="Events in non-decreasing time order.")
    horizon_s: Optional[float] = Field(None, gt=0, le=_lim.MAX_HORIZON_S, description="End of the timeline (s); default: last event + mean gap.")
    description: Optional[str] = None


@dataclass(frozen=True)
class Event:
    """One validated event; ``server`` is an id, ``record`` the joining server's fields."""

    time_s: float
    kind: str
    server: str | None = None
    record: dict[str, Any] | None = None
    arrival_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time_s": self.time_s, "kind": self.kind}
        if self.kind == "join":
            out["server"] = {k: v for k, v in (self.record or {}).items() if v is not None}
        elif self.server is not None:
            out["server"] = self.server
        if self.arrival_rate is not None:
            out["arrival_rate"] = self.arrival_rate
        return out

    def describe(self) -> str:
        if self.kind == "rate":
            return f"t={self.time_s:g}s rate λ={self.arrival_rate:g}"
        return f"t={self.time_s:g}s {self.kind} {self.server}"


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]
    horizon_s: float
    source: str = "<events>"
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"horizon_s": self.horizon_s, "events": [e.to_dict() for e in self.events]}
        if self.description:
            out["description"] = self.description
        return out


def _default_horizon(times: list[float]) -> float:
    if not times:
        return 3600.0
    if len(times) == 1:
        return times[0] + 3600.0
    gap = (times[-1] - times[0]) / (len(times) - 1)
    return times[-1] + (gap if gap > 0 else 3600.0)


def parse_events(data: Any, source: str = "<events>", problem: Problem | None = None) -> Timeline:
    """Validate an events document; with ``problem`` also check the server ids against the cluster.

    Raises :class:`InvalidInstance` naming ``source``, the JSON path and what was expected.
    """
    from chaincomp.instances.load import _validate

    if isinstance(data, list):
        data = {"events": data}
    spec = _validate(EventsFile, data, source)
    events = []
    prev = 0.0
    present = set(problem.server_ids) if problem is not None else None
    for i, ev in enumerate(spec.events):
        where = f"{source}: events[{i}]"
        if ev.time_s < prev:
            raise InvalidInstance(f"{where}.time_s: expected a time ≥ the previous event's {prev:g} s (events in time order), got {ev.time_s:g}")
        prev = ev.time_s
        if ev.kind == "join":
            rec = ev.server.model_dump()
            if present is not None:
                if rec["id"] in present:
                    raise InvalidInstance(f"{where}.server.id: expected a new server id, but {rec['id']!r} is already in the cluster at t={ev.time_s:g} s")
                present.add(rec["id"])
            events.append(Event(ev.time_s, "join", rec["id"], rec))
        elif ev.kind in ("leave", "fail"):
            if present is not None:
                if ev.server not in present:
                    raise InvalidInstance(
                        f"{where}.server: expected the id of a server in the cluster at t={ev.time_s:g} s, got {ev.server!r}"
                    )
                present.discard(ev.server)
            events.append(Event(ev.time_s, ev.kind, ev.server))
        else:
            events.append(Event(ev.time_s, "rate", arrival_rate=float(ev.arrival_rate)))
    times = [e.time_s for e in events]
    horizon = spec.horizon_s if spec.horizon_s is not None else _default_horizon(times)
    if times and horizon < times[-1]:
        raise InvalidInstance(f"{source}: horizon_s: expected ≥ the last event's time {times[-1]:g} s, got {horizon:g}")
    return Timeline(tuple(events), float(horizon), source, spec.description)


def load_events(path: str | Path, problem: Problem | None = None) -> Timeline:
    """Read and validate an events file (see the module docstring)."""
    from chaincomp.instances.load import read_json

    return parse_events(read_json(path), str(path), problem)


# --- applying events to a cluster ------------------------------------------------------------

def server_meta(problem: Problem, server_id: str) -> dict[str, Any]:
    """The instance's metadata record of a server (``meta.servers``), or {}."""
    for rec in (problem.meta or {}).get("servers") or []:
        if isinstance(rec, dict) and rec.get("id") == server_id:
            return rec
    return {}


def check_elastic_meta(problem: Problem, label: str) -> Problem:
    """The design's elastic metadata, checked before use: ``meta.servers[].region`` a non-empty string,
    ``meta.servers[].load_bandwidth_gb_s`` and ``meta.elastic.load_bandwidth_gb_s`` numbers (GB/s)
    in the documented range (``label``: the file, for the message). Anything else is :class:`InvalidInstance`, exit 2."""
    from chaincomp.errors import UsageError

    meta = problem.meta or {}

    def bandwidth(value, field: str) -> None:
        if value is None:
            return
        where = f"{label}: instance.meta.{field}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInstance(f"{where}: expected a block load bandwidth in GB/s (a number), got {value!r}")
        try:
            _lim.check_load_bandwidth(value, where)
        except UsageError as exc:  # a field of a file, not an option: exit 2 all the same, as bad input
            raise InvalidInstance(str(exc)) from None

    elastic = meta.get("elastic")
    if elastic is not None and not isinstance(elastic, dict):
        raise InvalidInstance(f"{label}: instance.meta.elastic: expected an object, got {type(elastic).__name__}")
    bandwidth((elastic or {}).get("load_bandwidth_gb_s"), "elastic.load_bandwidth_gb_s")
    records = meta.get("servers")
    if records is not None and not isinstance(records, list):
        raise InvalidInstance(f"{label}: instance.meta.servers: expected a list of server records, got {type(records).__name__}")
    for i, rec in enumerate(records or []):
        if not isinstance(rec, dict):
            continue  # not a server record (ignored by every lookup)
        region = rec.get("region")
        if region is not None and not (isinstance(region, str) and region):
            raise InvalidInstance(f"{label}: instance.meta.servers[{i}].region: expected a region label (a non-empty string), got {region!r}")
        bandwidth(rec.get("load_bandwidth_gb_s"), f"servers[{i}].load_bandwidth_gb_s")
    return problem


def load_elastic_design(path: str | Path) -> "Solution":
    """The design a SPEC §9 verb starts from: verified (:func:`chaincomp.core.verify.load_design`;
    ν < λ/ρ̄ allowed) and its elastic metadata checked (:func:`check_elastic_meta`)."""
    from chaincomp.core.verify import load_design

    solution = load_design(path)
    check_elastic_meta(solution.problem, str(path))
    return solution


def server_regions(problem: Problem) -> dict[str, str | None]:
    """Region label per server id (from ``meta.servers[].region``; None when absent)."""
    return {sid: server_meta(problem, sid).get("region") for sid in problem.server_ids}


def remove_servers(problem: Problem, ids) -> Problem:
    """The cluster without the given server ids (metadata records are kept for lookups)."""
    drop = set(ids)
    keep = [j for j, sid in enumerate(problem.server_ids) if sid not in drop]
    return problem.subset(keep)


def add_server(problem: Problem, record: dict[str, Any]) -> Problem:
    """The cluster plus one server (appended last). Its timing-model entries are NaN (τ given)."""
    timing = problem.timing
    if timing is not None:
        timing = replace(
            timing,
            rtt_s=np.append(timing.rtt_s, np.nan),
            prefill_s_per_token=np.append(timing.prefill_s_per_token, np.nan),
            decode_s_per_token=np.append(timing.decode_s_per_token, np.nan),
        )
    meta = dict(problem.meta or {})
    servers_meta = [r for r in (meta.get("servers") or []) if isinstance(r, dict) and r.get("id") != record["id"]]
    servers_meta.append({k: v for k, v in record.items() if k in ("id", "region", "load_bandwidth_gb_s") and v is not None})
    meta["servers"] = servers_meta
    return replace(
        problem,
        server_ids=problem.server_ids + (str(record["id"]),),
        memory_gb=np.append(problem.memory_gb, float(record["memory_gb"])),
        tau_comm_s=np.append(problem.tau_comm_s, float(record["tau_comm_s"])),
        tau_comp_s=np.append(problem.tau_comp_s, float(record["tau_comp_s"])),
        timing=timing,
        meta=meta,
    )


def apply_event(problem: Problem, event: Event) -> Problem:
    """The cluster/workload after one event (structure only; the design is handled by recompose)."""
    if event.kind == "join":
        return add_server(problem, event.record or {})
    if event.kind in ("leave", "fail"):
        if event.server not in problem.server_ids:
            raise InvalidInstance(f"event {event.describe()}: server {event.server!r} is not in the cluster")
        return remove_servers(problem, [event.server])
    return problem.with_workload(arrival_rate=event.arrival_rate)


def server_record(problem: Problem, j: int) -> dict[str, Any]:
    """A join-event record that re-creates server j (used by the churn generator)."""
    meta = server_meta(problem, problem.server_ids[j])
    rec = {
        "id": problem.server_ids[j],
        "memory_gb": float(problem.memory_gb[j]),
        "tau_comm_s": float(problem.tau_comm_s[j]),
        "tau_comp_s": float(problem.tau_comp_s[j]),
    }
    for key in ("region", "load_bandwidth_gb_s"):
        if meta.get(key) is not None:
            rec[key] = meta[key]
    return rec

