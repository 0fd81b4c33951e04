"""Shared vocabulary: placements, chains, allocations, solutions and the verifier."""

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement

__all__ = ["Allocation", "Chain", "Placement"]
