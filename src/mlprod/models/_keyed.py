"""Keyed sealing of the registry's event chain: an HMAC no database writer can forge.

The chain itself (:mod:`mlprod.audit`) is a plain SHA-256 chain: anyone who
can write the database can rewrite an event and re-seal every later one, and
the result verifies. With a key, each event's record also carries
``"mac": {"key": <key id>, "hmac": <hex>}``, an HMAC-SHA256 over the event's
sequence number, time, previous hash and record (without the ``mac``). The
key lives in the environment (``MLPROD_REGISTRY_KEY``) or a file
(``MLPROD_REGISTRY_KEY_FILE``), never in the database, so a re-sealed chain
carries MACs that do not verify. Because each MAC covers ``prev``, one valid
MAC vouches for every event before it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlprod._internal.canonical import canonical_json
from mlprod.errors import ConfigurationError

__all__ = [
    "ENV_KEY",
    "ENV_KEY_FILE",
    "check_line",
    "key_id",
    "line_is_sealed",
    "resolve_key",
    "sign",
]

ENV_KEY = "MLPROD_REGISTRY_KEY"
ENV_KEY_FILE = "MLPROD_REGISTRY_KEY_FILE"
_MIN_KEY_BYTES = 16
_HASH_MARK = b',"hash":"'


def resolve_key(key: Any) -> bytes | None:
    """The HMAC key: ``key`` itself, else ``$MLPROD_REGISTRY_KEY``, else the file in
    ``$MLPROD_REGISTRY_KEY_FILE``, else ``None`` (no keyed sealing).

    ``key=False`` turns keyed sealing off whatever the environment says.
    """
    if key is False:
        return None
    source = "key="
    if key is None:
        if os.environ.get(ENV_KEY):
            key, source = os.environ[ENV_KEY], f"${ENV_KEY}"
        elif os.environ.get(ENV_KEY_FILE):
            path = Path(os.environ[ENV_KEY_FILE])
            try:
                key = path.read_bytes().strip()
            except OSError as exc:
                raise ConfigurationError(
                    f"${ENV_KEY_FILE} names {str(path)!r}, which cannot be read ({exc.strerror}). "
                    "Point it at a readable file holding the registry's key, or unset it.",
                    parameter=ENV_KEY_FILE,
                    value=str(path),
                ) from None
            source = f"the file in ${ENV_KEY_FILE}"
        else:
            return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes | bytearray):
        raise ConfigurationError(
            f"key={type(key).__name__}: pass the registry's HMAC key as bytes or text "
            f"(or set ${ENV_KEY}), or key=False for none.",
            parameter="key",
            value=type(key).__name__,
        )
    if len(key) < _MIN_KEY_BYTES:
        raise ConfigurationError(
            f"The registry key from {source} has {len(key)} bytes; use at least "
            f"{_MIN_KEY_BYTES} random bytes (python -c 'import secrets; "
            "print(secrets.token_hex(32))').",
            parameter="key",
            value=f"{len(key)} bytes",
        )
    return bytes(key)


def key_id(key: bytes) -> str:
    """A short public name of a key (a MAC of a constant), to tell keys apart in errors."""
    return hmac.new(key, b"mlprod registry key id", hashlib.sha256).hexdigest()[:16]


def _message(seq: int, ts: float, prev: str, record: Mapping[str, Any]) -> bytes:
    return canonical_json({"seq": seq, "ts": ts, "prev": prev, "record": record})


def sign(
    key: bytes, record: Mapping[str, Any], *, seq: int, ts: float, prev: str
) -> dict[str, Any]:
    """``record`` with its ``mac`` added."""
    body = {k: v for k, v in record.items() if k != "mac"}
    mac = hmac.new(key, _message(seq, ts, prev, body), hashlib.sha256).hexdigest()
    return {**body, "mac": {"key": key_id(key), "hmac": mac}}


def line_is_sealed(line: bytes) -> bool:
    """Whether a line's own hash matches its bytes (one event, checked alone)."""
    cut = line.rfind(_HASH_MARK)
    if cut < 0 or not line.endswith(b'"}'):
        return False
    return hashlib.sha256(line[:cut]).hexdigest() == line[cut + len(_HASH_MARK) : -2].decode(
        "ascii", "replace"
    )


def check_line(key: bytes, line: bytes) -> str | None:
    """``None`` when the event's MAC verifies under ``key``, else what is wrong with it."""
    try:
        env = json.loads(line)
        record = dict(env["record"])
        seq, ts, prev = int(env["seq"]), float(env["ts"]), str(env["prev"])
    except (ValueError, KeyError, TypeError):
        return "the event cannot be read"
    mac = record.pop("mac", None)
    if not isinstance(mac, Mapping) or not isinstance(mac.get("hmac"), str):
        return "the event carries no MAC: it was written without the key, or its MAC was removed"
    want = hmac.new(key, _message(seq, ts, prev, record), hashlib.sha256).hexdigest()
    if hmac.compare_digest(want, mac["hmac"]):
        return None
    if mac.get("key") != key_id(key):
        return (
            f"the MAC was made with another key (id {mac.get('key')!r}, this one is "
            f"{key_id(key)!r}): open the registry with the key it was written with"
        )
    return "the MAC does not match the event: it was changed, or re-sealed, without the key"
