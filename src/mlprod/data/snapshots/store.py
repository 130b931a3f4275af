"""Versioned dataset snapshots: :class:`DatasetStore` and :class:`DatasetVersion`.

Layout under the store root (a local directory or any fsspec URL)::

    objects/ab/<sha256>.parquet               the frame's bytes, named by their digest
    datasets/<name>/versions/00000001.json    one immutable manifest per version
    datasets/<name>/tags/<alias>.json         an alias: a movable name for a version

Objects are named by the SHA-256 of their bytes (see ``objects``), so equal
bytes are stored once and a manifest can never point at bytes it did not
record. Every file is written under a temporary name and renamed into place
(or created exclusively), and a version exists exactly when its manifest
does, so a crash mid-commit leaves the store as it was."""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from mlprod._internal.canonical import canonical_json, sha256_bytes
from mlprod._internal.environment import environment
from mlprod._internal.refs import Ref, outside_stacklevel, parse_ref
from mlprod.data.fingerprint import fingerprint
from mlprod.data.snapshots.backend import Backend
from mlprod.data.snapshots.diff import DatasetDiff
from mlprod.data.snapshots.dtypes import describe as describe_dtypes
from mlprod.data.snapshots.dtypes import describe_index
from mlprod.data.snapshots.dtypes import restore as restore_dtypes
from mlprod.data.snapshots.frames import check_frame, check_root, read_frame
from mlprod.data.snapshots.gc import StoreGcReport, collect
from mlprod.data.snapshots.objects import object_location, write_object
from mlprod.data.snapshots.verify import StoreVerification, check_content, verify_store
from mlprod.data.snapshots.version import FORMAT, DatasetVersion
from mlprod.errors import ConfigurationError, IntegrityError, NotFound

__all__ = ["DatasetStore", "DatasetVersion"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or value in {".", ".."}:
        raise ConfigurationError(
            f"Invalid {kind} {value!r}: use letters, digits, '.', '_' or '-' (at most 128, "
            "starting with a letter or digit), e.g. 'train' or 'golden-2024'.",
            parameter=kind,
            value=value,
        )
    return value


def _check_tag(tag: str, parameter: str = "alias") -> str:
    if tag == "latest" or tag.isdigit():
        raise ConfigurationError(
            f"{tag!r} cannot be an alias: 'latest' always means the newest version and a number "
            "names a version ('name:3'); pick another name such as 'latest-good' or 'golden'.",
            parameter=parameter,
            value=tag,
        )
    return tag


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"DatasetStore.{old} is deprecated: use {new}.",
        DeprecationWarning,
        stacklevel=outside_stacklevel(),
    )


def _to_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    raise ConfigurationError(
        f"DatasetStore.commit takes a pandas DataFrame or Series, not {type(data).__name__}. "
        "Convert it first (pd.DataFrame(array) for numpy data).",
        parameter="df",
        value=type(data).__name__,
    )


class DatasetStore:
    """A versioned, content-addressed store of DataFrames.

    Parameters
    ----------
    root:
        A local directory (created if missing) or any fsspec URL
        (``s3://bucket/datasets``, ``memory://store``).
    storage_options:
        fsspec options for URLs (credentials, endpoints).

    Notes
    -----
    On a local directory, commits from several processes at once are safe:
    versions are numbered under a file lock and published by an exclusive
    link, so none is lost or numbered twice. On other file systems writes
    are atomic but numbering is serialised only within one process.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp, tempfile
    >>> store = mp.DatasetStore(tempfile.mkdtemp())
    >>> df = pd.DataFrame({"id": [1, 2, 3], "y": [0.5, 0.25, 1.0]})
    >>> v1 = store.commit(df, name="train", message="initial", aliases=["golden"])
    >>> v2 = store.commit(df.iloc[:2], name="train", message="drop row 3")
    >>> [v.version for v in store.versions("train")]
    [1, 2]
    >>> store.load("train@golden").equals(df)
    True
    >>> print(store.diff(v1, "train:2", key="id").summary().splitlines()[0])
    Dataset diff train:1 → train:2
    """

    __module__ = "mlprod"

    def __init__(
        self, root: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
    ) -> None:
        check_root(root)
        self._backend = Backend(root, dict(storage_options or {}))
        self.root = self._backend.url

    def __repr__(self) -> str:
        return f"DatasetStore({self.root!r})"

    # ------------------------------------------------------------ paths

    def _versions_dir(self, name: str) -> str:
        return self._backend.path("datasets", name, "versions")

    def _tags_dir(self, name: str) -> str:
        return self._backend.path("datasets", name, "tags")

    def _object_path(self, key: str, suffix: str) -> str:
        return self._backend.path("objects", key[:2], f"{key}{suffix}")

    # ------------------------------------------------------------ reading

    def names(self) -> list[str]:
        """Names of the datasets in the store, sorted.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> _ = store.commit(pd.DataFrame({"a": [1]}), name="eval")
        >>> store.names()
        ['eval']
        """
        folder = self._backend.path("datasets")
        return [n for n in self._backend.list_names(folder) if _NAME.match(n)]

    def _version_numbers(self, name: str) -> list[int]:
        found = []
        for entry in self._backend.list_names(self._versions_dir(name)):
            stem = entry.removesuffix(".json")
            if entry.endswith(".json") and stem.isdigit():
                found.append(int(stem))
        return sorted(found)

    def aliases(self, name: str) -> dict[str, int]:
        """Aliases of dataset ``name`` and the version each points at.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> _ = store.commit(pd.DataFrame({"a": [1]}), name="train", aliases=["golden"])
        >>> store.aliases("train")
        {'golden': 1}
        """
        return self._alias_map(name)

    def tags(self, name: str) -> dict[str, int]:
        """Deprecated spelling of :meth:`aliases`."""
        _deprecated("tags(name)", "aliases(name)")
        return self._alias_map(name)

    def _alias_map(self, name: str) -> dict[str, int]:
        out = {}
        for entry in self._backend.list_names(self._tags_dir(name)):
            if entry.endswith(".json") and not entry.startswith("."):
                data = json.loads(self._backend.read_bytes(f"{self._tags_dir(name)}/{entry}"))
                out[entry.removesuffix(".json")] = int(data["version"])
        return out

    def _read_version(
        self, name: str, number: int, tags: Mapping[str, int] | None = None
    ) -> DatasetVersion:
        path = f"{self._versions_dir(name)}/{number:08d}.json"
        data = json.loads(self._backend.read_bytes(path))
        tag_map = self._alias_map(name) if tags is None else tags
        data["aliases"] = sorted(t for t, v in tag_map.items() if v == number)
        return DatasetVersion.from_dict(data)

    def versions(self, name: str) -> list[DatasetVersion]:
        """Every version of ``name``, oldest first (the listing pair is ``names``/``versions``).

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> _ = store.commit(pd.DataFrame({"a": [1]}), name="train", message="one")
        >>> _ = store.commit(pd.DataFrame({"a": [2]}), name="train", message="two")
        >>> [v.message for v in store.versions("train")]
        ['one', 'two']
        """
        return self._newest_first(name)[::-1]

    def log(self, name: str, *, limit: int | None = None) -> list[DatasetVersion]:
        """Deprecated: the versions of ``name``, newest first; use :meth:`versions`."""
        _deprecated("log(name)", "versions(name) (oldest first)")
        return self._newest_first(name, limit)

    def _newest_first(self, name: str, limit: int | None = None) -> list[DatasetVersion]:
        numbers = self._version_numbers(_check_name("name", name))
        if not numbers:
            raise NotFound("dataset", name, candidates=self.names())
        tag_map = self._alias_map(name)
        chosen = numbers[::-1][:limit] if limit is not None else numbers[::-1]
        return [self._read_version(name, n, tag_map) for n in chosen]

    def get(self, name: str, ref: int | str | None = None) -> DatasetVersion:
        """The :class:`DatasetVersion` that ``ref`` names, without loading data.

        ``name`` is a dataset name or a whole reference (``"train:3"``,
        ``"train@golden"``; see :mod:`mlprod._internal.refs`). ``ref`` is a
        version number, an alias, ``"latest"``/``None``, or a fingerprint (or
        a unique prefix of at least 6 characters).

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> v = store.commit(pd.DataFrame({"a": [1]}), name="train", aliases=["golden"])
        >>> store.get("train:1") == store.get("train@golden") == store.get("train", 1) == v
        True
        >>> store.get("train", v.fingerprint[:8]).version
        1
        """
        if isinstance(name, str) and ref is None and ("@" in name or ":" in name):
            parsed = parse_ref(name, kind="dataset")
            name, ref = parsed.name, parsed.version or parsed.alias
        _check_name("name", name)
        numbers = self._version_numbers(name)
        if not numbers:
            raise NotFound("dataset", name, candidates=self.names())
        if ref is None or ref == "latest":
            return self._read_version(name, numbers[-1])
        tag_map = self._alias_map(name) if isinstance(ref, str) else {}
        if ref in tag_map:  # an (old) alias wins over a number it happens to look like
            return self._read_version(name, tag_map[str(ref)], tag_map)
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 9):
            number = int(ref)
            if number not in numbers:
                raise NotFound(
                    f"version of {name!r}",
                    number,
                    hint=f"Versions run from {numbers[0]} to {numbers[-1]}.",
                )
            return self._read_version(name, number)
        text = str(ref).lower()
        if len(text) >= 6 and all(c in "0123456789abcdef" for c in text):
            matches = [v for v in self._newest_first(name) if v.fingerprint.hex.startswith(text)]
            if matches:
                return matches[-1]  # the first version with that content
        raise NotFound(
            f"version, alias or fingerprint of {name!r}",
            ref,
            candidates=list(tag_map),
            hint="Use a version number, an alias, 'latest', or a fingerprint prefix.",
        )

    def load(
        self, name: str | DatasetVersion, ref: int | str | None = None, *, verify: bool = True
    ) -> pd.DataFrame:
        """Load a version's frame, equal to what was committed, with its dtypes.

        ``name`` may also be a reference (``"train:3"``) or a
        :class:`DatasetVersion` (``ref`` is then ignored).
        With ``verify=True`` (the default) the stored bytes are checked
        against their recorded SHA-256 and the frame is re-fingerprinted;
        any mismatch raises :class:`~mlprod.IntegrityError`.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> df = pd.DataFrame({"a": [1, 2]}, index=["x", "y"])
        >>> _ = store.commit(df, name="train")
        >>> store.load("train").equals(df)
        True
        """
        version = name if isinstance(name, DatasetVersion) else self.get(name, ref)
        path = object_location(self._backend, version)
        if not self._backend.exists(path):
            raise IntegrityError(
                f"The data of {version.ref} is missing from the store ({path}). Restore it from a "
                "backup, or commit the frame again.",
                path=path,
                expected=version.sha256,
            )
        data = self._backend.read_bytes(path)
        if verify:
            actual = sha256_bytes(data)
            if actual != version.sha256:
                raise IntegrityError(
                    f"The stored bytes of {version.ref} were modified: SHA-256 {actual[:16]}… "
                    f"but {version.sha256[:16]}… was recorded. Do not use this data; restore "
                    f"{path} from a backup or commit the original frame again.",
                    path=path,
                    expected=version.sha256,
                    actual=actual,
                )
        frame = _restore_dtypes(read_frame(data), version)
        if verify:
            key = fingerprint(frame, index=True)
            if key.hex != version.object_key:
                raise IntegrityError(
                    f"The data of {version.ref} no longer has the fingerprint it was committed "
                    f"with ({key.hex[:12]}… vs {version.object_key[:12]}…). Restore {path} from "
                    "a backup.",
                    path=path,
                    expected=version.object_key,
                    actual=key.hex,
                )
            check_content(frame, version, path)
        return frame

    # ------------------------------------------------------------ writing

    def _write_object(self, frame: pd.DataFrame, key: str) -> tuple[str, int]:
        buf = io.BytesIO()
        try:
            with warnings.catch_warnings():
                # A lone None name reads to pandas as "mixed"; the store records the names
                # and restores them (the round-trip check below proves it), so pandas'
                # warning that they "will not roundtrip" does not hold here. Frames whose
                # names really mix types were refused by check_frame.
                warnings.filterwarnings(
                    "ignore", message="The DataFrame has column names of mixed type"
                )
                frame.to_parquet(
                    buf, engine="pyarrow", compression="zstd", use_compliant_nested_type=False
                )
        except (TypeError, ValueError, ImportError) as exc:
            raise ConfigurationError(
                f"Cannot store this frame as Parquet: {exc}. Convert the offending column "
                "(mixed-type object columns: .astype(str); complex numbers: split into real "
                "and imaginary columns).",
                parameter="df",
            ) from exc
        data = buf.getvalue()
        back = _restore_dtypes(read_frame(data), None, frame)
        if fingerprint(back, index=True).hex != key:
            changed = [
                str(c)
                for c in frame.columns
                if c in back.columns and repr(back[c].dtype) != repr(frame[c].dtype)
            ]
            raise ConfigurationError(
                "This frame does not survive a Parquet round trip unchanged"
                + (f" (columns {changed} change dtype)" if changed else "")
                + ". Cast those columns to a Parquet-compatible dtype before committing.",
                parameter="df",
                value=changed,
            )
        digest = sha256_bytes(data)
        # Keyed by the digest of the bytes, not by the logical fingerprint: two writers of
        # equal content but different bytes (object vs str columns) never share a file.
        write_object(self._backend, self._object_path(digest, ".parquet"), data)
        return digest, len(data)

    def _resolve_parent(self, parent: Any) -> str:
        if isinstance(parent, DatasetVersion):
            return parent.ref
        if not isinstance(parent, str):
            raise ConfigurationError(
                f"Parent {parent!r} is not a DatasetVersion or a 'name:version' reference.",
                parameter="parents",
                value=repr(parent),
            )
        ref = parse_ref(parent, kind="dataset")
        return self.get(ref.name, ref.version or ref.alias).ref

    def commit(
        self,
        df: Any,
        *,
        name: str,
        message: str = "",
        aliases: Iterable[str] = (),
        parents: Sequence[DatasetVersion | str] | None = None,
        tags: Iterable[str] | None = None,
    ) -> DatasetVersion:
        """Store ``df`` as the next version of ``name``.

        The data is written once per distinct content (and index); each
        commit adds an immutable manifest numbered one past the latest.

        Parameters
        ----------
        df:
            The frame (a Series is stored as a one-column frame).
        name:
            Dataset name: letters, digits, ``.``, ``_``, ``-``.
        message:
            What changed and why.
        aliases:
            Aliases to point at the new version (moved if they exist).
        parents:
            Versions this one derives from (``DatasetVersion`` objects or
            references such as ``"name:version"``). By default the previous
            version of ``name``.
        tags:
            Deprecated spelling of ``aliases``.

        Returns
        -------
        DatasetVersion

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> v = store.commit(pd.DataFrame({"a": [1]}), name="train", message="seed data")
        >>> v.version, v.parents
        (1, ())
        """
        _check_name("name", name)
        if tags is not None:
            _deprecated("commit(tags=...)", "commit(aliases=...)")
            aliases = [*([aliases] if isinstance(aliases, str) else aliases), *tags]
        tag_list = [
            _check_tag(_check_name("alias", t))
            for t in ([aliases] if isinstance(aliases, str) else aliases)
        ]
        frame = _to_frame(df)
        check_frame(frame)
        key = fingerprint(frame, index=True).hex
        content = fingerprint(frame)
        sha, size = self._write_object(frame, key)
        given = [self._resolve_parent(p) for p in parents] if parents is not None else None
        with self._backend.lock(f"dataset-{name}"):
            numbers = self._version_numbers(name)
            number = numbers[-1] + 1 if numbers else 1
            inherited = [str(Ref(name, version=numbers[-1]))] if numbers else []
            record = {
                "format": FORMAT,
                "name": name,
                "version": number,
                "fingerprint": content.to_dict(),
                "rows": len(frame),
                "schema": [
                    [c if isinstance(c, str | int) else str(c), d] for c, d in content.schema
                ],
                "created_at": _dt.datetime.now(_dt.UTC).isoformat(),
                "message": str(message),
                "parents": given if given is not None else inherited,
                "environment": environment(),
                "object_key": key,
                "sha256": sha,
                "bytes": size,
                "dtypes": describe_dtypes(frame),
                "index": describe_index(frame.index),
            }
            folder = self._versions_dir(name)
            while not self._backend.create_exclusive(
                f"{folder}/{number:08d}.json", canonical_json(record)
            ):
                # another writer (on a file system without our lock) took this number
                number += 1
                record["version"] = number
            for tag in tag_list:
                self._write_tag(name, tag, number)
        return self._read_version(name, number)

    def _write_tag(self, name: str, tag: str, number: int) -> None:
        record = {"version": number, "at": _dt.datetime.now(_dt.UTC).isoformat()}
        self._backend.write_atomic(f"{self._tags_dir(name)}/{tag}.json", canonical_json(record))

    def set_alias(
        self, name: str, alias: str, version: int | str | DatasetVersion | None = None
    ) -> DatasetVersion:
        """Point ``alias`` at ``version`` of ``name`` (the latest by default), moving it if set.

        ``version`` is a number, another alias, ``"latest"``, a fingerprint
        prefix or a :class:`DatasetVersion`; afterwards ``"name@alias"``
        names that version.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> _ = store.commit(pd.DataFrame({"a": [1]}), name="train")
        >>> _ = store.commit(pd.DataFrame({"a": [2]}), name="train")
        >>> store.set_alias("train", "golden", 1).aliases
        ('golden',)
        >>> store.get("train@golden").version
        1
        """
        return self._point(name, alias, version, move=True, parameter="alias")

    def tag(
        self, name: str, tag: str, ref: int | str | None = None, *, move: bool = False
    ) -> DatasetVersion:
        """Deprecated spelling of :meth:`set_alias` (a tag moves only with ``move=True``)."""
        _deprecated("tag(name, tag, ref)", "set_alias(name, alias, version)")
        return self._point(name, tag, ref, move=move, parameter="tag")

    def _point(
        self, name: str, tag: str, ref: Any, *, move: bool, parameter: str
    ) -> DatasetVersion:
        _check_name(parameter, tag)
        _check_tag(tag, parameter)
        if isinstance(ref, DatasetVersion):
            if ref.name != name:
                raise ConfigurationError(
                    f"{ref.ref} is a version of {ref.name!r}, not of {name!r}.",
                    parameter="version",
                    value=ref.ref,
                )
            ref = ref.version
        with self._backend.lock(f"dataset-{name}"):
            target = self.get(name, ref)
            existing = self._alias_map(name)
            if tag in existing and existing[tag] != target.version and not move:
                raise ConfigurationError(
                    f"Tag {tag!r} of {name!r} already points at version {existing[tag]}. "
                    "Pass move=True to move it (or use set_alias, which always moves).",
                    parameter="tag",
                    value=tag,
                )
            self._write_tag(name, tag, target.version)
        return self._read_version(name, target.version)

    def verify(self) -> StoreVerification:
        """Check every version: data present, bytes as recorded, fingerprint as committed.

        Returns
        -------
        StoreVerification
        """
        return verify_store(self)

    def gc(self, *, grace: float = 86_400.0, dry_run: bool = True) -> StoreGcReport:
        """Remove data no version references, older than ``grace`` seconds (a dry run by default).

        Returns
        -------
        StoreGcReport
            What was removed (or, with ``dry_run=True``, would be); each removal is logged.
        """
        return collect(self, grace=grace, dry_run=dry_run)

    # ------------------------------------------------------------ diff

    def _frame_of(self, ref: Any) -> tuple[pd.DataFrame, str]:
        if isinstance(ref, pd.DataFrame):
            return ref, "frame"
        if isinstance(ref, DatasetVersion):
            return self.load(ref), ref.ref
        if isinstance(ref, tuple) and len(ref) == 2:
            version = self.get(ref[0], ref[1])
            return self.load(version), version.ref
        if not isinstance(ref, str):
            raise ConfigurationError(
                f"Cannot compare a {type(ref).__name__}: pass a DatasetVersion, a reference "
                "such as 'train:3', a (name, ref) pair or a DataFrame.",
                parameter="a/b",
                value=repr(ref),
            )
        version = self.get(ref)
        return self.load(version), version.ref

    def diff(self, a: Any, b: Any, *, key: str | Sequence[str] | None = None) -> Any:
        """Compare two versions (or frames): schema changes and row changes.

        ``a`` and ``b`` are :class:`DatasetVersion` objects, references
        (``"name:version"``, ``"name@alias"``, ``"name"``), ``(name, ref)``
        pairs or DataFrames. With ``key``, rows are
        matched by it and reported added, removed or changed (with the
        changed columns); without, rows are compared as multisets.

        Returns
        -------
        DatasetDiff

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile
        >>> store = mp.DatasetStore(tempfile.mkdtemp())
        >>> a = store.commit(pd.DataFrame({"id": [1, 2], "x": [1.0, 2.0]}), name="t")
        >>> b = store.commit(pd.DataFrame({"id": [2, 3], "x": [2.5, 3.0]}), name="t")
        >>> d = store.diff(a, b, key="id")
        >>> d.rows_added, d.rows_removed, d.rows_changed
        (1, 1, 1)
        """
        left, left_label = self._frame_of(a)
        right, right_label = self._frame_of(b)
        return DatasetDiff.compute(left, right, key=key, labels=(left_label, right_label))


def _restore_dtypes(
    frame: pd.DataFrame, version: DatasetVersion | None, original: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Give the columns and index back the exact dtypes recorded at commit."""
    if original is not None:
        return restore_dtypes(frame, describe_dtypes(original), describe_index(original.index))
    if version is not None:
        return restore_dtypes(frame, version.pandas_dtypes, version.pandas_index)
    return frame
