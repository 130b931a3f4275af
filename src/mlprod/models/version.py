"""Sealed model versions, alias changes, and the manifest a version's id is taken over."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mlprod._internal import render
from mlprod._internal.canonical import canonical_json, sha256_bytes
from mlprod.models._frozen import freeze, thaw

__all__ = ["MANIFEST_FORMAT", "AliasChange", "ModelVersion", "manifest_digest"]

MANIFEST_FORMAT = "mlprod.model-version/1"


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """The SHA-256 identifying a version: over the canonical JSON of its manifest.

    Key order does not matter (canonical JSON sorts keys); any changed value
    changes the digest.

    Examples
    --------
    >>> from mlprod.models.version import manifest_digest
    >>> manifest_digest({"a": 1, "b": 2}) == manifest_digest({"b": 2, "a": 1})
    True
    """
    return sha256_bytes(canonical_json(manifest))


def _short(digest: str) -> str:
    return digest[:12] + "…"


def _claimed_ref(manifest_text: str) -> str:
    # For the message only: a changed manifest's name and version are not to be trusted.
    try:
        manifest = json.loads(manifest_text)
        return f"{manifest['name']}:{manifest['version']} "
    except (ValueError, KeyError, TypeError):
        return ""


@dataclass(frozen=True, eq=False)
class ModelVersion(render.Rendered):
    """One registered, sealed model version.

    Everything in :attr:`manifest` is sealed by :attr:`digest` (its SHA-256);
    only :attr:`tags` and :attr:`description` may change later, and each
    change is an event in the registry's log. Satisfies
    :class:`mlprod.protocols.ModelRef`.

    Attributes
    ----------
    name, version:
        The registered name and its version number (1, 2, ...).
    digest:
        SHA-256 over the manifest: the version's identity (also :attr:`id`).
    manifest:
        Artifact digests, params, metrics, signature, datasets, parents,
        environment, who registered it and when.
    tags, description:
        The mutable annotations as of when this object was read.

    Examples
    --------
    >>> import mlprod as mp, tempfile
    >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
    >>> mv = reg.register("churn", {"coef": [0.5]}, metrics={"auc": 0.91})
    >>> mv.version, mv.metrics["auc"], len(mv.digest)
    (1, 0.91, 64)
    """

    __module__ = "mlprod"

    name: str
    version: int
    digest: str
    manifest: Mapping[str, Any] = field(repr=False)
    tags: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        # Sealed facts cannot be edited from outside, at any depth.
        object.__setattr__(self, "manifest", freeze(self.manifest))
        object.__setattr__(self, "tags", freeze(self.tags))

    @classmethod
    def _from_row(
        cls, manifest_text: str, tags_text: str, description: str, digest: str
    ) -> ModelVersion:
        """Rebuild a version read from the database, refusing one whose manifest changed."""
        actual = sha256_bytes(manifest_text.encode("utf-8"))
        try:
            if actual != digest:
                raise ValueError("digest mismatch")
            manifest = json.loads(manifest_text)
            tags = json.loads(tags_text)
            name, version = manifest["name"], int(manifest["version"])
        except (ValueError, KeyError, TypeError):
            from mlprod.errors import IntegrityError

            what = (
                f"its manifest now hashes to {_short(actual)}"
                if actual != digest
                else "its tags are not JSON"
            )
            raise IntegrityError(
                f"The stored record of {_claimed_ref(manifest_text)}(sealed as {_short(digest)}) "
                f"was changed in the database after registration: {what}. Refusing to use it; "
                "run reg.verify() for the full report.",
                path=f"versions/{digest}",
                expected=digest,
                actual=actual,
            ) from None
        return cls(
            name=name,
            version=version,
            digest=digest,
            manifest=manifest,
            tags=tags,
            description=description,
        )

    # -- sealed facts ----------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The version's identity: same as :attr:`digest`."""
        return self.digest

    @property
    def ref(self) -> str:
        """``"name:version"``, accepted wherever a version is asked for."""
        return f"{self.name}:{self.version}"

    @property
    def created_at(self) -> dt.datetime:
        """When it was registered (UTC)."""
        return dt.datetime.fromisoformat(self.manifest["created_at"])

    @property
    def registered_by(self) -> str | None:
        """Who registered it (the ``actor`` given to ``register``)."""
        return self.manifest.get("registered_by")

    @property
    def params(self) -> Mapping[str, Any]:
        """Training parameters."""
        return MappingProxyType(self.manifest.get("params", {}))

    @property
    def metrics(self) -> Mapping[str, float]:
        """Evaluation metrics."""
        return MappingProxyType(self.manifest.get("metrics", {}))

    @property
    def datasets(self) -> Mapping[str, Mapping[str, Any]]:
        """Input datasets by role: kind, name, version, fingerprint, rows."""
        return MappingProxyType(self.manifest.get("datasets", {}))

    @property
    def parents(self) -> tuple[Mapping[str, Any], ...]:
        """Models this one derives from: name, version, digest each."""
        return tuple(self.manifest.get("parents", ()))

    @property
    def artifacts(self) -> Mapping[str, Mapping[str, Any]]:
        """Files of the version: file name -> ``{"sha256", "size"}``."""
        return MappingProxyType(self.manifest["artifacts"])

    @property
    def serializer(self) -> str:
        """Name of the serializer that wrote the model (``"joblib"``, ``"skops"``, ...)."""
        return str(self.manifest["serializer"])

    @property
    def model_type(self) -> str:
        """Qualified class name of the registered object."""
        return str(self.manifest.get("model_type", ""))

    @property
    def environment(self) -> Mapping[str, Any]:
        """Python, platform, package versions and git state at registration."""
        return MappingProxyType(self.manifest.get("environment", {}))

    @property
    def signature_json(self) -> Mapping[str, Any] | None:
        """The stored signature as plain JSON: ``{"inputs": ..., "outputs": ...}``."""
        sig = self.manifest.get("signature")
        return MappingProxyType(sig) if sig else None

    @functools.cached_property
    def signature(self) -> Any:
        """The input :class:`mlprod.Schema`, rebuilt from its JSON (``None`` if none)."""
        return self._schema("inputs")

    @functools.cached_property
    def output_signature(self) -> Any:
        """The output :class:`mlprod.Schema`, if one was registered."""
        return self._schema("outputs")

    def _schema(self, part: str) -> Any:
        sig = self.manifest.get("signature") or {}
        if sig.get(part) is None:
            return None
        from mlprod.data.validation import Schema

        return Schema.from_json(json.dumps(thaw(sig[part])))

    # -- presentation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data: identity, the full manifest, tags and description."""
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "manifest": json.loads(canonical_json(self.manifest)),
            "tags": dict(self.tags),
            "description": self.description,
        }

    def _document(self, **options: Any) -> render.Document:
        facts = {
            "digest": self.digest,
            "created": self.created_at.isoformat(timespec="seconds"),
            "registered by": self.registered_by,
            "model type": self.model_type,
            "serializer": self.serializer,
        }
        if self.description:
            facts["description"] = self.description
        sections = []
        for title, data in (
            ("Metrics", self.metrics),
            ("Params", self.params),
            ("Tags", self.tags),
        ):
            if data:
                rows: list[list[Any]] = [
                    [k, json.dumps(thaw(v)) if not isinstance(v, str) else v]
                    for k, v in data.items()
                ]
                sections.append(render.Section(title, table=render.Table(["key", "value"], rows)))
        if self.datasets:
            rows = [
                [
                    role,
                    d.get("name"),
                    d.get("version"),
                    str(d.get("fingerprint", ""))[:16],
                    d.get("rows"),
                ]
                for role, d in self.datasets.items()
            ]
            sections.append(
                render.Section(
                    "Datasets",
                    table=render.Table(["role", "name", "version", "fingerprint", "rows"], rows),
                )
            )
        if self.parents:
            rows = [[p["name"], p["version"], _short(p["digest"])] for p in self.parents]
            sections.append(
                render.Section("Parents", table=render.Table(["name", "version", "digest"], rows))
            )
        return render.Document(f"Model {self.name} v{self.version}", None, facts, sections)

    def __repr__(self) -> str:
        metrics = dict(self.metrics)
        extra = f", metrics={metrics!r}" if metrics else ""
        if self.tags:
            extra += f", tags={dict(self.tags)!r}"
        return (
            f"ModelVersion(name={self.name!r}, version={self.version}, "
            f"digest={_short(self.digest)!r}{extra})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelVersion):
            return NotImplemented
        return (self.digest, dict(self.tags), self.description) == (
            other.digest,
            dict(other.tags),
            other.description,
        )

    def __hash__(self) -> int:
        return hash(self.digest)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Read-only mapping views do not pickle; rebuild them on the other side
        # so versions travel to worker processes and through copy.deepcopy.
        # The public class itself rebuilds it, so pickles name mlprod.ModelVersion.
        return (
            ModelVersion,
            (
                self.name,
                self.version,
                self.digest,
                thaw(self.manifest),
                thaw(self.tags),
                self.description,
            ),
        )


def _rebuild(
    name: str,
    version: int,
    digest: str,
    manifest: dict[str, Any],
    tags: dict[str, Any],
    description: str,
) -> ModelVersion:
    """Read pickles written before versions pickled through their public class."""
    return ModelVersion(name, version, digest, manifest, tags, description)


@dataclass(frozen=True)
class AliasChange(render.Rendered):
    """One move (or deletion) of an alias, with who, why, when and the gates' evidence.

    Attributes
    ----------
    name, alias:
        The model and the alias.
    version:
        The version the alias points to after the change; ``None`` when deleted.
    previous:
        The version it pointed to before, or ``None``.
    at:
        When it happened (UTC).
    actor, reason:
        Who moved it and why.
    verdicts:
        Every gate's verdict as plain data (gate, passed, evidence, message).
    seq:
        The event's position in the registry's log.

    Examples
    --------
    >>> import mlprod as mp, tempfile
    >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
    >>> mv = reg.register("churn", {"coef": [0.5]})
    >>> change = reg.set_alias("churn", "production", 1, actor="ana", reason="first")
    >>> change.version, change.previous, change.actor
    (1, None, 'ana')
    """

    __module__ = "mlprod"

    name: str
    alias: str
    version: int | None
    previous: int | None
    at: dt.datetime
    actor: str | None
    reason: str
    # Plain dicts do not hash; the other fields identify the change.
    verdicts: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    seq: int = -1

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdicts", freeze(tuple(self.verdicts)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (
            AliasChange,
            (
                self.name,
                self.alias,
                self.version,
                self.previous,
                self.at,
                self.actor,
                self.reason,
                tuple(thaw(v) for v in self.verdicts),
                self.seq,
            ),
        )

    @property
    def deleted(self) -> bool:
        """``True`` when this change removed the alias."""
        return self.version is None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "name": self.name,
            "alias": self.alias,
            "version": self.version,
            "previous": self.previous,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
            "verdicts": [thaw(v) for v in self.verdicts],
            "seq": self.seq,
        }

    def _document(self, **options: Any) -> render.Document:
        rows = [[v.get("gate"), v.get("passed"), v.get("message", "")] for v in self.verdicts]
        target = "deleted" if self.version is None else f"v{self.version}"
        doc = render.Document(
            f"{self.name}@{self.alias} → {target}",
            None,
            {
                "previous": self.previous,
                "at": self.at.isoformat(timespec="seconds"),
                "actor": self.actor,
                "reason": self.reason,
            },
            [render.Section("Gates", table=render.Table(["gate", "passed", "message"], rows))]
            if rows
            else [],
        )
        return doc

    def __repr__(self) -> str:
        target = "deleted" if self.version is None else self.version
        return (
            f"AliasChange({self.name}@{self.alias}: {self.previous} -> {target}, "
            f"at={self.at.isoformat(timespec='seconds')}, actor={self.actor!r}, "
            f"reason={self.reason!r})"
        )
