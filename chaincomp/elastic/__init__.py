"""Elastic serving (SPEC §3.6, §9; issue 11): event timelines, switching cost, re-composition of a
design after servers join, leave or fail and λ drifts, N−1 what-if analysis, failure-robust designs,
timeline generators and timeline simulation.

Modules: :mod:`~chaincomp.elastic.events` (file format, schema, applying events),
:mod:`~chaincomp.elastic.switching` (ω), :mod:`~chaincomp.elastic.matching` (Kuhn–Munkres),
:mod:`~chaincomp.elastic.design` (carry-over, Ω), :mod:`~chaincomp.elastic.repair` (local repair),
:mod:`~chaincomp.elastic.recompose` (the next design), :mod:`~chaincomp.elastic.whatif` (N−1),
:mod:`~chaincomp.elastic.robust` (``solve --robust 1``), :mod:`~chaincomp.elastic.generators`
(churn, region failure, diurnal λ), :mod:`~chaincomp.elastic.timeline_sim` (policies over a timeline).
"""
