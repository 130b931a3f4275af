"""The ordered state of consecutive rows of a table: :class:`BlockRun`.

An ordered fingerprint cuts the table on a fixed grid of :data:`GRID_ROWS`
rows counted from its first row, and hashes each block's canonical bytes
(:mod:`mlprod.data.fingerprint.blocks`). A run of consecutive rows keeps the
digests of its whole blocks and the canonical rows of the incomplete blocks
at its ends (at most ``GRID_ROWS - 1`` rows each), so the runs of any
chunking of a table merge into exactly the digests of the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlprod.data.fingerprint.blocks import (
    BlockEncoder,
    ColumnPiece,
    block_digest,
    block_hasher,
    concat_pieces,
    update_hasher,
)
from mlprod.data.fingerprint.kernels import U64

__all__ = ["GRID_ROWS", "BlockRun", "run_of"]

GRID_ROWS = 1 << 16
_GROUP = 16

Columns = Sequence[BlockEncoder]
Rows = tuple[int, tuple[ColumnPiece, ...]]
_NO_ROWS: Rows = (0, ())


def _layout(phase: int, rows: int) -> tuple[bool, int, int, int]:
    """(closed, head rows, whole blocks, tail rows) of rows starting ``phase`` into a block.

    A run is *closed* when a grid line falls within it, its ends included:
    its rows then split into a head before the first line, whole blocks, and
    a tail after the last line. An open run lies inside one block.
    """
    first = (-phase) % GRID_ROWS
    if first > rows:
        return False, rows, 0, 0
    full = (rows - first) // GRID_ROWS
    return True, first, full, rows - first - full * GRID_ROWS


def _join(a: Rows, b: Rows) -> Rows:
    if not a[0]:
        return b
    if not b[0]:
        return a
    return a[0] + b[0], tuple(concat_pieces([x, y]) for x, y in zip(a[1], b[1]))


@dataclass(frozen=True, eq=False)
class BlockRun:
    """The ordered state of consecutive rows: digests of whole blocks, rows of partial ones.

    ``phase`` is the position of the first row within its block (its table
    position modulo :data:`GRID_ROWS`); ``head`` and ``tail`` hold the
    canonical rows before the first and after the last grid line (for an
    open run, all rows are in ``head``).
    """

    phase: int
    rows: int
    closed: bool
    head: Rows
    blocks: bytes
    tail: Rows
    whole: bool = False

    def merge(self, other: BlockRun) -> BlockRun:
        """The run of this run's rows followed by ``other``'s.

        Raises ``ValueError`` when ``other`` was laid out from another phase
        and has whole blocks, which cannot move.
        """
        if self.whole or other.whole:
            raise ValueError("a whole table's run merges with nothing")
        expected = (self.phase + self.rows) % GRID_ROWS
        if other.phase != expected:
            other = other.rephase(expected)
        rows = self.rows + other.rows
        if not self.closed:
            head = _join(self.head, other.head)
            return BlockRun(self.phase, rows, other.closed, head, other.blocks, other.tail)
        if not other.closed:
            tail = _join(self.tail, other.head)
            return BlockRun(self.phase, rows, True, self.head, self.blocks, tail)
        # the rows between two consecutive grid lines: one whole block, or none
        middle = _join(self.tail, other.head)
        digest = block_digest(middle[0], middle[1]) if middle[0] else b""
        blocks = self.blocks + digest + other.blocks
        return BlockRun(self.phase, rows, True, self.head, blocks, other.tail)

    def rephase(self, phase: int) -> BlockRun:
        """The same rows laid out from ``phase``; only for runs without whole blocks."""
        if self.blocks:
            raise ValueError(phase)
        count, pieces = _join(self.head, self.tail) if self.closed else self.head
        return run_of([_piece_encoder(p) for p in pieces], count, phase, None)

    def content(self) -> bytes:
        """The digests of all blocks of a run that starts a table, its last block included."""
        run = self if self.phase == 0 else self.rephase(0)
        if run.tail[0]:
            return run.blocks + block_digest(run.tail[0], run.tail[1])
        return run.blocks

    def to_dict(self) -> dict[str, Any]:
        """Plain data for sending a run between processes."""
        return {
            "phase": self.phase,
            "rows": self.rows,
            "closed": self.closed,
            "head": [self.head[0], [p.to_dict() for p in self.head[1]]],
            "blocks": self.blocks,
            "tail": [self.tail[0], [p.to_dict() for p in self.tail[1]]],
            "whole": self.whole,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlockRun:
        """Rebuild a run from :meth:`to_dict` output."""

        def rows(r: list[Any]) -> Rows:
            return r[0], tuple(ColumnPiece.from_dict(p) for p in r[1])

        return cls(
            d["phase"],
            d["rows"],
            d["closed"],
            rows(d["head"]),
            d["blocks"],
            rows(d["tail"]),
            d.get("whole", False),
        )


def _piece_encoder(piece: ColumnPiece) -> BlockEncoder:
    def encode(s: int, e: int, scratch: U64) -> ColumnPiece:
        return piece.slice(s, e)

    return encode


def run_of(
    columns: Columns, rows: int, phase: int, scratch: U64 | None, *, whole: bool = False
) -> BlockRun:
    """The run of ``rows`` rows starting ``phase`` into a block, read through ``columns``.

    ``whole=True`` says the rows are a whole table: the last block is hashed
    in place rather than copied into the run, which then merges with nothing.
    """
    closed, head_rows, full, tail_rows = _layout(phase, rows)
    if whole and phase:
        raise ValueError(phase)
    buf = scratch if scratch is not None else np.empty(min(rows, GRID_ROWS), dtype=np.uint64)

    def pieces(s: int, e: int) -> Rows:
        if s == e:
            return _NO_ROWS
        return e - s, tuple(enc(s, e, buf).copy() for enc in columns)

    digests: list[bytes] = []
    with np.errstate(invalid="ignore"):  # signalling NaNs met by the float checks
        for first in range(0, full, _GROUP):
            # column by column over a group of blocks: each column streams
            # through memory once, where block by block all columns would
            # compete for cache
            starts = [head_rows + k * GRID_ROWS for k in range(first, min(full, first + _GROUP))]
            hashers = [block_hasher(GRID_ROWS) for _ in starts]
            for enc in columns:
                for h, s in zip(hashers, starts):
                    update_hasher(h, enc(s, s + GRID_ROWS, buf))
            digests.extend(bytes(h.digest()) for h in hashers)
        head = pieces(0, head_rows)
        if whole and tail_rows:
            h = block_hasher(tail_rows)
            for enc in columns:
                update_hasher(h, enc(rows - tail_rows, rows, buf))
            digests.append(bytes(h.digest()))
            tail_rows = 0
        tail = pieces(rows - tail_rows, rows)
    return BlockRun(phase, rows, closed, head, b"".join(digests), tail, whole)
