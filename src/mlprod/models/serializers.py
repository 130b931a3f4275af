"""Serializers: a model to bytes and back (the Serializer protocol).

``JoblibSerializer`` is the default (any picklable object, fast);
``SkopsSerializer`` (extra ``secure``) loads without running arbitrary code,
accepting only types you trust. The registry records each version's
serializer name so the same one reads it back.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

from mlprod.errors import IntegrityError, SerializationError
from mlprod.protocols import Serializer

__all__ = ["JoblibSerializer", "SkopsSerializer", "find_unpicklable", "resolve_serializer"]


def _type_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _children(obj: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            yield f"[{key!r}]", value
    elif isinstance(obj, list | tuple | set | frozenset):
        for i, value in enumerate(obj):
            yield f"[{i}]", value
    else:
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            for key, value in state.items():
                yield f".{key}", value
        for slot in getattr(type(obj), "__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                yield f".{slot}", getattr(obj, slot)


def _pickles(obj: Any) -> bool:
    try:
        pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return False
    return True


def find_unpicklable(obj: Any, *, root: str = "model", max_depth: int = 8) -> tuple[str, Any]:
    """Find the deepest attribute path under ``obj`` that fails to pickle.

    Returns ``(path, object)``, e.g. ``("model.steps[1][1].callback", <lambda>)``;
    ``(root, obj)`` when no single part is to blame.

    Examples
    --------
    >>> import threading
    >>> from mlprod.models.serializers import find_unpicklable
    >>> class Model:
    ...     def __init__(self):
    ...         self.coef = [1.0]
    ...         self.lock = threading.Lock()
    >>> find_unpicklable(Model())[0]
    'model.lock'
    """
    path, current = root, obj
    seen: set[int] = set()
    for _ in range(max_depth):
        if id(current) in seen:
            break
        seen.add(id(current))
        for suffix, child in _children(current):
            if not _pickles(child):
                path, current = path + suffix, child
                break
        else:
            break
    return path, current


class JoblibSerializer:
    """Serialise with joblib (pickle with efficient numpy arrays): the default.

    Loading a pickle runs code chosen by whoever wrote the bytes; the registry
    checks every artifact digest before it loads, so only bytes that were
    registered are ever unpickled. Use :class:`SkopsSerializer` when the
    writer is not trusted.

    Parameters
    ----------
    compress:
        joblib compression level, 0 (none, fastest) to 9.

    Examples
    --------
    >>> from mlprod.models.serializers import JoblibSerializer
    >>> s = JoblibSerializer()
    >>> s.loads(s.dumps({"coef": [1, 2]}))
    {'coef': [1, 2]}
    """

    __module__ = "mlprod"

    name = "joblib"
    extension = "joblib"

    def __init__(self, *, compress: int = 0) -> None:
        self.compress = compress

    def dumps(self, obj: Any) -> bytes:
        """Serialise ``obj``; a failure names the attribute that cannot be pickled."""
        import joblib

        buf = io.BytesIO()
        try:
            joblib.dump(obj, buf, compress=self.compress)
        except Exception as exc:
            path, culprit = find_unpicklable(obj)
            raise SerializationError(
                f"Cannot serialise {_type_name(obj)} with joblib: {path} "
                f"({_type_name(culprit)}) cannot be pickled ({exc}). Remove or replace that "
                "attribute before registering (lambdas, open files, locks and connections "
                "do not pickle), or register with a serializer that handles it.",
                obj_type=_type_name(obj),
                serializer=self.name,
            ) from exc
        return buf.getvalue()

    def loads(self, data: bytes) -> Any:
        """Rebuild the object from joblib bytes."""
        import joblib

        try:
            return joblib.load(io.BytesIO(data))
        except Exception as exc:
            raise SerializationError(
                f"joblib could not load the model ({type(exc).__name__}: {exc}). The bytes "
                "verified, so the environment differs: install the package versions recorded "
                "in the version's environment.",
                serializer=self.name,
            ) from exc

    def __repr__(self) -> str:
        return f"JoblibSerializer(compress={self.compress})"


class SkopsSerializer:
    """Serialise with skops: loading never runs arbitrary code (extra ``secure``).

    Only types that skops trusts by default (numpy, scipy, scikit-learn) and
    the ones listed in ``trusted`` are rebuilt; anything else raises
    :class:`~mlprod.SerializationError` listing the untrusted types.

    Parameters
    ----------
    trusted:
        Extra type names (``"mypkg.MyTransformer"``) to accept when loading.

    Examples
    --------
    >>> from mlprod.models.serializers import SkopsSerializer
    >>> s = SkopsSerializer()
    >>> s.loads(s.dumps({"coef": [1, 2]}))
    {'coef': [1, 2]}
    """

    __module__ = "mlprod"

    name = "skops"
    extension = "skops"

    def __init__(self, *, trusted: Iterable[str] = ()) -> None:
        self.trusted = tuple(trusted)

    def _sio(self) -> Any:
        from mlprod._internal.lazy import optional_import

        return optional_import("skops.io", feature="the skops serializer", extra="secure")

    def dumps(self, obj: Any) -> bytes:
        """Serialise ``obj`` to skops bytes."""
        sio = self._sio()
        try:
            data: bytes = sio.dumps(obj)
        except Exception as exc:
            path, culprit = find_unpicklable(obj)
            raise SerializationError(
                f"Cannot serialise {_type_name(obj)} with skops: {exc}. The first part "
                f"that also fails to pickle is {path} ({_type_name(culprit)}).",
                obj_type=_type_name(obj),
                serializer=self.name,
            ) from exc
        return data

    def loads(self, data: bytes) -> Any:
        """Rebuild the object, refusing types that are not trusted."""
        sio = self._sio()
        if not data.startswith(b"PK"):
            raise _not_skops(data, "it is not a zip archive")
        try:
            found = sio.get_untrusted_types(data=data)
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
            raise _not_skops(data, f"{type(exc).__name__}: {exc}") from None
        untrusted = [t for t in found if t not in self.trusted]
        if untrusted:
            raise SerializationError(
                f"skops refuses to load untrusted types {untrusted}. If you trust them, "
                f"pass serializer=SkopsSerializer(trusted={untrusted!r}) to load().",
                serializer=self.name,
            )
        return sio.loads(data, trusted=list(self.trusted) or None)

    def __repr__(self) -> str:
        return f"SkopsSerializer(trusted={list(self.trusted)!r})"


def _not_skops(data: bytes, why: str) -> IntegrityError:
    kind = "a pickle" if data[:1] == b"\x80" else "not a skops file"
    return IntegrityError(
        f"The bytes given to the skops serializer are {kind} ({why}), so nothing was loaded. "
        "The artifact was replaced, or the version was recorded with the wrong serializer; "
        "run reg.verify() and restore the artifact from a backup.",
        path="skops artifact",
    )


_BUILTIN: dict[str, type[JoblibSerializer] | type[SkopsSerializer]] = {
    "joblib": JoblibSerializer,
    "skops": SkopsSerializer,
}


def resolve_serializer(spec: Any) -> Serializer:
    """Turn ``None``, a name (``"joblib"``, ``"skops"``) or a Serializer into a Serializer."""
    if spec is None:
        return JoblibSerializer()
    if isinstance(spec, str):
        try:
            return _BUILTIN[spec]()
        except KeyError:
            from mlprod.errors import ConfigurationError

            raise ConfigurationError(
                f"Unknown serializer {spec!r}: use 'joblib', 'skops' or an object with "
                "name, dumps(obj) and loads(data).",
                parameter="serializer",
                value=spec,
            ) from None
    missing = [a for a in ("name", "dumps", "loads") if not hasattr(spec, a)]
    if missing:
        from mlprod.errors import ConfigurationError

        raise ConfigurationError(
            f"serializer {spec!r} lacks {missing}: a Serializer has name, dumps(obj) "
            "and loads(data).",
            parameter="serializer",
            value=repr(spec),
        )
    found: Serializer = spec
    return found
