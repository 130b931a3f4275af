"""The model registry: sealed versions, aliases with history, gates, lineage, verification."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlprod._internal.canonical import canonical_json, sha256_bytes
from mlprod._internal.environment import environment
from mlprod.errors import (
    ConfigurationError,
    IntegrityError,
    NotFound,
    SerializationError,
    StorageError,
)
from mlprod.models import _inputs
from mlprod.models._aliases import AliasOps
from mlprod.models._core import _check_name, _iso, _split, _text, _who
from mlprod.models._lifecycle import LifecycleOps
from mlprod.models._queries import QueryOps
from mlprod.models._trust import check_policy, check_registration
from mlprod.models.serializers import resolve_serializer
from mlprod.models.storage.artifacts import put_artifact
from mlprod.models.version import MANIFEST_FORMAT, ModelVersion
from mlprod.protocols import Serializer

__all__ = ["ModelRegistry"]


class ModelRegistry(AliasOps, LifecycleOps, QueryOps):
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

    __module__ = "mlprod"

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
        parents: Iterable[ModelVersion | str] = (),
        description: str = "",
        serializer: str | Serializer | None = None,
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
        _text(description, "description")
        # Cheap argument checks first, so a typo fails before the model is serialised.
        body: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "name": name,
            "registered_by": _who(actor),
            "model_type": f"{type(model).__module__}.{type(model).__qualname__}",
            "params": _inputs.params(params),
            "metrics": _inputs.metrics(metrics),
            "signature": _inputs.signature(signature),
            "parents": [self._parent(p) for p in _parent_list(parents)],
            "environment": environment(),
        }
        tag_map = _inputs.tags(tags)
        ser = resolve_serializer(serializer)
        check_policy(self._trusted, [ser.name], None)
        body["datasets"] = _inputs.datasets(datasets)
        data = ser.dumps(model)
        self._serializers[ser.name] = ser
        artifact_digest = sha256_bytes(data)
        filename = f"model.{getattr(ser, 'extension', ser.name)}"
        body["serializer"] = ser.name
        body["artifacts"] = {filename: {"sha256": artifact_digest, "size": len(data)}}
        parent_refs = body["parents"]
        # Artifact first, metadata second: a crash in between leaves an orphan
        # file that verify() reports, never a version pointing at nothing.
        put_artifact(self._store, artifact_digest, data, self._where(artifact_digest))
        t, sa = self._t, self._sa
        with self._sql.write() as w:
            latest = w.conn.execute(
                sa.select(sa.func.max(t.versions.c.version)).where(t.versions.c.name == name)
            ).scalar()
            version = int(latest or 0) + 1
            ts = w.moment(self._now())
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
            seq = w.event(
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
            w.conn.execute(
                t.lifecycle.insert().values(digest=digest, registered_seq=seq, state="live")
            )
        return ModelVersion._from_row(
            text, canonical_json(tag_map).decode("utf-8"), description, digest
        )

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

    def load(
        self,
        name: str | ModelVersion,
        version: int | str | None = None,
        *,
        serializer: str | Serializer | None = None,
    ) -> Any:
        """Load a model: verify it against its sealed registration, then deserialise.

        Before reading any bytes, the version must match the event that
        registered it on the chain (intact, same manifest digest, and on a
        keyed registry a valid MAC), and its serializer must be one the
        registry trusts (``trusted_serializers=`` / ``safe=True``). Then every
        artifact must match the digest sealed into the manifest. See the
        threat model in the registry guide for what each check stops.

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
            A stored file, the manifest or the registration event changed
            since registration (the error names what and both digests), or
            the bytes are not in the format the serializer reads.
        mlprod.UntrustedFormat
            The version's (or the override's) serializer is outside the
            registry's trusted set; nothing was read.
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
            # Refuses a manifest changed since registration.
            mv = ModelVersion._from_row(row.manifest, row.tags, row.description, row.digest)
            if check_registration(self, conn, mv.name, mv.version, mv.digest) == "deleted":
                raise self._deleted(mv)
        ser = self._serializer_for(mv.serializer, serializer)
        check_policy(self._trusted, dict.fromkeys([mv.serializer, ser.name]), mv.ref)
        files = [self._read_artifact(mv, filename) for filename in mv.artifacts]
        return ser.loads(files[0])

    def _read_artifact(self, mv: ModelVersion, filename: str) -> bytes:
        expected = mv.artifacts[filename]["sha256"]
        where = self._where(expected)
        ref = mv.ref
        try:
            data: bytes = self._store.get(expected)
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise StorageError(
                f"Cannot read artifact {filename} of {ref} from {where}: {reason}. Check that "
                "the storage is reachable and readable, then load again.",
                path=where,
                operation="read artifact",
                reason=reason,
            ) from exc
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

    def _serializer_for(self, recorded: str, override: str | Serializer | None) -> Serializer:
        if override is not None:
            return resolve_serializer(override)
        if recorded in self._serializers:
            return self._serializers[recorded]
        if recorded in ("joblib", "skops"):
            ser: Serializer = resolve_serializer(recorded)
            self._serializers[recorded] = ser
            return ser
        raise SerializationError(
            f"This version was written by serializer {recorded!r}, which this process does not "
            "know. Pass serializer=<the same Serializer object> to load().",
            serializer=recorded,
        )

    # -- mutable annotations ---------------------------------------------------------------

    def _annotate(
        self, name: str, version: int | str, record: dict[str, Any], change: Any
    ) -> ModelVersion:
        name, version = _split(name, version)
        v = self._t.versions
        with self._sql.write() as w:
            row = self._row(w.conn, name, version)
            current = ModelVersion._from_row(row.manifest, row.tags, row.description, row.digest)
            tags, description = change(dict(current.tags), current.description)
            tags_text = canonical_json(tags).decode("utf-8")
            w.conn.execute(
                v.update()
                .where(v.c.digest == row.digest)
                .values(tags=tags_text, description=description)
            )
            w.event({**record, "name": name, "version": current.version}, ts=w.moment(self._now()))
        return ModelVersion._from_row(row.manifest, tags_text, description, row.digest)

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
        value = _inputs.json_value(value, f"tags[{key!r}]", f"tags.{key}")
        who = _who(actor)

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
        who = _who(actor)

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
        who = _who(actor)

        _text(description, "description")

        def change(tags: dict[str, Any], _old: str) -> tuple[dict[str, Any], str]:
            return tags, description

        record = {"event": "description.set", "description": description, "actor": who}
        return self._annotate(name, version, record, change)


def _parent_list(parents: Any) -> list[Any]:
    if isinstance(parents, str | ModelVersion) or not isinstance(parents, Iterable):
        raise ConfigurationError(
            f"parents={parents!r} is not a list of versions: pass parents=[...] even for one "
            "parent (e.g. parents=['churn:1'] or parents=[mv]).",
            parameter="parents",
            value=repr(parents)[:200],
        )
    return list(parents)
