"""Canonical JSON and hashing: the one encoding every digest in mlprod is taken over.

Canonical means: keys sorted, no insignificant white space, UTF-8, floats in
their shortest round-tripping form, non-finite floats rejected. The same
value always encodes to the same bytes, so a SHA-256 over them is a stable
identity for manifests, audit records and registry events.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import hashlib
import json
import pathlib
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_json", "sha256_bytes", "sha256_hex", "to_jsonable"]


def to_jsonable(value: Any, *, strict: bool = True) -> Any:
    """Convert ``value`` to plain JSON types (dict, list, str, int, float, bool, None).

    Handles numpy scalars and arrays, pandas timestamps, datetimes (as ISO 8601),
    paths, UUIDs, enums, sets (sorted), dataclasses and objects with
    ``to_dict()``. Mapping keys become strings. Anything else raises
    ``TypeError``, or becomes its ``repr`` with ``strict=False``.

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"a": np.int64(3), "b": (1.5, None)})
    {'a': 3, 'b': [1.5, None]}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, strict=strict) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v, strict=strict) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v, strict=strict) for v in value), key=repr)
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, strict=strict)
    if isinstance(value, pathlib.PurePath | uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    # numpy / pandas without importing them: duck-type on their conversion methods
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_jsonable(to_dict(), strict=strict)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return to_jsonable(tolist(), strict=strict)
    item = getattr(value, "item", None)
    if callable(item):
        return to_jsonable(item(), strict=strict)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return to_jsonable(dataclasses.asdict(value), strict=strict)
    if not strict:
        return repr(value)
    raise TypeError(
        f"cannot encode {type(value).__name__} as JSON: convert it to str, number, "
        "list or dict first"
    )


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


# The C encoder, built once: json.dumps would build it again on every call,
# which costs more than encoding a small audit record. No circular-reference
# markers: canonical values are trees.
_C_ENCODE: Any = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None,
        _refuse,
        json.encoder.c_encode_basestring,  # type: ignore[attr-defined]
        None,
        ":",
        ",",
        True,
        False,
        False,
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def _encode(value: Any) -> str:
    if _C_ENCODE is not None and isinstance(value, dict | list):
        return "".join(_C_ENCODE(value, 0))
    return _ENCODER.encode(value)


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON bytes (sorted keys, compact, UTF-8).

    Raises ``ValueError`` on NaN or infinity: they have no JSON form, and
    silently writing ``NaN`` would break every other JSON reader.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [True, None]})
    b'{"a":[true,null],"b":1}'
    """
    try:
        try:
            return _encode(value).encode("utf-8")
        except TypeError:
            return _encode(to_jsonable(value)).encode("utf-8")
    except ValueError as exc:
        raise ValueError(
            f"{exc}: NaN and infinity have no canonical JSON form; replace them with None"
        ) from None


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_hex(value: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``value``.

    Examples
    --------
    >>> sha256_hex({"a": 1}) == sha256_hex({"a": 1})
    True
    """
    return hashlib.sha256(canonical_json(value)).hexdigest()
