"""Canonical JSON and hashing: the one encoding every digest in mlprod is taken over.

Canonical means: keys sorted, no insignificant white space, UTF-8, floats in
their shortest round-tripping form, non-finite floats rejected. The same
value always encodes to the same bytes, so a SHA-256 over them is a stable
identity for manifests, audit records and registry events.

Two values that would encode alike are refused rather than confused: a
mapping whose keys collide once made strings (``{1: "a", "1": "b"}``)
raises :class:`~mlprod.errors.EncodingError`.

Non-finite floats have no JSON form. Where they must be kept (an audit
record of inputs with a missing value), ``canonical_json(value,
allow_nonfinite=True)`` writes each as a one-key object tagged with the
reserved key ``"$mlprod.float"``::

    nan -> {"$mlprod.float":"NaN"}   inf -> {"$mlprod.float":"Infinity"}
    -inf -> {"$mlprod.float":"-Infinity"}

Any JSON reader can parse that, and :func:`loads_canonical` turns the tags
back into floats. In that mode a mapping of the caller's that uses the key
``"$mlprod.float"`` itself is refused, so a tag is never the caller's data.
Finite values encode byte for byte as in the strict mode.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import hashlib
import json
import math
import pathlib
import uuid
from collections.abc import Mapping
from typing import Any

from mlprod.errors import EncodingError

__all__ = [
    "NONFINITE_TAG",
    "canonical_json",
    "loads_canonical",
    "sha256_bytes",
    "sha256_hex",
    "to_jsonable",
]

NONFINITE_TAG = "$mlprod.float"
"""The reserved key of the one-key object that stands for NaN or an infinity."""

_TAG_BYTES = b'"$mlprod.float"'
_TAGS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def to_jsonable(value: Any, *, strict: bool = True) -> Any:
    """Convert ``value`` to plain JSON types (dict, list, str, int, float, bool, None).

    Handles numpy scalars and arrays, pandas timestamps, datetimes (as ISO 8601),
    paths, UUIDs, enums, sets (sorted), dataclasses and objects with
    ``to_dict()``. Mapping keys become strings; keys that collide as strings
    (``1`` and ``"1"``) raise :class:`~mlprod.errors.EncodingError` (a
    ``TypeError``), or are kept apart by their ``repr`` with ``strict=False``.
    Anything else raises ``TypeError``, or becomes its ``repr`` with
    ``strict=False``.

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
        try:
            out = {str(k): to_jsonable(v, strict=strict) for k, v in value.items()}
        except EncodingError as exc:
            raise _located(exc, value.items()) from None
        if len(out) != len(value):
            return _colliding(value, strict=strict)
        return out
    if isinstance(value, list | tuple):
        try:
            return [to_jsonable(v, strict=strict) for v in value]
        except EncodingError as exc:
            raise _located(exc, enumerate(value)) from None
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
    raise _unencodable(type(value).__name__, ())


def _unencodable(type_name: str, path: tuple[Any, ...]) -> EncodingError:
    where = "".join(f"[{k!r}]" for k in path)
    at = f" at {where}" if where else ""
    hint = (
        "complex numbers have no JSON form: store the real and imaginary parts as two numbers"
        if type_name.startswith("complex")
        else "convert it to str, number, list or dict first"
    )
    return EncodingError(
        f"cannot encode {type_name}{at} as JSON: {hint}", obj_type=type_name, path=path
    )


def _located(exc: EncodingError, items: Any) -> EncodingError:
    """``exc`` raised one level down, with the key or index of the entry that raised it.

    Runs only on the error path: finds the entry again rather than tracking
    keys while encoding, which keeps the common case as fast as before.
    """
    if exc.keys or exc.obj_type is None:  # a key collision, not an unencodable leaf
        return exc
    for key, item in items:
        try:
            to_jsonable(item)
        except EncodingError as inner:
            if inner.keys:
                return inner
            return _unencodable(inner.obj_type or "value", (key, *inner.path))
    return exc


def _colliding(value: Mapping[Any, Any], *, strict: bool) -> dict[str, Any]:
    by_text: dict[str, list[Any]] = {}
    for key in value:
        by_text.setdefault(str(key), []).append(key)
    clashes = [keys for keys in by_text.values() if len(keys) > 1]
    if strict:
        shown = ", ".join(repr(k) for k in clashes[0])
        raise EncodingError(
            f"the mapping has keys {shown} that are all written as the JSON key "
            f"{str(clashes[0][0])!r}, so one would silently replace the other; "
            "give each entry a distinct string key",
            keys=[repr(k) for keys in clashes for k in keys],
            obj_type=type(value).__name__,
        )
    # Lenient callers (error reports) keep every entry: colliding keys by their repr.
    clashing = {k for keys in clashes for k in keys}
    return {
        (repr(k) if k in clashing else str(k)): to_jsonable(v, strict=False)
        for k, v in value.items()
    }


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


def canonical_json(value: Any, *, allow_nonfinite: bool = False) -> bytes:
    """Encode ``value`` as canonical JSON bytes (sorted keys, compact, UTF-8).

    Raises ``ValueError`` on NaN or infinity: they have no JSON form, and
    silently writing ``NaN`` would break every other JSON reader. With
    ``allow_nonfinite=True`` they are written as tagged objects instead
    (``{"$mlprod.float":"NaN"}``, see the module docs) and read back by
    :func:`loads_canonical`. Keys that collide as strings raise
    :class:`~mlprod.errors.EncodingError`.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [True, None]})
    b'{"a":[true,null],"b":1}'
    >>> canonical_json([1.5, float("nan")], allow_nonfinite=True)
    b'[1.5,{"$mlprod.float":"NaN"}]'
    """
    try:
        try:
            data = _encode(value).encode("utf-8")
        except TypeError:
            plain = to_jsonable(value)
            try:
                data = _encode(plain).encode("utf-8")
            except ValueError:
                if not allow_nonfinite:
                    raise
                return _encode(_tag_nonfinite(plain)).encode("utf-8")
    except ValueError as exc:
        if not allow_nonfinite:
            raise ValueError(
                f"{exc}: NaN and infinity have no canonical JSON form; replace them with "
                "None, or encode with allow_nonfinite=True"
            ) from None
        return _encode(_tag_nonfinite(to_jsonable(value))).encode("utf-8")
    if allow_nonfinite and _TAG_BYTES in data:
        _tag_nonfinite(to_jsonable(value))  # raises if the caller used the reserved key
    return data


def _tag_nonfinite(value: Any) -> Any:
    """``value`` (plain JSON types) with non-finite floats tagged; refuses the reserved key."""
    if isinstance(value, float):
        if value != value:
            return {NONFINITE_TAG: "NaN"}
        if value in (math.inf, -math.inf):
            return {NONFINITE_TAG: "Infinity" if value > 0 else "-Infinity"}
        return value
    if isinstance(value, dict):
        if NONFINITE_TAG in value:
            raise EncodingError(
                f"the key {NONFINITE_TAG!r} is reserved: it marks NaN and infinity in "
                "canonical JSON written with allow_nonfinite=True; rename that key",
                keys=[repr(NONFINITE_TAG)],
                obj_type="dict",
            )
        return {k: _tag_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tag_nonfinite(v) for v in value]
    return value


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and NONFINITE_TAG in obj:
        return _TAGS.get(obj[NONFINITE_TAG], obj)
    return obj


def loads_canonical(data: bytes | str) -> Any:
    """Parse canonical JSON, turning the tags of NaN and infinity back into floats.

    Examples
    --------
    >>> loads_canonical(canonical_json({"x": float("-inf")}, allow_nonfinite=True))
    {'x': -inf}
    """
    tagged = (_TAG_BYTES in data) if isinstance(data, bytes) else (NONFINITE_TAG in data)
    return json.loads(data, object_hook=_untag) if tagged else json.loads(data)


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
