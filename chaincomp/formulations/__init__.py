"""MILP formulations of the paper's problems (built as solver-neutral :class:`~chaincomp.solvers.MilpModel`).

- :mod:`.cache_allocation` — SPEC §2.2, the paper's "Optimal ILP" for fixed chains (an MKP);
- :mod:`.bpca` — SPEC §2.3, the compact exact MILP for BPCA (Eq. 5) with chain slots;
- :mod:`.colgen` — a segment/chain extended formulation solved by column generation (valid LP bound
  at every size), price-and-branch for incumbents, and reduced-cost column enumeration that makes the
  final integer master exact;
- :mod:`.methods` — the registered methods ``milp`` and ``greedy-ilp``.
"""
