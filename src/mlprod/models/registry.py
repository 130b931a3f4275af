"""The model registry: sealed versions, aliases with history, gates, lineage, verification."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlprod._internal.canonical import canonical_json, sha256_bytes, to_jsonable
from mlprod._internal.clock import SystemClock
from mlprod._internal.environment import environment
from mlprod.audit import verify_lines
from mlprod.errors import ConfigurationError, GateFailed, IntegrityError, NotFound
from mlprod.models import _inputs
from mlprod.models.gates import Verdict, run_gate
from mlprod.models.lineage import LineageGraph
from mlprod.models.serializers import resolve_serializer
from mlprod.models.storage.artifacts import open_artifact_store
from mlprod.models.storage.sql import SqlMetadata
from mlprod.models.verify import Problem, RegistryVerification, replay
from mlprod.models.version import MANIFEST_FORMAT, AliasChange, ModelVersion

__all__ = ["ModelRegistry"]

_SQL_URL = re.compile(
    r"^(sqlite|postgres|postgresql|mysql|mariadb|mssql|oracle|cockroachdb)(\+[\w-]+)?://", re.I
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,199}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,199}$")


def _default_actor() -> str | None:
    try:
        return os.environ.get("MLPROD_ACTOR") or getpass.getuser()
    except (OSError, KeyError):
        return None


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"Invalid model name {name!r}: use letters, digits, '_', '.', '-' or '/', starting "
            "with a letter or digit, at most 200 characters (':' separates a name from a "
            "version, as in 'churn:3').",
            parameter="name",
            value=name,
        )
    return name


def _check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias == "latest":
        raise ConfigurationError(
            f"Invalid alias {alias!r}: an alias starts with a letter or '_', holds letters, "
            "digits, '_', '.', '-', and is not 'latest' (which always means the newest "
            "version).",
            parameter="alias",
            value=alias,
        )
    return alias


def _timestamp(at: Any) -> float:
    if isinstance(at, dt.datetime):
        return at.timestamp()
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


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


class ModelRegistry:
    """A model registry: sealed versions, aliases with history, gates and lineage.

    Parameters
    ----------
    location:
        A local folder (created if missing): SQLite metadata in WAL mode at
        ``<folder>/registry.db`` and content-addressed artifacts in
        ``<folder>/artifacts``. Or a SQLAlchemy URL for the metadata
        (``postgresql+psycopg://user@host/db``, ``sqlite:///path.db``) together
        with ``artifacts=``.
    artifacts:
        Where model files go: a local path, any fsspec URL (``s3://bucket/models``)
        or an :class:`~mlprod.protocols.ArtifactStore`. Required with a SQL URL.
    clock:
        Source of timestamps (:class:`mlprod.ManualClock` in tests).
    create:
        Create the registry if it does not exist; with ``False`` a missing
        registry raises :class:`~mlprod.ConfigurationError`.

    Examples
    --------
    >>> import mlprod as mp, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
    >>> model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    >>> mv = reg.register("churn", model, params={"C": 1.0}, metrics={"auc": 0.9}, actor="ana")
    >>> _ = reg.set_alias("churn", "production", mv.version, actor="bo", reason="first release")
    >>> reg.load("churn", "production").predict([[1.0]]).tolist()
    [1]
    >>> reg.verify().ok
    True
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        artifacts: Any = None,
        clock: Any = None,
        create: bool = True,
    ) -> None:
        loc = os.fspath(location)
        if _SQL_URL.match(loc):
            if artifacts is None:
                raise ConfigurationError(
                    f"A SQL URL holds only metadata: pass artifacts= too (a folder, an fsspec "
                    f"URL such as 's3://bucket/models', or an ArtifactStore) for {loc!r}.",
                    parameter="artifacts",
                )
            self._sql = SqlMetadata(loc, create=create)
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
            if not create and not (root / "registry.db").exists():
                raise ConfigurationError(
                    f"No model registry at {root}: {root / 'registry.db'} does not exist. "
                    "Check the path, or open it with create=True to make one.",
                    parameter="location",
                    value=loc,
                )
            root.mkdir(parents=True, exist_ok=True)
            self._sql = SqlMetadata("sqlite:///" + str(root / "registry.db"), create=create)
            self.location = str(root)
            if artifacts is None:
                artifacts = root / "artifacts"
        self._store = open_artifact_store(artifacts)
        self._clock = clock if clock is not None else SystemClock()
        self._serializers: dict[str, Any] = {}
        self._sa = self._sql.sa
        self._t = self._sql.t

    # -- life cycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Release database connections."""
        self._sql.close()

    def __enter__(self) -> ModelRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ModelRegistry({self.location!r}, artifacts={self._store!r})"

    @property
    def artifacts(self) -> Any:
        """The artifact store."""
        return self._store

    # -- registering -----------------------------------------------------------------------

    def register(
        self,
        name: str,
        model: Any,
        *,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        datasets: Any = None,
        signature: Any = None,
        tags: Mapping[str, Any] | None = None,
        parents: Iterable[Any] = (),
        description: str = "",
        serializer: Any = None,
        actor: str | None = None,
    ) -> ModelVersion:
        """Register ``model`` as the next version of ``name``; return the sealed version.

        The model is serialised and stored under its SHA-256 first; then one
        transaction assigns the version number, writes the manifest and
        appends the event, so concurrent writers get 1, 2, 3, … without gaps
        and a failure leaves no half-registered version (at most an orphaned
        artifact, which :meth:`verify` lists).

        Parameters
        ----------
        name:
            The model's name (``"churn"``).
        model:
            Any object the serializer can write: a fitted estimator, pipeline, dict.
        params, metrics:
            Training parameters (any JSON) and evaluation metrics (finite numbers).
        datasets:
            ``{"train": dataset_version_or_fingerprint_or_frame, ...}``; frames
            are fingerprinted on the spot.
        signature:
            An :class:`mlprod.Schema` of the inputs, or
            ``{"inputs": schema, "outputs": schema}``.
        tags, description:
            Mutable annotations (changes are logged).
        parents:
            Versions this model derives from (``ModelVersion``, ``"name:version"``).
        serializer:
            ``"joblib"`` (default), ``"skops"``, or a Serializer object.
        actor:
            Who registers it (default: ``$MLPROD_ACTOR`` or the OS user).

        Raises
        ------
        mlprod.SerializationError
            The model cannot be serialised; the message names the failing attribute.
        mlprod.ConfigurationError
            An argument is malformed (non-finite metric, unknown dataset type...).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> mv = reg.register("churn", {"w": [1, 2]}, params={"C": 0.5}, tags={"team": "risk"})
        >>> mv.ref, mv.params["C"], mv.serializer
        ('churn:1', 0.5, 'joblib')
        """
        _check_name(name)
        ser = resolve_serializer(serializer)
        self._serializers.setdefault(ser.name, ser)
        data = ser.dumps(model)
        artifact_digest = sha256_bytes(data)
        ext = str(getattr(ser, "extension", ser.name))
        filename = f"model.{ext}"
        body: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "name": name,
            "registered_by": actor if actor is not None else _default_actor(),
            "model_type": f"{type(model).__module__}.{type(model).__qualname__}",
            "serializer": ser.name,
            "artifacts": {filename: {"sha256": artifact_digest, "size": len(data)}},
            "params": _inputs.params(params),
            "metrics": _inputs.metrics(metrics),
            "datasets": _inputs.datasets(datasets),
            "signature": _inputs.signature(signature),
            "environment": environment(),
        }
        tag_map = _inputs.tags(tags)
        if not isinstance(description, str):
            raise ConfigurationError(
                "description must be a string", parameter="description", value=repr(description)
            )
        parent_refs = [self._parent(p) for p in parents]
        body["parents"] = parent_refs
        # Artifact first, metadata second: a crash in between leaves an orphan
        # file that verify() reports, never a version pointing at nothing.
        self._store.put(artifact_digest, data)
        t, sa = self._t, self._sa
        with self._sql.write() as w:
            latest = w.conn.execute(
                sa.select(sa.func.max(t.versions.c.version)).where(t.versions.c.name == name)
            ).scalar()
            version = int(latest or 0) + 1
            ts = self._clock.time()
            manifest = {**body, "version": version, "created_at": _iso(ts)}
            text = canonical_json(manifest).decode("utf-8")
            digest = sha256_bytes(text.encode("utf-8"))
            w.conn.execute(
                t.versions.insert().values(
                    name=name,
                    version=version,
                    digest=digest,
                    created_at=ts,
                    manifest=text,
                    tags=canonical_json(tag_map).decode("utf-8"),
                    description=description,
                )
            )
            if parent_refs:
                w.conn.execute(
                    t.parents.insert(),
                    [
                        {"child": digest, "parent_name": p["name"], "parent_version": p["version"]}
                        for p in parent_refs
                    ],
                )
            keys = _inputs.dataset_keys(body["datasets"])
            if keys:
                w.conn.execute(
                    t.inputs.insert(),
                    [{"digest": digest, "role": role, "dataset": key} for role, key in keys],
                )
            w.event(
                {
                    "event": "model.registered",
                    "name": name,
                    "version": version,
                    "digest": digest,
                    "actor": manifest["registered_by"],
                    "tags": tag_map,
                    "description": description,
                },
                ts=ts,
            )
        return ModelVersion._from_row(text, canonical_json(tag_map).decode("utf-8"), description)

    def _parent(self, ref: Any) -> dict[str, Any]:
        mv = self.get(*_split(ref))
        if isinstance(ref, ModelVersion) and ref.digest != mv.digest:
            raise ConfigurationError(
                f"parent {ref.ref} is not the version of that name in this registry (digest "
                f"{ref.digest[:12]}… here is {mv.digest[:12]}…): pass versions of this registry.",
                parameter="parents",
                value=ref.ref,
            )
        return {"name": mv.name, "version": mv.version, "digest": mv.digest}

    # -- reading ---------------------------------------------------------------------------

    def _select_version(self, name: str, ref: Any) -> Any:
        t, sa = self._t, self._sa
        v = t.versions
        cols = (v.c.manifest, v.c.tags, v.c.description, v.c.digest)
        if ref is None or ref == "latest":
            return sa.select(*cols).where(v.c.name == name).order_by(v.c.version.desc()).limit(1)
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return sa.select(*cols).where(v.c.name == name, v.c.version == int(ref))
        a = t.aliases
        return (
            sa.select(*cols)
            .select_from(a.join(v, sa.and_(v.c.name == a.c.name, v.c.version == a.c.version)))
            .where(a.c.name == name, a.c.alias == str(ref))
        )

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
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
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

        ``name`` may also be ``"name:ref"`` (``"churn:3"``, ``"churn:production"``).

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
        return ModelVersion._from_row(row.manifest, row.tags, row.description)

    def load(self, name: Any, version: int | str | None = None, *, serializer: Any = None) -> Any:
        """Load a model: verify its manifest and every artifact digest, then deserialise.

        Nothing is unpickled unless the bytes match the digest sealed into the
        version.

        Parameters
        ----------
        name:
            The model's name (or ``"name:ref"``, or a :class:`ModelVersion`).
        version:
            Version number, alias, or ``None``/``"latest"``.
        serializer:
            Override the recorded serializer (e.g. ``SkopsSerializer(trusted=[...])``).

        Raises
        ------
        mlprod.IntegrityError
            A stored file or the manifest changed since registration; the
            error names the file and both digests.
        mlprod.NotFound
            Unknown name, version or alias (with the closest existing ones).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": [1, 2]})
        >>> reg.load("churn", 1)
        {'w': [1, 2]}
        """
        name, version = _split(name, version)
        with self._sql.read() as conn:
            row = self._row(conn, name, version)
        text: str = row.manifest
        actual = sha256_bytes(text.encode("utf-8"))
        if actual != row.digest:
            raise IntegrityError(
                f"The manifest of {name} (digest {row.digest[:12]}…) was changed in the "
                f"database after registration (it now hashes to {actual[:12]}…). Refusing to "
                "load; run reg.verify() for the full report.",
                path=f"{self.location}#versions/{row.digest}",
                expected=row.digest,
                actual=actual,
            )
        manifest = json.loads(text)
        ser = self._serializer_for(manifest["serializer"], serializer)
        files = manifest["artifacts"]
        main = next(iter(files))
        data = self._read_artifact(manifest, main)
        for other in list(files)[1:]:
            self._read_artifact(manifest, other)
        return ser.loads(data)

    def _read_artifact(self, manifest: Mapping[str, Any], filename: str) -> bytes:
        expected = manifest["artifacts"][filename]["sha256"]
        where = self._where(expected)
        ref = f"{manifest['name']}:{manifest['version']}"
        try:
            data: bytes = self._store.get(expected)
        except KeyError:
            raise IntegrityError(
                f"Artifact {filename} of {ref} is missing: nothing at {where}. Restore it "
                "from a backup; reg.verify() lists every missing file.",
                path=where,
                expected=expected,
            ) from None
        actual = sha256_bytes(data)
        if actual != expected:
            raise IntegrityError(
                f"Artifact {filename} of {ref} at {where} does not match its recorded digest "
                f"(expected {expected[:12]}…, found {actual[:12]}…): the file changed after "
                "registration. Refusing to deserialise it; restore it from a backup.",
                path=where,
                expected=expected,
                actual=actual,
            )
        return data

    def _where(self, digest: str) -> str:
        where = getattr(self._store, "where", None)
        return str(where(digest)) if callable(where) else f"sha256:{digest}"

    def _serializer_for(self, recorded: str, override: Any) -> Any:
        if override is not None:
            return resolve_serializer(override)
        if recorded in self._serializers:
            return self._serializers[recorded]
        if recorded in ("joblib", "skops"):
            ser = resolve_serializer(recorded)
            self._serializers[recorded] = ser
            return ser
        from mlprod.errors import SerializationError

        raise SerializationError(
            f"This version was written by serializer {recorded!r}, which this process does not "
            "know. Pass serializer=<the same Serializer object> to load().",
            serializer=recorded,
        )

    def list_models(self) -> list[str]:
        """Every registered model name, sorted.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.list_models()
        ['churn']
        """
        t, sa = self._t, self._sa
        with self._sql.read() as conn:
            return sorted(r[0] for r in conn.execute(sa.select(t.versions.c.name).distinct()))

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> [v.version for v in reg.list_versions("churn")]
        [1, 2]
        """
        t, sa = self._t, self._sa
        v = t.versions
        with self._sql.read() as conn:
            rows = conn.execute(
                sa.select(v.c.manifest, v.c.tags, v.c.description)
                .where(v.c.name == name)
                .order_by(v.c.version)
            ).all()
            if not rows:
                raise self._not_found(conn, name, None)
        return [ModelVersion._from_row(*r) for r in rows]

    def search(
        self,
        name: str | None = None,
        *,
        tags: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[ModelVersion]:
        """Find versions by name (``*`` wildcards), tags and metric conditions.

        Parameters
        ----------
        name:
            Exact name or a pattern such as ``"churn-*"``; all models when omitted.
        tags:
            ``{key: value}`` that must all match (``value=None``: key present).
        metrics:
            ``{metric: condition}``; a condition is ``">= 0.8"``, ``"< 0.3"``,
            ``"== 1"``, a number (equality) or a callable on the value.
        order_by:
            ``"version"``, ``"created_at"`` or ``"metrics.<name>"``, ``-`` prefix for
            descending. Default: name, then version.
        limit:
            At most this many results.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}, metrics={"auc": 0.7})
        >>> _ = reg.register("churn", {"w": 2}, metrics={"auc": 0.9}, tags={"stage": "ok"})
        >>> [v.version for v in reg.search("churn", metrics={"auc": ">= 0.8"})]
        [2]
        """
        t, sa = self._t, self._sa
        v = t.versions
        query = sa.select(v.c.manifest, v.c.tags, v.c.description)
        if name is not None:
            if "*" in name or "?" in name:
                pattern = (
                    name.replace("\\", "\\\\")
                    .replace("%", "\\%")
                    .replace("_", "\\_")
                    .replace("*", "%")
                    .replace("?", "_")
                )
                query = query.where(v.c.name.like(pattern, escape="\\"))
            else:
                query = query.where(v.c.name == name)
        query = query.order_by(v.c.name, v.c.version)
        conditions = {k: _inputs.condition(k, c) for k, c in (metrics or {}).items()}
        with self._sql.read() as conn:
            rows = conn.execute(query).all()
        found: list[ModelVersion] = []
        for manifest_text, tags_text, description in rows:
            if tags:
                have = json.loads(tags_text)
                if any(
                    k not in have or (want is not None and have[k] != want)
                    for k, want in tags.items()
                ):
                    continue
            mv = ModelVersion._from_row(manifest_text, tags_text, description)
            if conditions:
                values = mv.metrics
                if any(k not in values or not cond(values[k]) for k, cond in conditions.items()):
                    continue
            found.append(mv)
        if order_by:
            found = _inputs.order(found, order_by)
        return found[:limit] if limit is not None else found

    # -- mutable annotations ---------------------------------------------------------------

    def _annotate(
        self, name: str, version: int | str, record: dict[str, Any], change: Any
    ) -> ModelVersion:
        name, version = _split(name, version)
        v = self._t.versions
        with self._sql.write() as w:
            row = self._row(w.conn, name, version)
            current = json.loads(row.manifest)
            tags = json.loads(row.tags)
            description = row.description
            tags, description = change(tags, description)
            tags_text = canonical_json(tags).decode("utf-8")
            w.conn.execute(
                v.update()
                .where(v.c.digest == row.digest)
                .values(tags=tags_text, description=description)
            )
            w.event(
                {**record, "name": name, "version": int(current["version"])}, ts=self._clock.time()
            )
        return ModelVersion._from_row(row.manifest, tags_text, description)

    def set_tag(
        self, name: str, version: int | str, key: str, value: Any, *, actor: str | None = None
    ) -> ModelVersion:
        """Set tag ``key`` on a version (logged as an event); return the updated version.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.set_tag("churn", 1, "reviewed", "yes").tags["reviewed"]
        'yes'
        """
        value = to_jsonable(value)
        who = actor if actor is not None else _default_actor()

        def change(tags: dict[str, Any], description: str) -> tuple[dict[str, Any], str]:
            return {**tags, str(key): value}, description

        record = {"event": "tag.set", "key": str(key), "value": value, "actor": who}
        return self._annotate(name, version, record, change)

    def delete_tag(
        self, name: str, version: int | str, key: str, *, actor: str | None = None
    ) -> ModelVersion:
        """Remove tag ``key`` from a version (logged); ``NotFound`` if it is not set.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}, tags={"tmp": "x"})
        >>> dict(reg.delete_tag("churn", 1, "tmp").tags)
        {}
        """
        who = actor if actor is not None else _default_actor()

        def change(tags: dict[str, Any], description: str) -> tuple[dict[str, Any], str]:
            if key not in tags:
                raise NotFound("tag", key, candidates=list(tags))
            return {k: v for k, v in tags.items() if k != key}, description

        record = {"event": "tag.deleted", "key": str(key), "actor": who}
        return self._annotate(name, version, record, change)

    def set_description(
        self, name: str, version: int | str, description: str, *, actor: str | None = None
    ) -> ModelVersion:
        """Replace a version's description (logged as an event).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.set_description("churn", 1, "baseline").description
        'baseline'
        """
        who = actor if actor is not None else _default_actor()

        def change(tags: dict[str, Any], _old: str) -> tuple[dict[str, Any], str]:
            return tags, str(description)

        record = {"event": "description.set", "description": str(description), "actor": who}
        return self._annotate(name, version, record, change)

    # -- aliases ---------------------------------------------------------------------------

    def _holder(self, conn: Any, name: str, alias: str) -> int | None:
        a = self._t.aliases
        return conn.execute(  # type: ignore[no-any-return]
            self._sa.select(a.c.version).where(a.c.name == name, a.c.alias == alias)
        ).scalar()

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | str,
        *,
        gates: Sequence[Any] = (),
        actor: str | None = None,
        reason: str = "",
    ) -> AliasChange:
        """Point ``alias`` at ``version`` once every gate passes; record who, why and the evidence.

        Each gate sees the candidate and the alias's current holder. If any
        fails, nothing moves and :class:`~mlprod.GateFailed` carries every
        verdict (the refusal is logged too); otherwise the move and all
        verdicts are written as one event.

        Parameters
        ----------
        name, alias:
            The model and the alias (``"production"``, ``"staging"``...).
        version:
            The version number (or another alias, or ``"latest"``) to point at.
        gates:
            Gate objects (see :mod:`mlprod.gates`); any callable
            ``gate(candidate, current, *, actor)`` returning a verdict or a bool.
        actor, reason:
            Who moves the alias and why (kept in the history).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}, metrics={"auc": 0.8}, actor="ana")
        >>> _ = reg.register("churn", {"w": 2}, metrics={"auc": 0.7}, actor="ana")
        >>> _ = reg.set_alias("churn", "production", 1, actor="bo")
        >>> try:
        ...     reg.set_alias("churn", "production", 2, actor="bo",
        ...                   gates=[mp.gates.beats_current("auc")])
        ... except mp.GateFailed as exc:
        ...     print(exc.failed[0].gate)
        beats_current(auc)
        """
        name = _check_name(_split(name, None)[0])
        _check_alias(alias)
        candidate = self.get(name, version)
        who = actor if actor is not None else _default_actor()
        t = self._t
        for _attempt in range(10):
            with self._sql.read() as conn:
                held = self._holder(conn, name, alias)
            current = self.get(name, held) if held is not None else None
            verdicts = [run_gate(g, candidate, current, who) for g in gates]
            records = [v.to_dict() for v in verdicts]
            failed = [v for v in verdicts if not v.passed]
            with self._sql.write() as w:
                if self._holder(w.conn, name, alias) != held:
                    continue  # moved while the gates ran: judge against the new holder
                ts = self._clock.time()
                if failed:
                    w.event(
                        {
                            "event": "alias.refused",
                            "name": name,
                            "alias": alias,
                            "version": candidate.version,
                            "current": held,
                            "actor": who,
                            "reason": reason,
                            "verdicts": records,
                        },
                        ts=ts,
                    )
                else:
                    seq = w.event(
                        {
                            "event": "alias.set",
                            "name": name,
                            "alias": alias,
                            "version": candidate.version,
                            "previous": held,
                            "actor": who,
                            "reason": reason,
                            "verdicts": records,
                        },
                        ts=ts,
                    )
                    a = t.aliases
                    w.conn.execute(a.delete().where(a.c.name == name, a.c.alias == alias))
                    w.conn.execute(
                        a.insert().values(
                            name=name, alias=alias, version=candidate.version, since=ts, seq=seq
                        )
                    )
                    w.conn.execute(
                        t.history.insert().values(
                            seq=seq,
                            name=name,
                            alias=alias,
                            version=candidate.version,
                            previous=held,
                            ts=ts,
                            actor=who,
                            reason=reason,
                            verdicts=canonical_json(records).decode("utf-8"),
                        )
                    )
            if failed:
                raise _gate_failed(name, alias, candidate.version, held, verdicts)
            return AliasChange(
                name,
                alias,
                candidate.version,
                held,
                dt.datetime.fromtimestamp(ts, dt.UTC),
                who,
                reason,
                tuple(records),
                seq,
            )
        raise ConfigurationError(
            f"Alias {name}@{alias} kept moving while its gates ran (10 attempts); retry later.",
            parameter="alias",
            value=alias,
        )

    def delete_alias(
        self, name: str, alias: str, *, actor: str | None = None, reason: str = ""
    ) -> AliasChange:
        """Remove ``alias`` (the removal is kept in its history and the log).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> _ = reg.set_alias("churn", "staging", 1)
        >>> reg.delete_alias("churn", "staging", reason="retired").deleted
        True
        """
        _check_alias(alias)
        who = actor if actor is not None else _default_actor()
        t = self._t
        with self._sql.write() as w:
            held = self._holder(w.conn, name, alias)
            if held is None:
                raise self._not_found(w.conn, name, alias)
            ts = self._clock.time()
            seq = w.event(
                {
                    "event": "alias.deleted",
                    "name": name,
                    "alias": alias,
                    "previous": held,
                    "actor": who,
                    "reason": reason,
                },
                ts=ts,
            )
            a = t.aliases
            w.conn.execute(a.delete().where(a.c.name == name, a.c.alias == alias))
            w.conn.execute(
                t.history.insert().values(
                    seq=seq,
                    name=name,
                    alias=alias,
                    version=None,
                    previous=held,
                    ts=ts,
                    actor=who,
                    reason=reason,
                    verdicts="[]",
                )
            )
        return AliasChange(
            name, alias, None, held, dt.datetime.fromtimestamp(ts, dt.UTC), who, reason, (), seq
        )

    def aliases(self, name: str) -> dict[str, int]:
        """Current aliases of ``name``: alias -> version.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> _ = reg.set_alias("churn", "production", 1)
        >>> reg.aliases("churn")
        {'production': 1}
        """
        a = self._t.aliases
        with self._sql.read() as conn:
            rows = conn.execute(
                self._sa.select(a.c.alias, a.c.version).where(a.c.name == name).order_by(a.c.alias)
            ).all()
        return {r.alias: int(r.version) for r in rows}

    def resolve(self, name: str, alias: str, *, at: Any = None) -> ModelVersion:
        """The version ``alias`` points to now, or pointed to at moment ``at``.

        Parameters
        ----------
        name, alias:
            The model and alias (``"latest"`` also works: the newest version then).
        at:
            A datetime (naive means local time), epoch seconds or ISO string.

        Raises
        ------
        mlprod.NotFound
            The alias did not exist (or had been deleted) at that moment.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> clock = mp.ManualClock(1_700_000_000)
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp(), clock=clock)
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> _ = reg.set_alias("churn", "production", 1); clock.advance(3600)
        >>> _ = reg.set_alias("churn", "production", 2)
        >>> reg.resolve("churn", "production", at=1_700_000_000 + 60).version
        1
        """
        if at is None:
            return self.get(name, alias)
        moment = _timestamp(at)
        t, sa = self._t, self._sa
        v = t.versions
        with self._sql.read() as conn:
            if alias == "latest":
                version = conn.execute(
                    sa.select(sa.func.max(v.c.version)).where(
                        v.c.name == name, v.c.created_at <= moment
                    )
                ).scalar()
                when = "registered"
            else:
                h = t.history
                version = conn.execute(
                    sa.select(h.c.version)
                    .where(h.c.name == name, h.c.alias == alias, h.c.ts <= moment)
                    .order_by(h.c.ts.desc(), h.c.seq.desc())
                    .limit(1)
                ).scalar()
                when = "set"
            if version is None:
                self._row(conn, name, None)  # unknown model: NotFound with suggestions
                raise NotFound(
                    "alias",
                    f"{name}@{alias}",
                    hint=f"It pointed to no version at {_iso(moment)} (not yet {when}, or "
                    f"deleted); see reg.alias_history({name!r}, {alias!r}).",
                )
            row = self._row(conn, name, int(version))
        return ModelVersion._from_row(row.manifest, row.tags, row.description)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        """Every move and deletion of ``alias`` (or of all of ``name``'s aliases), oldest first.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> _ = reg.set_alias("churn", "production", 1)
        >>> _ = reg.set_alias("churn", "production", 2, reason="better")
        >>> [(c.previous, c.version, c.reason) for c in reg.alias_history("churn", "production")]
        [(None, 1, ''), (1, 2, 'better')]
        """
        h = self._t.history
        query = self._sa.select(h).where(h.c.name == name)
        if alias is not None:
            query = query.where(h.c.alias == alias)
        with self._sql.read() as conn:
            rows = conn.execute(query.order_by(h.c.seq)).all()
        return [
            AliasChange(
                r.name,
                r.alias,
                r.version,
                r.previous,
                dt.datetime.fromtimestamp(r.ts, dt.UTC),
                r.actor,
                r.reason,
                tuple(json.loads(r.verdicts)),
                int(r.seq),
            )
            for r in rows
        ]

    # -- events, lineage, verification -----------------------------------------------------

    def events(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """The event log as dicts (``seq``, ``ts``, ``prev``, ``record``, ``hash``), oldest first.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> [e["record"]["event"] for e in reg.events()]
        ['model.registered']
        """
        e = self._t.events
        with self._sql.read() as conn:
            lines = [r[0] for r in conn.execute(self._sa.select(e.c.line).order_by(e.c.seq))]
        out = [json.loads(line) for line in lines]
        if name is not None:
            out = [x for x in out if x["record"].get("name") == name]
        return out

    def lineage(
        self, ref: Any, version: int | str | None = None, *, depth: int | None = None
    ) -> LineageGraph:
        """The lineage graph around a model version or a dataset.

        Parameters
        ----------
        ref:
            A :class:`ModelVersion`, a name (with ``version``), ``"name:ref"``,
            or a dataset (``DatasetVersion``, ``Fingerprint``, frame) to see
            which models were trained on it.
        depth:
            How many parent/child hops to follow (all when omitted).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> base = reg.register("churn", {"w": 1})
        >>> _ = reg.register("churn", {"w": 2}, parents=[base])
        >>> [n.id for n in reg.lineage(base).downstream()]
        ['model:churn:2']
        """
        from mlprod.models._graph import build_lineage

        with self._sql.read() as conn:
            if isinstance(ref, ModelVersion) or (isinstance(ref, str) and type(ref) is str):
                name, ver = _split(ref, version)
                row = self._row(conn, name, ver)
                return build_lineage(self, conn, root_row=row, depth=depth)
            described = _inputs.datasets({"data": ref})["data"]
            return build_lineage(self, conn, dataset=described, depth=depth)

    def verify(self, *, artifacts: bool = True) -> RegistryVerification:
        """Check the event chain, the tables against the chain, and every artifact digest.

        Reports exactly what is wrong: a changed, deleted or reordered event
        (and which), a version row or alias that differs from what the log
        says, a manifest edited in place, a missing or altered artifact file.
        Artifacts no version refers to are listed as ``orphans``.

        Parameters
        ----------
        artifacts:
            Also re-hash every artifact (reads every file).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.verify().ok
        True
        """
        from mlprod.models._check import check_tables

        t, sa = self._t, self._sa
        problems: list[Problem] = []
        with self._sql.read() as conn:
            lines = [
                r[0].encode("utf-8")
                for r in conn.execute(sa.select(t.events.c.line).order_by(t.events.c.seq))
            ]
            head_row = conn.execute(
                sa.select(t.meta.c.next_seq, t.meta.c.head).where(t.meta.c.id == 1)
            ).one()
            chain = verify_lines(lines)
            if not chain.ok:
                problems.append(Problem("event_chain", f"event {chain.first_bad}", chain.detail))
            elif (chain.records, chain.head) != (int(head_row.next_seq), str(head_row.head)):
                problems.append(
                    Problem(
                        "head_mismatch",
                        "events",
                        f"the log holds {chain.records} events ending in {chain.head[:12]}…, "
                        f"but the registry recorded {head_row.next_seq} ending in "
                        f"{str(head_row.head)[:12]}…: events at the end were deleted or added",
                    )
                )
            expected, replay_problems = replay(lines)
            problems += replay_problems
            versions, referenced, table_problems = check_tables(self, conn, expected)
            problems += table_problems
        checked = 0
        orphans: list[str] = []
        if artifacts:
            for digest, (ref, filename) in sorted(referenced.items()):
                checked += 1
                where = self._where(digest)
                try:
                    data = self._store.get(digest)
                except KeyError:
                    problems.append(
                        Problem("artifact_missing", where, f"{filename} of {ref} is missing")
                    )
                    continue
                actual = sha256_bytes(data)
                if actual != digest:
                    problems.append(
                        Problem(
                            "artifact_corrupt",
                            where,
                            f"{filename} of {ref} changed: expected sha256 {digest[:12]}…, "
                            f"found {actual[:12]}…",
                        )
                    )
            listing = getattr(self._store, "digests", None)
            if callable(listing):
                orphans = [self._where(d) for d in listing() if d not in referenced]
        return RegistryVerification(
            ok=not problems,
            events=chain.records,
            versions=versions,
            artifacts=checked,
            head=chain.head,
            problems=tuple(problems),
            orphans=tuple(orphans),
            chain=chain.to_dict(),
        )


def _gate_failed(
    name: str, alias: str, version: int, held: int | None, verdicts: list[Verdict]
) -> GateFailed:
    failed = [v for v in verdicts if not v.passed]
    lines = "; ".join(f"{v.gate}: {v.message}" for v in failed)
    holder = f"v{held}" if held is not None else "no holder"
    return GateFailed(
        f"{name}@{alias} stays at {holder}: {len(failed)} of {len(verdicts)} gate(s) refused "
        f"v{version} — {lines}. The verdicts' evidence is on this error (.verdicts) and in "
        "the registry's log.",
        verdicts=verdicts,
    )


def _split(name: Any, ref: Any = None) -> tuple[str, Any]:
    """(name, ref) from a ModelVersion, ``"name:ref"``, ``(name, ref)`` or separate values."""
    if isinstance(name, ModelVersion):
        return name.name, name.version if ref is None else ref
    if isinstance(name, tuple) and len(name) == 2 and ref is None:
        return str(name[0]), name[1]
    if isinstance(name, str) and ref is None and ":" in name:
        base, _, tail = name.partition(":")
        return base, int(tail) if tail.isdigit() else tail
    if not isinstance(name, str):
        raise ConfigurationError(
            f"Expected a model name, 'name:version' or a ModelVersion, got {type(name).__name__}",
            parameter="name",
            value=repr(name),
        )
    return name, ref
