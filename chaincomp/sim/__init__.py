"""Discrete-event simulation of a central orchestrator serving jobs on server chains (SPEC §5).

Two engines, one model
----------------------
- :class:`chaincomp.sim.engine.Simulator` — the general engine (plain Python, ``heapq``). It tracks
  free cache slots per server; a job started on a path holds ``blocks`` slots on every server of
  the path for its whole service and frees them at completion. Every policy runs here.
- :mod:`chaincomp.sim.kernel` — a numba-compiled kernel for the chain-dispatch policies over a
  fixed :class:`~chaincomp.core.allocation.Allocation` (JFFC, JFFC with migration, JSQ, JIQ, SED,
  SA-JSQ). It is cross-checked against the general engine on the same random streams
  (tests/sim/test_kernel_vs_engine.py).

High-level entry points: :func:`chaincomp.sim.runner.simulate` (policies × replications → a
JSON-ready report) and :func:`chaincomp.sim.tuning.simulated_mean_response_time`.

Writing a routing policy (per-request routing: PETALS, BPRR WS-RR, …)
---------------------------------------------------------------------
Subclass :class:`chaincomp.sim.engine.RoutingPolicy` and implement ``route(job, sim)``::

    from chaincomp.core.allocation import Chain
    from chaincomp.sim.engine import RoutingPolicy, Start, Wait, Hold, Retry

    class MyPolicy(RoutingPolicy):
        name = "mine"
        fifo_blocking = False          # re-offer every waiting job after each completion

        def reset(self, sim):
            super().reset(sim)         # REQUIRED: sets up the waiting/held lists
            ...                        # build your routing graph from sim.placement / sim.problem

        def route(self, job, sim):
            path = self.best_path(job, sim.free_slots)      # your routing
            if sim.fits(path):
                return Start(path)                           # reserve now, serve now
            return Retry(sim.now + 2.0 ** min(job.attempts - 1, 6))   # come back later

``route`` is called at the job's arrival and at every retry (``job.attempts`` counts the offers:
1 on the first). What it may read at dispatch time:

- ``sim.now`` (s); ``sim.free_slots[j]`` free cache slots (job-block units) on server j;
  ``sim.jobs_in_service[j]`` jobs holding slots on server j; ``sim.fits(chain)``;
- ``sim.running()`` — jobs in service with ``dispatch_s``, ``chain`` and
  ``expected_completion_s`` (dispatch + the path's mean service time for that job: what an
  orchestrator can estimate; the true completion is hidden);
- ``sim.mean_service_time(job, chain)``; ``sim.problem`` (τ^c, τ^p, memory …);
  ``sim.placement`` (a_j, m_j); the job's ``input_tokens`` / ``output_tokens`` / ``arrival_s``.

What it returns (``chaincomp.sim.engine``):

- ``Start(chain, tag=-1)`` — start now on ``chain`` (a :class:`~chaincomp.core.allocation.Chain`:
  ``servers`` and ``blocks`` per hop; build one with ``Chain.build(problem, servers, blocks)``).
  The engine reserves ``blocks[h]`` slots on ``servers[h]`` for every hop and raises
  :class:`~chaincomp.sim.engine.SimulationError` if any server lacks them. ``tag`` ≥ 0 labels the
  path in the results (per-tag utilization); −1 means untagged.
- ``Wait()`` — park the job in the policy's FIFO waiting list; after every completion the waiting
  jobs are offered to ``route`` again in FIFO order (stopping at the first that waits again when
  ``fifo_blocking`` is True, the default).
- ``Hold(chain, tag=-1)`` — commit to ``chain`` (e.g. WS-RR: wait for the max over the path); the
  engine starts the job at the first completion after which the whole path fits, without asking
  ``route`` again. Held jobs are checked in commit order.
- ``Retry(at_s)`` — leave and come back at absolute time ``at_s`` ≥ now (e.g. PETALS' exponential
  backoff: 1 s doubling, capped at 60 s); ``route`` is called again then.

Optional: ``observe_completion(job, sim)`` for bookkeeping after a job freed its slots;
``initial_free_slots`` (array, or callable ``(problem, placement) -> array``) when the system's
cache budget differs from M̃_j (e.g. PETALS' fixed 4096-token budget); ``num_tags`` (and
``tag_capacities``) for per-tag utilization. Register a factory ``(solution) -> policy`` with
``@chaincomp.sim.policies.register_routing("name", "summary")`` in a module listed in
``ROUTING_PROVIDERS`` to make it available as ``chaincomp simulate --policy name``. For full
control implement the hook-level :class:`~chaincomp.sim.engine.Policy` protocol instead
(``reset``, ``on_arrival``, ``on_completion``; start jobs with ``sim.start`` / ``sim.retry`` /
``sim.migrate``). A job that can never start (no event pending while the policy holds it) makes the
engine raise ``SimulationError`` instead of hanging or dropping it.

Running it: ``chaincomp.sim.runner.simulate(solution, policies=[MyPolicy()], ...)`` accepts policy
objects next to chain-policy names, or :func:`chaincomp.sim.runner.run_policy` for one run. Waiting
time = dispatch − original arrival (so retries count as waiting), service = completion − dispatch.

Chain-dispatch policies
-----------------------
Names ``jffc``, ``jffc-migrate``, ``jsq``, ``jiq``, ``sed``, ``sa-jsq`` — exact rules and
tie-breaking in :mod:`chaincomp.sim.policies`.
"""

from chaincomp.sim.engine import (  # noqa: F401
    Hold,
    Job,
    Policy,
    Retry,
    RoutingPolicy,
    SimulationError,
    Simulator,
    Start,
    Wait,
)
from chaincomp.sim.policies import POLICIES, ChainDispatchPolicy  # noqa: F401
