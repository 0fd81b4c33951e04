"""Block placement (a_j, m_j) and the routing DAG 𝒢_{a,m} it induces (SPEC §1).

Server j hosts the contiguous blocks a_j..e_j with e_j = a_j + m_j − 1 (1-based); m_j = 0 means
unused. Server j may follow server i iff a_j ≤ e_i + 1 ≤ e_j, and then processes
m_ij = e_j − e_i blocks. The dummy source j₀ has e = 0 and the dummy sink has e = L + 1, so
a chain starts at a server with a_j = 1 and ends at a server with e_j = L. Because the end block
strictly increases along every edge, sorting servers by e_j is a topological order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaincomp.problem import Problem


@dataclass(frozen=True)
class Placement:
    """a_j (1-based first block, 0 when unused) and m_j (number of blocks) for every server."""

    first_block: np.ndarray
    num_blocks: np.ndarray

    def __post_init__(self) -> None:
        a = np.asarray(self.first_block, dtype=np.int64).copy()
        m = np.asarray(self.num_blocks, dtype=np.int64).copy()
        a[m == 0] = 0
        a.setflags(write=False)
        m.setflags(write=False)
        object.__setattr__(self, "first_block", a)
        object.__setattr__(self, "num_blocks", m)

    @classmethod
    def from_owned_arrays(cls, first_block: np.ndarray, num_blocks: np.ndarray) -> "Placement":
        """Wrap int64 arrays the caller hands over (no copy; they become read-only). The caller
        guarantees ``first_block`` is 0 wherever ``num_blocks`` is 0 (what ``__post_init__`` enforces)."""
        if first_block.dtype != np.int64 or num_blocks.dtype != np.int64:
            return cls(first_block, num_blocks)
        first_block.setflags(write=False)
        num_blocks.setflags(write=False)
        obj = object.__new__(cls)
        object.__setattr__(obj, "first_block", first_block)
        object.__setattr__(obj, "num_blocks", num_blocks)
        return obj

    @classmethod
    def empty(cls, num_servers: int) -> "Placement":
        return cls(np.zeros(num_servers, dtype=np.int64), np.zeros(num_servers, dtype=np.int64))

    @property
    def last_block(self) -> np.ndarray:
        """e_j = a_j + m_j − 1 (−1 for unused servers)."""
        e = self.first_block + self.num_blocks - 1
        return np.where(self.num_blocks > 0, e, -1)

    @property
    def used(self) -> np.ndarray:
        """Indices of servers that host at least one block."""
        return np.flatnonzero(self.num_blocks > 0)

    def coverage(self, num_blocks: int) -> np.ndarray:
        """How many servers host each block 1..L (array of length L)."""
        cover = np.zeros(num_blocks + 2, dtype=np.int64)
        for j in self.used:
            cover[self.first_block[j]] += 1
            cover[self.first_block[j] + self.num_blocks[j]] -= 1
        return np.cumsum(cover)[1 : num_blocks + 1]

    def can_follow(self, i: int | None, j: int | None, num_blocks: int) -> bool:
        """Chain rule: may server j follow server i? ``None`` stands for the dummy source/sink."""
        e_i = 0 if i is None else int(self.last_block[i])
        if j is None:
            return e_i == num_blocks
        if self.num_blocks[j] == 0 or (i is not None and self.num_blocks[i] == 0):
            return False
        return int(self.first_block[j]) <= e_i + 1 <= int(self.last_block[j])

    def blocks_processed(self, i: int | None, j: int) -> int:
        """m_ij = e_j − e_i: blocks j processes after i (i = None: the dummy source, e = 0)."""
        e_i = 0 if i is None else int(self.last_block[i])
        return int(self.last_block[j]) - e_i

    def to_records(self, problem: Problem) -> list[dict]:
        """JSON records: {server, first_block (1-based or null), num_blocks}."""
        first, count = self.first_block.tolist(), self.num_blocks.tolist()
        return [
            {"server": sid, "first_block": a if m > 0 else None, "num_blocks": m}
            for sid, a, m in zip(problem.server_ids, first, count)
        ]
