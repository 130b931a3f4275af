"""What every built-in check shares: a frozen value with a name, a ``repr``, a plain form.

:class:`BuiltinCheck` holds what the checks of :mod:`mlprod.checks` have in
common; each subclass names itself with ``kind``, which is how a serialised
schema finds it again (:func:`mlprod.checks.from_dict`).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlprod.data.validation.kernels import null_mask

__all__ = ["BuiltinCheck"]

_REGISTRY: dict[str, type[BuiltinCheck]] = {}


def _plain(value: Any) -> Any:
    """Normalise a parameter so equal checks compare equal and serialise the same."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, _dt.datetime | np.datetime64) and not isinstance(value, pd.Timestamp):
        return pd.Timestamp(value)
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index):
        items = [_plain(v) for v in value]
        if isinstance(value, set | frozenset):
            items = sorted(items, key=repr)
        return tuple(items)
    return value


@dataclass(frozen=True, repr=False)
class BuiltinCheck:
    """Common behaviour of the built-in checks: name, ``repr``, ``to_dict``, Series call.

    Subclasses are frozen dataclasses whose fields are the check's parameters;
    ``kind`` is the name that identifies them in a serialised schema.

    Examples
    --------
    >>> import mlprod as mp
    >>> mp.checks.ge(0).to_dict()
    {'check': 'ge', 'value': 0}
    """

    kind: ClassVar[str] = ""
    #: ``"column"`` checks get one column; ``"frame"`` checks the whole frame.
    scope: ClassVar[str] = "column"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _plain(getattr(self, f.name)))

    def _params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def name(self) -> str:
        """How failures name this check: ``in_range(0, 120)``."""
        args = ", ".join(repr(v) for v in self._params().values() if v is not None)
        return f"{self.kind}({args})"

    def __repr__(self) -> str:
        args = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is MISSING and f.default_factory is MISSING:
                args.append(repr(value))
            elif value != f.default:
                args.append(f"{f.name}={value!r}")
        return f"checks.{self.kind}({', '.join(args)})"

    def to_dict(self) -> dict[str, Any]:
        """The check as plain data: ``{"check": kind, **parameters}`` (defaults left out)."""
        out: dict[str, Any] = {"check": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is MISSING or value != f.default:
                out[f.name] = value
        return out

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        """Mask of failing cells of a column array, or ``None`` when all pass.

        ``null`` is the column's missing-value mask (``None`` if it has none);
        missing cells never fail.
        """
        raise TypeError(f"{type(self).__name__} is a frame-level check")

    def __call__(self, data: Any, /) -> Any:
        """Apply the check to a Series (or DataFrame); return the validity mask."""
        if not isinstance(data, pd.Series):
            raise TypeError(f"{self.name} checks a pandas Series, got {type(data).__name__}")
        values = data.array
        bad = self.failures(values, null_mask(values))
        ok = np.ones(len(data), dtype=bool) if bad is None else ~bad
        return pd.Series(ok, index=data.index, name=data.name)
