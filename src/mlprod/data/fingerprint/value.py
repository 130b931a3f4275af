"""The :class:`Fingerprint` value: a hex string that knows what it covers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlprod._internal.render import Document, Rendered, Section, Table

__all__ = ["ALGORITHM", "Fingerprint"]

ALGORITHM = "mlprod-fp/2"


class Fingerprint(str, Rendered):
    """The content fingerprint of a table: a 32-character hex string with facts attached.

    It compares, hashes and prints as its hex value, so it can be a dict key,
    a file name or a string in JSON; the attributes say what it covers.

    Attributes
    ----------
    rows:
        Number of rows fingerprinted.
    columns:
        Column names, in the frame's order.
    algorithm:
        Versioned algorithm name (``"mlprod-fp/2"``); a change of the
        algorithm changes this name, never silently the values.
    schema:
        ``(name, canonical dtype)`` pairs, in the frame's order.
    ordered, include_index, columns_ordered:
        The options it was computed with (``include_index`` is ``index=``;
        ``str.index`` keeps its meaning).

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> fp = mp.fingerprint(pd.DataFrame({"a": [1, 2], "b": ["x", None]}))
    >>> len(fp), fp.rows, fp.columns
    (32, 2, ('a', 'b'))
    >>> fp.schema
    (('a', 'int64'), ('b', 'string'))
    """

    __module__ = "mlprod"

    __slots__ = ("_columns", "_facts")

    _columns: tuple[Any, ...]
    _facts: dict[str, Any]

    def __new__(
        cls,
        value: str,
        *,
        rows: int,
        columns: Sequence[Any],
        schema: Sequence[tuple[Any, str]],
        algorithm: str = ALGORITHM,
        ordered: bool = True,
        index: bool = False,
        columns_ordered: bool = True,
    ) -> Fingerprint:
        self = super().__new__(cls, value)
        self._columns = tuple(columns)
        self._facts = {
            "rows": int(rows),
            "schema": tuple((n, str(d)) for n, d in schema),
            "algorithm": algorithm,
            "ordered": bool(ordered),
            "index": bool(index),
            "columns_ordered": bool(columns_ordered),
        }
        return self

    @property
    def hex(self) -> str:
        """The plain hex value, as a ``str``."""
        return str.__str__(self)

    @property
    def rows(self) -> int:
        """Number of rows."""
        return int(self._facts["rows"])

    @property
    def columns(self) -> tuple[Any, ...]:
        """Column names in the frame's order."""
        return self._columns

    @property
    def schema(self) -> tuple[tuple[Any, str], ...]:
        """``(name, canonical dtype)`` pairs in the frame's order."""
        return tuple(self._facts["schema"])

    @property
    def algorithm(self) -> str:
        """The versioned algorithm name."""
        return str(self._facts["algorithm"])

    @property
    def ordered(self) -> bool:
        """Whether row order counts."""
        return bool(self._facts["ordered"])

    @property
    def include_index(self) -> bool:
        """Whether the index was included (``index=True``)."""
        return bool(self._facts["index"])

    @property
    def columns_ordered(self) -> bool:
        """Whether column order counts."""
        return bool(self._facts["columns_ordered"])

    def __str__(self) -> str:
        return self.hex

    def __repr__(self) -> str:
        return (
            f"Fingerprint('{self.hex}', rows={self.rows}, columns={len(self._columns)}, "
            f"algorithm='{self.algorithm}')"
        )

    def __reduce__(self) -> Any:
        # through the public class, so a pickle names only mlprod.Fingerprint
        return (Fingerprint.from_dict, (self.to_dict(),))

    def _document(self, **options: Any) -> Document:
        facts: dict[str, Any] = {
            "fingerprint": self.hex,
            "rows": f"{self.rows:,}",
            "algorithm": self.algorithm,
            "row order counts": "yes" if self.ordered else "no",
            "index included": "yes" if self.include_index else "no",
        }
        table = Table(["column", "dtype"], [[str(n), d] for n, d in self.schema])
        return Document("Fingerprint", facts=facts, sections=[Section("Schema", table=table)])

    def to_dict(self) -> dict[str, Any]:
        """The value and its facts as plain JSON-able data.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> mp.fingerprint(pd.DataFrame({"a": [1]})).to_dict()["schema"]
        [['a', 'int64']]
        """
        return {
            "fingerprint": self.hex,
            "rows": self.rows,
            "columns": [
                c if isinstance(c, str | int | float | bool | type(None)) else str(c)
                for c in self._columns
            ],
            "schema": [
                [n if isinstance(n, str | int | float | bool | type(None)) else str(n), d]
                for n, d in self.schema
            ],
            "algorithm": self.algorithm,
            "ordered": self.ordered,
            "index": self.include_index,
            "columns_ordered": self.columns_ordered,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        """Rebuild a :class:`Fingerprint` from :meth:`to_dict` output."""
        return cls(
            data["fingerprint"],
            rows=data["rows"],
            columns=data["columns"],
            schema=[tuple(p) for p in data["schema"]],
            algorithm=data.get("algorithm", ALGORITHM),
            ordered=data.get("ordered", True),
            index=data.get("index", False),
            columns_ordered=data.get("columns_ordered", True),
        )
