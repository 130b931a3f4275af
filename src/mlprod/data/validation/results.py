"""What validating one chunk yields, and how chunk results merge into one report.

Every run of a :class:`~mlprod.data.validation.plan.Plan` produces a
:class:`ChunkResult`: failure blocks (kept cells already taken out of the
chunk) and, for checks that look across rows, what the chunk contributes to
them. :func:`merge` adds counts, restores schema order, completes uniqueness
and order across chunk boundaries and applies ``max_failures``, so a report
merged from chunks equals the whole-frame report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlprod.data.validation.report import CheckFailures, ValidationReport
from mlprod.errors import ConfigurationError

__all__ = ["Block", "ChunkResult", "Deferred", "Sink", "check_cap", "merge", "take"]


@dataclass(eq=False)
class Block:
    """Failures of one check found in one chunk (kept cells already taken out)."""

    order: tuple[int, int]
    column: str | None
    check: str
    reason: str
    count: int
    chunk: int
    positions: np.ndarray | None  # None: the check failed as a whole
    labels: Any = None
    values: Any = None


@dataclass(eq=False)
class Deferred:
    """What a chunk contributes to a check that needs all chunks (uniqueness, order)."""

    order: tuple[int, int]
    column: str | None
    check: str
    reason: str
    chunk: int
    kind: str  # "unique" or "monotonic"
    hashes: np.ndarray | None = None
    positions: np.ndarray | None = None
    labels: Any = None
    values: Any = None  # one array, or a list of arrays when several columns form the key
    first: Any = None  # monotonic: (position, label, value) of the first non-missing cell
    last: Any = None  # monotonic: the last non-missing value
    rule: Any = None


@dataclass(eq=False)
class ChunkResult:
    """The picklable outcome of validating one chunk, merged by :func:`merge`."""

    rows: int
    blocks: list[Block] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)


def take(values: Any, keep: np.ndarray) -> Any:
    if isinstance(values, np.ndarray):
        return values[keep]
    return values.take(keep)


class Sink:
    """Collects failures of one chunk, keeping at most ``cap`` cells per check."""

    __slots__ = ("cap", "chunk", "index", "result")

    def __init__(self, cap: int | None, chunk: int, index: pd.Index, rows: int) -> None:
        self.cap = cap
        self.chunk = chunk
        self.index = index
        self.result = ChunkResult(rows)

    def cells(
        self,
        order: tuple[int, int],
        column: str | None,
        check: str,
        reason: str,
        bad: np.ndarray,
        values: Any,
    ) -> None:
        positions = np.flatnonzero(bad)
        keep = positions if self.cap is None else positions[: self.cap]
        if isinstance(values, list):  # several columns: one tuple per row
            taken: Any = list(zip(*(take(v, keep) for v in values)))
        else:
            taken = take(values, keep)
        self.result.blocks.append(
            Block(
                order,
                column,
                check,
                reason,
                len(positions),
                self.chunk,
                keep,
                self.index[keep],
                taken,
            )
        )

    def whole(
        self, order: tuple[int, int], column: str | None, check: str, reason: str, value: Any
    ) -> None:
        self.result.blocks.append(
            Block(order, column, check, reason, 1, self.chunk, None, [None], [value])
        )


def check_cap(max_failures: int | None) -> int | None:
    if max_failures is None:
        return None
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0:
        raise ConfigurationError(
            f"max_failures must be a non-negative integer or None, got {max_failures!r}.",
            parameter="max_failures",
            value=repr(max_failures),
        )
    return max_failures


def _resolve_deferred(items: list[Deferred], cap: int | None) -> list[Block]:
    """Finish cross-chunk checks: duplicates anywhere, order across chunk boundaries."""
    blocks: list[Block] = []
    by_check: dict[tuple[int, int], list[Deferred]] = {}
    for item in items:
        by_check.setdefault(item.order, []).append(item)
    for group in by_check.values():
        group.sort(key=lambda d: d.chunk)
        head = group[0]
        if head.kind == "unique":
            hashes = np.concatenate([d.hashes for d in group if d.hashes is not None])
            dup = np.asarray(pd.Series(hashes, copy=False).duplicated(keep=False), dtype=bool)
            start = 0
            for d in group:
                n = len(d.hashes) if d.hashes is not None else 0
                bad = dup[start : start + n]
                start += n
                if not bad.any():
                    continue
                where = np.flatnonzero(bad)
                keep = where if cap is None else where[:cap]
                values = d.values
                if isinstance(values, list):  # several columns: one tuple per kept row
                    taken: Any = list(zip(*(take(v, keep) for v in values)))
                else:
                    taken = take(values, keep)
                blocks.append(
                    Block(
                        d.order,
                        d.column,
                        d.check,
                        d.reason,
                        len(where),
                        d.chunk,
                        np.asarray(d.positions)[keep],
                        d.labels[keep],
                        taken,
                    )
                )
        else:
            previous: Any = None
            for d in group:
                if d.first is not None and previous is not None:
                    pos, label, value = d.first
                    if bool(d.rule.breaks(previous, value)):
                        blocks.append(
                            Block(
                                d.order,
                                d.column,
                                d.check,
                                d.reason,
                                1,
                                d.chunk,
                                np.array([pos]),
                                [label],
                                [value],
                            )
                        )
                if d.last is not None:
                    previous = d.last
    return blocks


def _concat(parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    start = 0
    for p in parts:
        n = len(p)
        if n:
            chunk = np.empty(n, dtype=object)
            chunk[:] = list(p) if isinstance(p, list) else np.asarray(p, dtype=object)
            out[start : start + n] = chunk
        start += n
    return out


def merge(results: Iterable[ChunkResult], *, cap: int | None, name: str | None) -> ValidationReport:
    """Combine chunk results into one report (named ``name``), equal to validating the whole."""
    rows = 0
    blocks: list[Block] = []
    deferred: list[Deferred] = []
    for r in results:
        rows += r.rows
        blocks.extend(r.blocks)
        deferred.extend(r.deferred)
    if deferred:
        blocks.extend(_resolve_deferred(deferred, cap))
    groups: dict[tuple[int, int], list[Block]] = {}
    for b in blocks:
        groups.setdefault(b.order, []).append(b)
    checks: list[CheckFailures] = []
    room = cap
    for order in sorted(groups):
        group = groups[order]
        head = group[0]
        cells = [b for b in group if b.positions is not None]
        wholes = [b for b in group if b.positions is None]
        labels: Any
        values: Any
        if not cells:
            # A check that failed as a whole fails once, however many chunks saw it.
            count, labels, values = 1, [None], [head.values[0]]
        else:
            # A check that failed as a whole in some chunks and cell by cell in others.
            cells += [
                Block(
                    w.order,
                    w.column,
                    w.check,
                    w.reason,
                    1,
                    w.chunk,
                    np.array([-1]),
                    [None],
                    [w.values[0]],
                )
                for w in wholes
            ]
            count = sum(b.count for b in cells)
            if len(cells) == 1:
                labels, values = cells[0].labels, cells[0].values
            else:
                positions = [np.asarray(b.positions) for b in cells]
                key_chunk = np.concatenate(
                    [np.full(len(p), b.chunk) for p, b in zip(positions, cells)]
                )
                sequence = np.lexsort((np.concatenate(positions), key_chunk))
                labels = _concat([list(b.labels) for b in cells])[sequence]
                values = _concat([b.values for b in cells])[sequence]
        if room is not None:
            labels, values = labels[:room], values[:room]
            room = max(room - len(labels), 0)
        checks.append(CheckFailures(head.column, head.check, head.reason, count, labels, values))
    return ValidationReport(rows, tuple(checks), cap, name)
