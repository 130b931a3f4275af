"""One reference grammar for datasets and models: :class:`Ref` and :func:`parse_ref`.

A reference names one version of a dataset or a model::

    name            the latest version
    name:version    that version number (an integer, 1 or more)
    name@alias      the version a movable alias points at

``name@latest`` is read as ``name``. For datasets the old spelling
``name@3`` (digits after ``@``) still reads as ``name:3`` with a
:class:`DeprecationWarning` that names the new spelling.

Examples
--------
>>> from mlprod._internal.refs import parse_ref
>>> parse_ref("train:3")
Ref(name='train', version=3, alias=None)
>>> str(parse_ref("churn@production", kind="model"))
'churn@production'
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from dataclasses import dataclass
from typing import Literal

from mlprod.errors import ConfigurationError

__all__ = ["MAX_VERSION", "Ref", "outside_stacklevel", "parse_ref"]

Kind = Literal["dataset", "model"]

# Python's int() takes any length; stores and databases hold 64-bit integers.
MAX_VERSION = 2**63 - 1

# Used with fullmatch only: "$" would also match before a final newline.
_NAMES: dict[str, re.Pattern[str]] = {
    "dataset": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"),
    "model": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]{0,199}"),
}
_ALIASES: dict[str, re.Pattern[str]] = {
    "dataset": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"),
    "model": re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}"),
}
_VERSION = re.compile(r"[1-9][0-9]*")
_DIGITS = re.compile(r"[0-9]+")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_GRAMMAR = "'name' (the latest), 'name:version' (a number) or 'name@alias'"
_RULES = {
    ("dataset", "name"): "letters, digits, '.', '_' or '-', starting with a letter or digit, "
    "at most 128 characters",
    ("dataset", "alias"): "letters, digits, '.', '_' or '-', starting with a letter or digit, "
    "at most 128 characters",
    ("model", "name"): "letters, digits, '_', '.', '-' or '/', starting with a letter or digit, "
    "at most 200 characters",
    ("model", "alias"): "letters, digits, '_', '.' or '-', starting with a letter or '_', "
    "at most 200 characters",
}


@dataclass(frozen=True)
class Ref:
    """A parsed reference: a name and at most one of a version number or an alias.

    Neither means the latest version. ``str(ref)`` is the canonical spelling,
    which :func:`parse_ref` reads back to an equal ``Ref``.

    Examples
    --------
    >>> from mlprod._internal.refs import Ref
    >>> str(Ref("train", version=2)), str(Ref("train", alias="golden")), str(Ref("train"))
    ('train:2', 'train@golden', 'train')
    """

    name: str
    version: int | None = None
    alias: str | None = None

    def __post_init__(self) -> None:
        if self.version is not None and self.alias is not None:
            raise ConfigurationError(
                f"A reference names a version or an alias, not both "
                f"({self.name}:{self.version} and {self.name}@{self.alias}).",
                parameter="ref",
                value=(self.version, self.alias),
            )
        if self.version is not None and not 1 <= self.version <= MAX_VERSION:
            raise ConfigurationError(
                f"Version {self.version} of {self.name!r} is out of range: versions run from 1 "
                f"to {MAX_VERSION}.",
                parameter="version",
                value=self.version,
            )
        if self.alias is not None and (self.alias == "latest" or _DIGITS.fullmatch(self.alias)):
            raise ConfigurationError(
                f"{self.alias!r} cannot be an alias: 'latest' always means the newest version "
                "and a number names a version. Pick a word such as 'golden' or 'production'.",
                parameter="alias",
                value=self.alias,
            )

    @property
    def is_latest(self) -> bool:
        """True when the reference names neither a version nor an alias."""
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def outside_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside mlprod.

    Call it from the function that calls :func:`warnings.warn`. Python's
    default filters show a :class:`DeprecationWarning` only when it is
    attributed to ``__main__``, so it must name the user's line, however
    deep inside mlprod the old spelling was read.
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def _malformed(text: str, kind: str, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"Malformed {kind} reference {text!r}: {why}. Write {_GRAMMAR}, e.g. "
        f"{'train:3' if kind == 'dataset' else 'churn:3'} or "
        f"{'train@golden' if kind == 'dataset' else 'churn@production'}.",
        parameter="ref",
        value=text,
    )


def _check_part(text: str, kind: str, what: str, value: str, pattern: re.Pattern[str]) -> str:
    if not pattern.fullmatch(value):
        raise _malformed(text, kind, f"the {what} {value!r} is not {_RULES[kind, what]}")
    return value


def parse_ref(text: str, *, kind: Kind = "dataset", stacklevel: int | None = None) -> Ref:
    """Read a reference: ``name``, ``name:version`` or ``name@alias``.

    Parameters
    ----------
    text:
        The reference. The whole text must match (no spaces, no newline).
    kind:
        ``"dataset"`` or ``"model"``: which name and alias rules apply.
        Only datasets still read the old ``name@3`` (with a warning).
    stacklevel:
        Passed to :func:`warnings.warn` for the deprecated spelling; by
        default the warning points at the first caller outside mlprod.

    Returns
    -------
    Ref

    Raises
    ------
    ConfigurationError
        When ``text`` does not follow the grammar.

    Examples
    --------
    >>> from mlprod._internal.refs import parse_ref
    >>> parse_ref("train"), parse_ref("train@latest") == parse_ref("train")
    (Ref(name='train', version=None, alias=None), True)
    >>> parse_ref("train@golden").alias
    'golden'
    """
    if kind not in _NAMES:
        raise ConfigurationError(
            f"kind={kind!r} is not 'dataset' or 'model'.", parameter="kind", value=kind
        )
    if not isinstance(text, str):
        raise ConfigurationError(
            f"A {kind} reference is a string such as 'train:3', not {type(text).__name__}.",
            parameter="ref",
            value=repr(text),
        )
    colon, at = text.find(":"), text.find("@")
    if colon >= 0 and at >= 0:
        raise _malformed(text, kind, "it has both ':' and '@'")
    if colon < 0 and at < 0:
        return Ref(_check_part(text, kind, "name", text, _NAMES[kind]))
    cut = colon if colon >= 0 else at
    name, tail = text[:cut], text[cut + 1 :]
    _check_part(text, kind, "name", name, _NAMES[kind])
    if colon >= 0:
        if not _VERSION.fullmatch(tail):
            raise _malformed(
                text, kind, f"the version {tail!r} after ':' is not a whole number of 1 or more"
            )
        return Ref(name, version=_version(text, kind, tail))
    if tail == "latest":
        return Ref(name)
    if _DIGITS.fullmatch(tail):
        if kind != "dataset" or not _VERSION.fullmatch(tail):
            raise _malformed(text, kind, f"'@' names an alias, and {tail!r} is a number")
        number = _version(text, kind, tail)
        warnings.warn(
            f"{text!r}: '@' followed by a number is the old spelling of a version; write "
            f"'{name}:{number}' ('@' names an alias).",
            DeprecationWarning,
            stacklevel=outside_stacklevel() if stacklevel is None else stacklevel,
        )
        return Ref(name, version=number)
    return Ref(name, alias=_check_part(text, kind, "alias", tail, _ALIASES[kind]))


def _version(text: str, kind: str, digits: str) -> int:
    number = int(digits)
    if number > MAX_VERSION:
        raise _malformed(text, kind, f"the version {digits} is larger than {MAX_VERSION}")
    return number
