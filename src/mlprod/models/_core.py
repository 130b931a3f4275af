"""The registry's foundation: opening the stores, naming rules, and finding a version."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from mlprod._internal.clock import SystemClock
from mlprod.errors import ConfigurationError, NotFound, StorageError
from mlprod.models._keyed import resolve_key
from mlprod.models.storage.artifacts import open_artifact_store
from mlprod.models.storage.sql import SqlMetadata
from mlprod.models.version import ModelVersion
from mlprod.protocols import ArtifactStore, Clock, Serializer

__all__ = ["RegistryCore"]

_SQL_URL = re.compile(
    r"^(sqlite|postgres|postgresql|mysql|mariadb|mssql|oracle|cockroachdb)(\+[\w-]+)?://", re.I
)
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")
# Used with fullmatch: "$" would also match before a final newline.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]{0,199}")
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}")
# Python's int() takes any length; the database holds 64-bit integers.
_MAX_VERSION = 2**63 - 1


def _default_actor() -> str | None:
    try:
        return os.environ.get("MLPROD_ACTOR") or getpass.getuser()
    except (OSError, KeyError):
        return None


def _who(actor: Any) -> str | None:
    """``actor``, or the default one when it is None."""
    if actor is None:
        return _default_actor()
    return _text(actor, "actor")


def _text(value: Any, parameter: str) -> str:
    # Stored as text and compared with the log by verify(): a number would
    # come back as a string and read as tampering.
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{parameter}={value!r} must be a string.",
            parameter=parameter,
            value=repr(value),
        )
    return value


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"Invalid model name {name!r}: use letters, digits, '_', '.', '-' or '/', starting "
            "with a letter or digit, at most 200 characters (':' separates a name from a "
            "version, as in 'churn:3').",
            parameter="name",
            value=name,
        )
    return name


def _check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias) or alias == "latest":
        raise ConfigurationError(
            f"Invalid alias {alias!r}: an alias starts with a letter or '_', holds letters, "
            "digits, '_', '.', '-', and is not 'latest' (which always means the newest "
            "version).",
            parameter="alias",
            value=alias,
        )
    return alias


def _trust_policy(trusted: Iterable[str] | None, safe: bool) -> frozenset[str] | None:
    """The serializer names a registry accepts, or ``None`` for any."""
    if not isinstance(safe, bool):
        raise ConfigurationError(
            f"safe={safe!r}: pass True (load and register only skops) or False.",
            parameter="safe",
            value=repr(safe),
        )
    if trusted is None:
        return frozenset({"skops"}) if safe else None
    if isinstance(trusted, str) or not all(isinstance(n, str) for n in trusted):
        raise ConfigurationError(
            f"trusted_serializers={trusted!r}: pass a set of serializer names, such as "
            '{"skops"}.',
            parameter="trusted_serializers",
            value=repr(trusted),
        )
    names = frozenset(trusted)
    if not names:
        raise ConfigurationError(
            "trusted_serializers is empty, so no version could ever be loaded: name the "
            'formats you trust, such as {"skops"}.',
            parameter="trusted_serializers",
            value="set()",
        )
    if safe and "joblib" in names:
        raise ConfigurationError(
            "safe=True refuses pickles, but trusted_serializers names 'joblib' (a pickle): "
            "drop one of the two.",
            parameter="trusted_serializers",
            value=sorted(names),
        )
    return names


def _is_number(ref: Any) -> bool:
    """Whether ``ref`` names a version by number (ASCII digits only: int("²") fails)."""
    return (isinstance(ref, int) and not isinstance(ref, bool)) or (
        isinstance(ref, str) and ref.isascii() and ref.isdigit()
    )


def _number(ref: int | str) -> int:
    number = int(ref)
    if not 0 <= number <= _MAX_VERSION:
        raise ConfigurationError(
            f"version {ref!r} is not a version number: versions count from 1 and are at "
            f"most {_MAX_VERSION} (a 64-bit integer). Pass the number shown by "
            "reg.versions(name).",
            parameter="version",
            value=str(ref)[:40],
        )
    return number


def _timestamp(at: Any) -> float:
    if isinstance(at, dt.datetime):
        # Rebuilt as a plain datetime: pandas' Timestamp reads a naive value as
        # UTC where datetime reads it as local time, and one rule must hold.
        plain = dt.datetime(
            *(at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond),
            tzinfo=at.tzinfo,
            fold=at.fold,
        )
        return plain.timestamp()
    if isinstance(at, int | float):
        return float(at)
    if isinstance(at, str):
        try:
            return dt.datetime.fromisoformat(at).timestamp()
        except ValueError:
            pass
    raise ConfigurationError(
        f"at={at!r} is not a moment: pass a datetime, epoch seconds or an ISO 8601 string "
        "(naive datetimes are local time, as datetime.now() gives).",
        parameter="at",
        value=repr(at),
    )


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def _iso(ts: float) -> str:
    return _utc(ts).isoformat()


class RegistryCore:
    """Opens the metadata database and artifact store; finds versions by name and ref."""

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        artifacts: str | os.PathLike[str] | ArtifactStore | None = None,
        clock: Clock | None = None,
        create: bool = True,
        trusted_serializers: Iterable[str] | None = None,
        safe: bool = False,
        key: bytes | str | bool | None = None,
    ) -> None:
        if not isinstance(location, str | os.PathLike):
            raise ConfigurationError(
                f"location={location!r} is not a place: pass a folder path (created if missing) "
                "or a SQLAlchemy URL such as 'postgresql+psycopg://user@host/db' with "
                "artifacts=.",
                parameter="location",
                value=repr(location),
            )
        self._trusted = _trust_policy(trusted_serializers, safe)
        self._key = resolve_key(key)
        loc = os.fspath(location)
        if not isinstance(loc, str):
            raise ConfigurationError(
                f"location={location!r} is a bytes path: pass it as text.",
                parameter="location",
                value=repr(location),
            )
        if _SQL_URL.match(loc):
            if artifacts is None:
                shown = _PASSWORD.sub(r"\1***@", loc)
                raise ConfigurationError(
                    f"A SQL URL holds only metadata: pass artifacts= too (a folder, an fsspec "
                    f"URL such as 's3://bucket/models', or an ArtifactStore) for {shown!r}.",
                    parameter="artifacts",
                )
            self._sql = SqlMetadata(loc, create=create, key=self._key)
            self.location = self._sql.engine.url.render_as_string(hide_password=True)
        else:
            if "://" in loc and not loc.startswith("file://"):
                raise ConfigurationError(
                    f"location {loc!r} is neither a local folder nor a SQLAlchemy URL. For "
                    "object storage pass the metadata URL as location and the bucket as "
                    "artifacts=, e.g. ModelRegistry('postgresql+psycopg://…', "
                    "artifacts='s3://bucket/models').",
                    parameter="location",
                    value=loc,
                )
            root = Path(loc.removeprefix("file://"))
            if root.exists() and not root.is_dir():
                raise ConfigurationError(
                    f"location {str(root)!r} is a file, not a folder: a local registry is a "
                    "folder holding registry.db and artifacts/. Pass the folder (or a new "
                    "path), or a SQLAlchemy URL for a database file ('sqlite:///path.db') "
                    "with artifacts=.",
                    parameter="location",
                    value=loc,
                )
            if not create and not (root / "registry.db").exists():
                raise ConfigurationError(
                    f"No model registry at {root}: {root / 'registry.db'} does not exist. "
                    "Check the path, or open it with create=True to make one.",
                    parameter="location",
                    value=loc,
                )
            try:
                root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"Cannot create the registry folder {str(root)!r}: {exc.strerror}. Pick a "
                    "folder you can write, or fix its parent's permissions.",
                    path=str(root),
                    operation="create registry folder",
                    reason=str(exc.strerror),
                ) from None
            self._sql = SqlMetadata(
                "sqlite:///" + str(root / "registry.db"), create=create, key=self._key
            )
            self.location = str(root)
            if artifacts is None:
                artifacts = root / "artifacts"
        self._store = open_artifact_store(artifacts)
        self._clock = clock if clock is not None else SystemClock()
        self._serializers: dict[str, Serializer] = {}
        self._sa = self._sql.sa
        self._t = self._sql.t

    # -- life cycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Release database connections."""
        self._sql.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ModelRegistry({self.location!r}, artifacts={self._store!r})"

    def _now(self) -> float:
        # Whole microseconds: what a datetime holds, so the moments reported by
        # alias_history() and created_at resolve back to exactly the same event.
        return round(float(self._clock.time()), 6)

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifact store."""
        store: ArtifactStore = self._store
        return store

    def _select_version(self, name: str, ref: Any) -> Any:
        t, sa = self._t, self._sa
        v = t.versions
        cols = (v.c.manifest, v.c.tags, v.c.description, v.c.digest)
        if ref is None or ref == "latest":
            return (
                sa.select(*cols)
                .where(v.c.name == name, v.c.digest.not_in(self._retired()))
                .order_by(v.c.version.desc())
                .limit(1)
            )
        if _is_number(ref):
            return sa.select(*cols).where(v.c.name == name, v.c.version == _number(ref))
        a = t.aliases
        return (
            sa.select(*cols)
            .select_from(a.join(v, sa.and_(v.c.name == a.c.name, v.c.version == a.c.version)))
            .where(a.c.name == name, a.c.alias == str(ref))
        )

    def _state(self, conn: Any, digest: str) -> str:
        """``live``, ``archived`` or ``deleted``."""
        lc = self._t.lifecycle
        found = conn.execute(self._sa.select(lc.c.state).where(lc.c.digest == digest)).scalar()
        return str(found) if found is not None else "live"

    def _retired(self) -> Any:
        """The digests of archived and deleted versions (a subquery)."""
        lc = self._t.lifecycle
        return self._sa.select(lc.c.digest).where(lc.c.state != "live")

    def _row(self, conn: Any, name: str, ref: Any) -> Any:
        if isinstance(ref, bool) or not (ref is None or isinstance(ref, int | str)):
            raise ConfigurationError(
                f"version {ref!r} must be a version number, an alias or 'latest'",
                parameter="version",
                value=repr(ref),
            )
        row = conn.execute(self._select_version(name, ref)).first()
        if row is None:
            raise self._not_found(conn, name, ref)
        return row

    def _not_found(self, conn: Any, name: str, ref: Any) -> NotFound:
        t, sa = self._t, self._sa
        names = [r[0] for r in conn.execute(sa.select(t.versions.c.name).distinct())]
        if name not in names:
            return NotFound(
                "model", name, candidates=names, hint="Register it first with reg.register()."
            )
        versions = [
            r[0]
            for r in conn.execute(sa.select(t.versions.c.version).where(t.versions.c.name == name))
        ]
        if _is_number(ref):
            return NotFound(
                "version",
                f"{name}:{ref}",
                candidates=[f"{name}:{x}" for x in versions],
                hint=f"{name!r} has versions 1..{max(versions)}.",
            )
        aliases = [
            r[0] for r in conn.execute(sa.select(t.aliases.c.alias).where(t.aliases.c.name == name))
        ]
        return NotFound(
            "alias",
            ref,
            candidates=aliases,
            hint=f"{name!r} has no alias {ref!r}; set one with reg.set_alias().",
        )

    def get(self, name: str, version: int | str | None = None) -> ModelVersion:
        """The :class:`ModelVersion` for a version number, an alias, or the latest.

        ``name`` may also be a reference: ``"churn:3"`` (a version) or
        ``"churn@production"`` (an alias).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> reg.get("churn").version, reg.get("churn:1").version
        (2, 1)
        """
        name, version = _split(name, version)
        with self._sql.read() as conn:
            row = self._row(conn, name, version)
        return ModelVersion._from_row(row.manifest, row.tags, row.description, row.digest)

    def _where(self, digest: str) -> str:
        where = getattr(self._store, "where", None)
        return str(where(digest)) if callable(where) else f"sha256:{digest}"


def _split(name: Any, ref: Any = None) -> tuple[str, Any]:
    """(name, ref) from a ModelVersion, ``"name:version"``, ``"name@alias"``, ``(name, ref)``
    or separate values (``"name:alias"`` is still read, as before)."""
    if isinstance(name, ModelVersion):
        return name.name, name.version if ref is None else ref
    if isinstance(name, tuple) and len(name) == 2 and ref is None:
        return str(name[0]), name[1]
    if isinstance(name, str) and ref is None and "@" in name:
        base, _, alias = name.partition("@")  # "churn@production": an alias
        return base, alias
    if isinstance(name, str) and ref is None and ":" in name:
        base, _, tail = name.partition(":")
        return base, _number(tail) if _is_number(tail) else tail
    if not isinstance(name, str):
        raise ConfigurationError(
            f"Expected a model name, 'name:version' or a ModelVersion, got {type(name).__name__}",
            parameter="name",
            value=repr(name),
        )
    return name, ref
