"""chaincomp — block placement, cache allocation and dispatch for pipeline-parallel model serving.

Implements the algorithms of Sun, He, Hou, *Serving Chain-structured Jobs with Large Memory
Footprints with Application to Large Foundation Model Serving* (MobiHoc 2026): GBP-CR (Alg. 1),
GCA (Alg. 2), JFFC (Alg. 3), the Theorem-4 response-time bounds and the tuning of the cache
reservation c — plus an exact MILP, a simulator, baselines and batch runs.
"""

__version__ = "0.1.0"
