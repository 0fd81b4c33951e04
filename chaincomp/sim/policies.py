"""Dispatch policies over a fixed set of chains (SPEC §3.3, §4.4), for the general engine.

Chains are those of an :class:`~chaincomp.core.allocation.Allocation`, fastest first (index 0 is the
fastest; equal-μ chains keep the Allocation's stable order). Chain k has c_k job servers; Z_k is the
number of its jobs in service, Q_k the length of its local queue (JSQ and SED only). A job started
on chain k holds m_ij slots on every server of k (the engine checks memory). "Lowest index" below
therefore means "fastest".

============  ==============================================================================  =============
policy        on arrival                                                                       on completion at chain k
============  ==============================================================================  =============
``jffc``      fastest chain with Z_k < c_k (lowest index); none free → central FIFO queue      start the central queue's head on k
``jffc-migrate``  as ``jffc``                                                                  head of the central queue on k; if the queue is empty and some slower chain
                                                                                                l > k is busy, move one job from the slowest busy chain l to k (the job
                                                                                                that started on l most recently; ties: larger job index). Work is conserved
                                                                                                (remaining fraction × new service time). Jobs then always occupy the
                                                                                                fastest job servers: the ν̄_n process of Theorem 4's lower bound.
``jsq``       argmin_k (Z_k + Q_k), ties → lowest index; start if Z_k < c_k else join local     start the head of k's local queue
              queue k (no central queue, no jockeying)
``jiq``       a uniformly random idle chain (Z_k = 0); else a uniformly random non-full chain   start the central queue's head on k
              (Z_k < c_k); else the central FIFO queue
``sed``       argmin_k 1/μ_k + max(0, N_k − c_k + 1)/(μ_k c_k) with N_k = Z_k + Q_k, ties →     start the head of k's local queue
              lowest index; start if Z_k < c_k else join local queue k
``sa-jsq``    among non-full chains (Z_k < c_k) the one with fewest Z_k, ties → lowest index     start the central queue's head on k
              (faster); all full → central FIFO queue
============  ==============================================================================  =============

Random choices (JIQ) use one uniform number u per job (drawn with the arrival stream): among the
eligible chains listed by index, the ⌊u·count⌋-th is taken, so the numba kernel and this engine
make the same choice on the same streams.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.errors import UsageError
from chaincomp.sim.engine import Job, Simulator

#: policy name → numeric code used by the numba kernel
POLICY_CODES = {"jffc": 0, "jsq": 1, "jiq": 2, "sed": 3, "sa-jsq": 4, "jffc-migrate": 5}
POLICIES = tuple(POLICY_CODES)
#: which policies keep per-chain local queues (the others use one central FIFO queue)
LOCAL_QUEUES = {"jsq", "sed"}


def check_policy(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    aliases = {"sajsq": "sa-jsq", "jffc-migration": "jffc-migrate", "jffcm": "jffc-migrate"}
    key = aliases.get(key, key)
    if key not in POLICY_CODES:
        raise UsageError(f"unknown dispatch policy {name!r}; choose from {', '.join(POLICIES)}")
    return key


class ChainDispatchPolicy:
    """Hook-level implementation of the table above for :class:`~chaincomp.sim.engine.Simulator`.

    ``uniforms[i]`` is job i's uniform number for random choices (JIQ).
    """

    def __init__(self, name: str, allocation: Allocation, uniforms: np.ndarray | None = None):
        self.name = check_policy(name)
        self.allocation = allocation
        self.chains = allocation.chains
        self.cap = np.array(allocation.capacities, dtype=np.int64)
        self.mu = allocation.rates
        self.uniforms = uniforms

    def reset(self, sim: Simulator) -> None:
        K = len(self.chains)
        self.Z = np.zeros(K, dtype=np.int64)
        self.local = [deque() for _ in range(K)]
        self.central: deque[Job] = deque()
        self.on_chain: list[dict[int, Job]] = [dict() for _ in range(K)]

    # -- helpers --------------------------------------------------------------------------------
    def _start(self, job: Job, k: int, sim: Simulator) -> None:
        self.Z[k] += 1
        self.on_chain[k][job.index] = job
        sim.start(job, self.chains[k], k)

    def _choose(self, job: Job) -> tuple[int, bool]:
        """(chain, start_now); chain −1 means the central queue."""
        Z, cap, K = self.Z, self.cap, len(self.chains)
        p = self.name
        if p in ("jffc", "jffc-migrate"):
            for k in range(K):
                if Z[k] < cap[k]:
                    return k, True
            return -1, False
        if p == "jsq":
            n = Z + np.array([len(q) for q in self.local])
            k = int(np.argmin(n))  # first minimum = lowest index
            return k, bool(Z[k] < cap[k])
        if p == "sed":
            n = Z + np.array([len(q) for q in self.local])
            best, bk = np.inf, -1
            for k in range(K):
                score = 1.0 / self.mu[k] + max(0, n[k] - cap[k] + 1) / (self.mu[k] * cap[k])
                if score < best:
                    best, bk = score, k
            return bk, bool(Z[bk] < cap[bk])
        if p == "sa-jsq":
            best, bk = None, -1
            for k in range(K):
                if Z[k] < cap[k] and (best is None or Z[k] < best):
                    best, bk = Z[k], k
            return bk, bk >= 0
        if p == "jiq":
            u = 0.0 if self.uniforms is None else float(self.uniforms[job.index])
            idle = [k for k in range(K) if Z[k] == 0 and cap[k] > 0]
            pool = idle or [k for k in range(K) if Z[k] < cap[k]]
            if not pool:
                return -1, False
            return pool[min(int(u * len(pool)), len(pool) - 1)], True
        raise AssertionError(p)

    # -- hooks ----------------------------------------------------------------------------------
    def on_arrival(self, job: Job, sim: Simulator) -> None:
        k, now = self._choose(job)
        if now:
            self._start(job, k, sim)
        elif k >= 0:
            self.local[k].append(job)
        else:
            self.central.append(job)

    def on_completion(self, job: Job, sim: Simulator) -> None:
        k = job.tag
        self.Z[k] -= 1
        del self.on_chain[k][job.index]
        if self.name in LOCAL_QUEUES:
            if self.local[k]:
                self._start(self.local[k].popleft(), k, sim)
            return
        if self.central:
            self._start(self.central.popleft(), k, sim)
            return
        if self.name == "jffc-migrate":
            busy = np.flatnonzero(self.Z[k + 1 :] > 0)
            if busy.size:
                l = k + 1 + int(busy[-1])
                mover = max(self.on_chain[l].values(), key=lambda jb: (jb.segment_start_s, jb.index))
                del self.on_chain[l][mover.index]
                self.Z[l] -= 1
                self.Z[k] += 1
                self.on_chain[k][mover.index] = mover
                sim.migrate(mover, self.chains[k], k)

    def pending(self) -> int:
        return len(self.central) + sum(len(q) for q in self.local)


# ----------------------------------------------------------------------------------------------
# Registry of per-request routing policies usable by name from `chaincomp simulate --policy`
# ----------------------------------------------------------------------------------------------
#: modules whose import registers routing policies (lazy, like chaincomp.methods)
ROUTING_PROVIDERS = ("chaincomp.sim.routing_petals", "chaincomp.sim.routing_bprr")
_ROUTING: dict[str, tuple] = {}


def register_routing(name: str, summary: str):
    """Decorator: make ``factory(solution) -> RoutingPolicy`` available as ``--policy name``.

    Without it, a :class:`~chaincomp.sim.engine.RoutingPolicy` subclass defined in a provider module
    with a ``from_solution(solution)`` classmethod is available under its ``name`` attribute.
    """

    def deco(factory):
        _ROUTING[name] = (factory, summary)
        return factory

    return deco


def routing_policies() -> dict[str, tuple]:
    """Registered routing policies: name → (factory(solution), summary)."""
    import importlib

    from chaincomp.sim.engine import RoutingPolicy

    for mod in ROUTING_PROVIDERS:
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        # also pick up RoutingPolicy subclasses with a ``from_solution`` classmethod, by their ``name``
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, RoutingPolicy) and obj is not RoutingPolicy
                    and callable(getattr(obj, "from_solution", None)) and obj.__module__ == module.__name__):
                doc = (obj.__doc__ or obj.__name__).strip().splitlines()[0]
                _ROUTING.setdefault(str(obj.name).lower(), (obj.from_solution, doc))
    return dict(sorted(_ROUTING.items()))


#: the online dispatch each baseline method was designed with (SPEC §4); every other method → JFFC
NATIVE_POLICY = {"petals": "petals", "bprr": "bprr-wsrr"}


def native_policy(solution) -> str:
    """The policy a design is simulated with when none is named: its method's own (PETALS routing for
    ``petals``, WS-RR for ``bprr``), else JFFC (Alg. 3) over the design's chains."""
    return NATIVE_POLICY.get(getattr(solution, "method", None), "jffc")


#: routing policies that only run on their own method's design (they read its ``extra`` data)
NEEDS_OWN_DESIGN = {"petals": "petals"}


def implied_method(policy_names) -> str | None:
    """The method to solve with when none is named: ``petals`` if every policy is PETALS routing, else None."""
    keys = {n.strip().lower() for n in policy_names}
    methods = {NEEDS_OWN_DESIGN.get(k) for k in keys}
    return methods.pop() if len(methods) == 1 and None not in methods else None


def resolve_policy(name: str, solution=None):
    """A chain-policy name (returned normalized) or a routing policy object built from ``solution``."""
    key = name.strip().lower().replace("_", "-")
    try:
        return check_policy(key)
    except UsageError:
        pass
    routing = routing_policies()
    if key in routing:
        if solution is None:
            raise UsageError(f"routing policy {name!r} needs a solution (its placement)")
        return routing[key][0](solution)
    raise UsageError(f"unknown policy {name!r}; chain policies: {', '.join(POLICIES)}"
                     + (f"; routing policies: {', '.join(routing)}" if routing else ""))
