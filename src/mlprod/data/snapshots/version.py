"""The :class:`DatasetVersion` record: one immutable version of a named dataset."""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlprod._internal.refs import outside_stacklevel
from mlprod._internal.render import Document, Rendered, Section, Table
from mlprod.data.fingerprint import Fingerprint

__all__ = ["FORMAT", "DatasetVersion"]

FORMAT = "mlprod-snapshot/1"

# Manifests written before the one reference grammar name parents "train@3".
_OLD_PARENT = re.compile(r"(.+)@([1-9][0-9]*)")


def _parent(text: str) -> str:
    old = _OLD_PARENT.fullmatch(text)
    return f"{old[1]}:{old[2]}" if old else text


@dataclass(frozen=True)
class DatasetVersion(Rendered):
    """One committed version of a named dataset (immutable).

    Attributes
    ----------
    name:
        Dataset name.
    version:
        Version number, 1, 2, 3, ... without gaps.
    fingerprint:
        :func:`mlprod.fingerprint` of the committed frame (default options:
        ordered, index excluded), so ``mp.fingerprint(df) == v.fingerprint``
        tells whether a frame is this version's content.
    rows:
        Number of rows.
    schema:
        ``(column, canonical dtype)`` pairs.
    created_at:
        Commit time (UTC).
    message:
        The commit message.
    parents:
        References (``"name:version"``) of the versions this one derives from.
    environment:
        :func:`mlprod.environment` at commit time.
    aliases:
        Aliases pointing at this version when it was read (``tags`` is the
        deprecated spelling).
    object_key:
        Storage key of the data (the fingerprint including the index).
    sha256:
        SHA-256 of the stored Parquet bytes.
    pandas_dtypes:
        The pandas dtype of each column as committed (a precise spec, see
        :mod:`mlprod.data.snapshots.dtypes`).
    pandas_index:
        The index's dtype spec and ``freq``, restored on load.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp, tempfile
    >>> store = mp.DatasetStore(tempfile.mkdtemp())
    >>> v = store.commit(pd.DataFrame({"a": [1, 2]}), name="train", message="first")
    >>> v.ref, v.rows, v.fingerprint == mp.fingerprint(pd.DataFrame({"a": [1, 2]}))
    ('train:1', 2, True)
    """

    __module__ = "mlprod"

    name: str
    version: int
    fingerprint: Fingerprint
    rows: int
    schema: tuple[tuple[Any, str], ...]
    created_at: _dt.datetime
    message: str = ""
    parents: tuple[str, ...] = ()
    environment: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    aliases: tuple[str, ...] = field(default=(), compare=False)
    object_key: str = field(default="", repr=False)
    sha256: str = field(default="", repr=False)
    pandas_dtypes: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    pandas_index: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ref(self) -> str:
        """``"name:version"``, accepted wherever a version is asked for."""
        return f"{self.name}:{self.version}"

    @property
    def tags(self) -> tuple[str, ...]:
        """Deprecated spelling of :attr:`aliases`."""
        warnings.warn(
            "DatasetVersion.tags is deprecated: use aliases.",
            DeprecationWarning,
            stacklevel=outside_stacklevel(),
        )
        return self.aliases

    def __repr__(self) -> str:
        return (
            f"DatasetVersion(name={self.name!r}, version={self.version}, "
            f"fingerprint='{self.fingerprint.hex[:12]}…', rows={self.rows:,}, "
            f"created_at='{self.created_at.isoformat(timespec='seconds')}', "
            f"message={self.message!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (what the manifest holds, plus aliases)."""
        return {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "fingerprint": self.fingerprint.to_dict(),
            "rows": self.rows,
            "schema": [[n if isinstance(n, str | int) else str(n), d] for n, d in self.schema],
            "created_at": self.created_at.isoformat(),
            "message": self.message,
            "parents": list(self.parents),
            "environment": dict(self.environment),
            "aliases": list(self.aliases),
            "object_key": self.object_key,
            "sha256": self.sha256,
            "dtypes": dict(self.pandas_dtypes),
            "index": dict(self.pandas_index),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetVersion:
        """Rebuild a version from :meth:`to_dict` output."""
        return cls(
            name=data["name"],
            version=int(data["version"]),
            fingerprint=Fingerprint.from_dict(data["fingerprint"]),
            rows=int(data["rows"]),
            schema=tuple((n, d) for n, d in data["schema"]),
            created_at=_dt.datetime.fromisoformat(data["created_at"]),
            message=data.get("message", ""),
            parents=tuple(_parent(p) for p in data.get("parents", ())),
            environment=data.get("environment", {}),
            aliases=tuple(data.get("aliases", data.get("tags", ()))),
            object_key=data.get("object_key", ""),
            sha256=data.get("sha256", ""),
            pandas_dtypes=data.get("dtypes", {}),
            pandas_index=data.get("index", {}),
        )

    def _document(self, **options: Any) -> Document:
        facts = {
            "fingerprint": self.fingerprint.hex,
            "rows": f"{self.rows:,}",
            "created": self.created_at.isoformat(timespec="seconds"),
            "message": self.message,
            "parents": ", ".join(self.parents) or "-",
            "aliases": ", ".join(self.aliases) or "-",
        }
        table = Table(["column", "dtype"], [list(p) for p in self.schema])
        return Document(
            f"Dataset {self.ref}", facts=facts, sections=[Section("Schema", table=table)]
        )
