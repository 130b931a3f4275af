"""Immutable all the way down: read-only mappings and tuples for what results expose.

:func:`freeze` wraps a mapping in a read-only view that freezes each value as it
is read, so building a result costs O(1) however deep its data (search builds
thousands of versions and reads a few fields of each), yet nothing reachable
from it can be changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["FrozenMapping", "freeze", "thaw"]


class FrozenMapping(Mapping[str, Any]):
    """A read-only view of a mapping whose values are frozen as they are read."""

    __slots__ = ("_data",)
    _data: Mapping[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getitem__(self, key: str) -> Any:
        return freeze(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return bool(thaw(self) == thaw(other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(thaw(self))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (freeze, (thaw(self),))


def freeze(value: Any) -> Any:
    """``value`` read-only at every depth: mappings as :class:`FrozenMapping`, lists as tuples."""
    if isinstance(value, FrozenMapping):
        return value
    if isinstance(value, Mapping):
        return FrozenMapping(value)
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain dicts and lists again (for JSON, pickles and copies)."""
    if isinstance(value, FrozenMapping):
        value = value._data
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value
