"""Built-in, vectorised checks: ``mp.checks.in_range(0, 120)``, ``mp.checks.str_matches(...)``.

Every check here is a frozen value: it compares equal to a check built with
the same arguments, has a readable ``repr``, serialises with ``to_dict()``
and round-trips through :meth:`mlprod.Schema.to_json`. Called on a
``pandas.Series`` (or, for frame-level checks, a ``DataFrame``) it returns a
boolean mask, ``True`` where the value is valid — the
:class:`~mlprod.protocols.Check` protocol, which any function of your own
satisfies too.

Missing values always pass a check: whether a column may hold them is the
column's ``nullable`` option, reported once as ``nullable``.

Inside :meth:`~mlprod.Schema.validate` the checks skip the Series and work
on the column's array: whether anything fails is decided first with a
reduction (``min``/``max``, an Arrow ``all``), and the mask of *where* is
computed only when something does.

Examples
--------
>>> import pandas as pd, mlprod as mp
>>> mp.checks.in_range(0, 120)(pd.Series([3, 150])).tolist()
[True, False]
>>> mp.checks.str_matches(r"[A-Z]{2}\\d+")
checks.str_matches('[A-Z]{2}\\\\d+')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mlprod.data.validation.checks.base import _REGISTRY, BuiltinCheck
from mlprod.data.validation.checks.rows import compare_columns, monotonic, no_duplicates, unique
from mlprod.data.validation.checks.text import (
    str_contains,
    str_endswith,
    str_length,
    str_matches,
    str_startswith,
)
from mlprod.data.validation.checks.values import (
    datetime_between,
    eq,
    finite,
    ge,
    gt,
    in_range,
    isin,
    le,
    lt,
    ne,
    notin,
)
from mlprod.errors import ConfigurationError

__all__ = [
    "BuiltinCheck",
    "builtin_kinds",
    "check_name",
    "compare_columns",
    "custom",
    "datetime_between",
    "eq",
    "finite",
    "from_dict",
    "ge",
    "gt",
    "in_range",
    "isin",
    "le",
    "lt",
    "monotonic",
    "ne",
    "no_duplicates",
    "notin",
    "str_contains",
    "str_endswith",
    "str_length",
    "str_matches",
    "str_startswith",
    "unique",
]


# ---------------------------------------------------------------------------- user checks


class custom:  # noqa: N801
    """Give your own check function a name (and say whether it checks a frame).

    Any callable returning a boolean mask (``True`` = valid) or one bool is a
    check already; wrapping it gives failures a readable name. A custom
    check cannot be serialised: :meth:`~mlprod.Schema.to_json` says so by name.

    Parameters
    ----------
    fn:
        The function: ``Series -> mask`` for a column, ``DataFrame -> mask``
        for a frame.
    name:
        How failures name it (default: the function's ``__name__``).

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> even = mp.checks.custom(lambda s: s % 2 == 0, name="even")
    >>> even.name, even(pd.Series([2, 3])).tolist()
    ('even', [True, False])
    """

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable[[Any], Any], *, name: str | None = None) -> None:
        if not callable(fn):
            raise ConfigurationError(
                f"custom() needs a callable, got {type(fn).__name__}.", parameter="fn"
            )
        self.fn = fn
        self.name = name or getattr(fn, "__name__", None) or repr(fn)

    def __call__(self, data: Any, /) -> Any:
        """Run the wrapped function."""
        return self.fn(data)

    def __repr__(self) -> str:
        return f"checks.custom({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, custom) and (self.fn, self.name) == (other.fn, other.name)

    def __hash__(self) -> int:
        return hash((custom, self.name))


def check_name(check: Any) -> str:
    """The name failures give ``check``: its ``name``, else ``__name__``, else ``repr``."""
    name = getattr(check, "name", None)
    if isinstance(name, str) and name:
        return name
    return getattr(check, "__name__", None) or repr(check)


def from_dict(spec: dict[str, Any]) -> BuiltinCheck:
    """Rebuild a built-in check from :meth:`BuiltinCheck.to_dict` output.

    Examples
    --------
    >>> import mlprod as mp
    >>> mp.checks.from_dict({"check": "in_range", "min_value": 0, "max_value": 9})
    checks.in_range(min_value=0, max_value=9)
    """
    params = dict(spec)
    kind = params.pop("check", None)
    try:
        cls = _REGISTRY[str(kind)]
    except KeyError:
        raise ConfigurationError(
            f"Unknown check {kind!r}. Built-in checks: {', '.join(sorted(_REGISTRY))}.",
            parameter="check",
            value=kind,
        ) from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigurationError(
            f"Bad parameters for check {kind!r}: {exc}.", parameter=str(kind), value=params
        ) from None


def builtin_kinds() -> Iterable[str]:
    """The serialised names of every built-in check."""
    return sorted(_REGISTRY)


# The check classes report, document and pickle under the public namespace
# of checks, whichever module here defines them.
for _check in (
    BuiltinCheck,
    custom,
    compare_columns,
    monotonic,
    no_duplicates,
    unique,
    datetime_between,
    eq,
    finite,
    ge,
    gt,
    in_range,
    isin,
    le,
    lt,
    ne,
    notin,
    str_contains,
    str_endswith,
    str_length,
    str_matches,
    str_startswith,
):
    _check.__module__ = "mlprod.data.checks"
