"""What a frame should look like: :class:`Schema` and :class:`Column`, as plain data.

A schema only *declares*; :mod:`mlprod.data.validation.plan` runs it on pandas, on
chunks of files and on Dask. It serialises to JSON and YAML
(:mod:`mlprod.data.validation.serialize`) and generates valid frames for property tests
(:mod:`mlprod.data.validation.strategies`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mlprod.data.validation import dtypes
from mlprod.data.validation.checks import check_name
from mlprod.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

    from mlprod.data.validation.report import ValidationReport

__all__ = ["Column", "Engine", "Schema", "use_engine"]


class Engine(Protocol):
    """What runs, writes and samples a declared schema.

    ``compile`` turns a schema into whatever the engine runs (cached on the
    schema); the other methods take that compiled form or the schema itself.
    """

    def compile(self, schema: Schema) -> Any: ...

    def validate(
        self, compiled: Any, data: Any, *, max_failures: int | None
    ) -> ValidationReport: ...

    def validate_chunks(
        self,
        compiled: Any,
        chunks: Iterable[pd.DataFrame],
        *,
        max_failures: int | None,
        progress: bool,
        total: int | None,
    ) -> ValidationReport: ...

    def validate_files(
        self,
        compiled: Any,
        paths: str | Path | Sequence[str | Path],
        *,
        chunksize: int,
        max_failures: int | None,
        progress: bool,
        format: str | None,
        read_options: Mapping[str, Any] | None,
    ) -> ValidationReport: ...

    def coerce_frame(self, schema: Schema, data: pd.DataFrame) -> pd.DataFrame: ...

    def column_to_dict(self, column: Column) -> dict[str, Any]: ...

    def schema_to_dict(self, schema: Schema) -> dict[str, Any]: ...

    def schema_from_dict(self, data: Mapping[str, Any]) -> Schema: ...

    def schema_to_json(self, schema: Schema, *, indent: int | None) -> str: ...

    def schema_from_json(self, text: str | bytes) -> Schema: ...

    def schema_to_yaml(self, schema: Schema) -> str: ...

    def schema_from_yaml(self, text: str | bytes) -> Schema: ...

    def strategy(self, schema: Schema, *, min_rows: int, max_rows: int) -> Any: ...


_ENGINES: list[Engine] = []


def use_engine(engine: Engine) -> None:
    """Make ``engine`` the one that runs, writes and samples every schema."""
    _ENGINES[:] = [engine]


def _engine() -> Engine:
    # mlprod.data.validation installs its engine on import, and importing this
    # module imports that package first, so the list is never empty here.
    return _ENGINES[0]


def _as_checks(checks: Any, *, where: str) -> tuple[Any, ...]:
    if checks is None:
        return ()
    if callable(checks):
        checks = [checks]
    out = tuple(checks)
    for check in out:
        if not callable(check):
            raise ConfigurationError(
                f"Check {check!r} in {where} is not callable: a check is a function returning "
                "a boolean mask (True = valid) or a bool, or one of mp.checks.",
                parameter="checks",
                value=repr(check),
            )
    return out


@dataclass(frozen=True)
class Column:
    """What one column must hold.

    Parameters
    ----------
    dtype:
        A dtype as you write it in pandas (``"int64"``, ``"Int64"``, ``"str"``,
        ``"category"``, ``"datetime64[ns, UTC]"``, ``"double[pyarrow]"``), a
        Python type, a numpy/pandas dtype, or ``None`` for any dtype.
    nullable:
        Whether missing values are allowed. Each missing cell of a column
        that is not nullable is a ``nullable`` failure.
    unique:
        Whether every value must occur once.
    required:
        Whether the column must be present (a missing required column is a
        ``column_in_frame`` failure).
    checks:
        Checks on the column's values: built-ins from :mod:`mlprod.checks`
        or any callable ``Series -> mask``.
    coerce:
        Convert the column to ``dtype`` before checking; values that do not
        convert are ``coerce`` failures.
    categories:
        For ``dtype="category"``: the allowed categories (values outside are
        ``categories`` failures).
    ordered:
        For categories: whether their order matters.
    description:
        Free text for people; carried through serialisation.

    Examples
    --------
    >>> import mlprod as mp
    >>> mp.Column("int64", checks=[mp.checks.in_range(0, 120)])
    Column('int64', checks=[checks.in_range(min_value=0, max_value=120)])
    >>> mp.Column("category", categories=["a", "b"], nullable=True).nullable
    True
    """

    dtype: Any = None
    _: KW_ONLY
    nullable: bool = False
    unique: bool = False
    required: bool = True
    checks: Sequence[Any] = ()
    coerce: bool = False
    categories: Sequence[Any] | None = None
    ordered: bool = False
    description: str | None = None

    def __post_init__(self) -> None:
        spec = self.dtype
        if spec is not None:
            import pandas as pd

            if isinstance(spec, pd.CategoricalDtype) and spec.categories is not None:
                if self.categories is None:
                    object.__setattr__(self, "categories", list(spec.categories))
                object.__setattr__(self, "ordered", bool(spec.ordered) or self.ordered)
            object.__setattr__(self, "dtype", dtypes.canonical_name(spec))
        if self.categories is not None:
            if self.dtype != "category":
                raise ConfigurationError(
                    f"categories= applies to dtype 'category', not {self.dtype!r}: use "
                    "mp.checks.isin([...]) to restrict other dtypes.",
                    parameter="categories",
                    value=list(self.categories),
                )
            object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "checks", _as_checks(self.checks, where="a Column"))
        for check in self.checks:
            if getattr(check, "scope", "column") == "frame":
                raise ConfigurationError(
                    f"{check_name(check)} checks several columns: put it in "
                    "Schema(checks=[...]), not in a Column.",
                    parameter="checks",
                    value=check_name(check),
                )

    def __repr__(self) -> str:
        parts = [repr(self.dtype)]
        defaults = Column()
        for name in ("nullable", "unique", "required", "coerce", "categories", "ordered"):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                parts.append(f"{name}={value!r}")
        if self.checks:
            parts.append(f"checks=[{', '.join(repr(c) for c in self.checks)}]")
        if self.description:
            parts.append(f"description={self.description!r}")
        return f"Column({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """The column as plain data (raises for a check that cannot serialise).

        Examples
        --------
        >>> import mlprod as mp
        >>> mp.Column("str", nullable=True).to_dict()["nullable"]
        True
        """
        return _engine().column_to_dict(self)


@dataclass(frozen=True, eq=True)
class Schema:
    """What a DataFrame must look like: columns, dtypes, checks, and rules across rows.

    ``validate`` never raises on bad data: it returns a
    :class:`~mlprod.ValidationReport` listing every failing cell. Build one
    by hand, with :func:`mlprod.infer_schema`, or from JSON/YAML.

    Parameters
    ----------
    columns:
        Column name -> :class:`Column` (a dtype alone is short for
        ``Column(dtype)``).
    strict:
        Whether columns not in the schema are failures (``column_in_schema``).
    ordered:
        Whether the frame's columns must come in the schema's order.
    coerce:
        Convert every column with a dtype before checking (per-column
        ``coerce`` also works).
    unique:
        Column names whose *combination* must not repeat.
    checks:
        Frame-level checks (``DataFrame -> row mask or bool``), such as
        :func:`mlprod.checks.compare_columns`.
    name:
        A label shown in reports.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> schema = mp.Schema({
    ...     "age": mp.Column("int64", checks=[mp.checks.in_range(0, 120)]),
    ...     "city": mp.Column("str", nullable=True),
    ... }, strict=True)
    >>> report = schema.validate(pd.DataFrame({"age": [30, 150], "city": ["Oslo", None]}))
    >>> report.ok, report.failures[["column", "check", "index", "value"]].values.tolist()
    (False, [['age', 'in_range(0, 120)', 1, 150]])
    """

    columns: Mapping[str, Column] = field(default_factory=dict)
    _: KW_ONLY
    strict: bool = False
    ordered: bool = False
    coerce: bool = False
    unique: Sequence[str] | None = None
    checks: Sequence[Any] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        given: Any = self.columns
        if not isinstance(given, Mapping):
            raise ConfigurationError(
                f"Schema columns must be a mapping of name -> Column, got {type(given).__name__}.",
                parameter="columns",
            )
        cols: dict[str, Column] = {}
        for key, col in given.items():
            if not isinstance(col, Column):
                try:
                    col = Column(col)
                except ConfigurationError as exc:
                    raise ConfigurationError(
                        f"Column {key!r}: {exc.message}", parameter=exc.parameter, value=exc.value
                    ) from None
            cols[str(key)] = col
        object.__setattr__(self, "columns", _FrozenColumns(cols))
        if self.unique is not None:
            unique = (self.unique,) if isinstance(self.unique, str) else tuple(self.unique)
            object.__setattr__(self, "unique", unique or None)
        object.__setattr__(self, "checks", _as_checks(self.checks, where="a Schema"))

    def __hash__(self) -> int:
        return hash((tuple(self.columns), self.strict, self.ordered, self.name))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self.columns.items())
        opts = [
            f"{n}={getattr(self, n)!r}"
            for n in ("strict", "ordered", "coerce", "unique", "name")
            if getattr(self, n) not in (False, None)
        ]
        if self.checks:
            opts.append(f"checks=[{', '.join(repr(c) for c in self.checks)}]")
        return f"Schema({{{inner}}}{''.join(', ' + o for o in opts)})"

    def __getstate__(self) -> dict[str, Any]:
        # The compiled plan is a cache; each process rebuilds its own.
        state = dict(self.__dict__)
        state.pop("_plan", None)
        # a plain dict, so a pickle names only public classes
        state["columns"] = dict(self.columns)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["columns"] = _FrozenColumns(state["columns"])
        self.__dict__.update(state)

    # -------------------------------------------------------------- execution

    @functools.cached_property
    def _plan(self) -> Any:
        return _engine().compile(self)

    def validate(self, data: Any, *, max_failures: int | None = None) -> ValidationReport:
        """Check ``data`` against the schema; return every failure (never raises on bad data).

        Parameters
        ----------
        data:
            A pandas DataFrame; an iterator of DataFrames (such as
            ``pd.read_csv(path, chunksize=...)``, validated chunk by chunk as
            in :meth:`validate_chunks`); or a Dask DataFrame (validated
            partition by partition; needs the ``dask`` extra).
        max_failures:
            Keep at most this many failing cells in ``report.failures``;
            counts per check stay exact.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> schema = mp.Schema({"x": mp.Column("float64", checks=[mp.checks.ge(0)])})
        >>> report = schema.validate(pd.DataFrame({"x": [1.0, -2.0, -3.0]}), max_failures=1)
        >>> report.n_failures, report.failures["index"].tolist()
        (2, [1])
        """
        return _engine().validate(self._plan, data, max_failures=max_failures)

    def validate_chunks(
        self,
        chunks: Iterable[pd.DataFrame],
        *,
        max_failures: int | None = None,
        progress: bool = False,
        total: int | None = None,
    ) -> ValidationReport:
        """Validate an iterable of DataFrames as one frame, holding one chunk at a time.

        The report equals validating the concatenation (uniqueness and order
        checks look across chunks). Row labels are taken from each chunk's
        index, so give chunks a continuing index (as ``pandas.read_csv``
        with ``chunksize`` does) if labels should be global.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> schema = mp.Schema({"id": mp.Column("int64", unique=True)})
        >>> chunks = [pd.DataFrame({"id": [1, 2]}), pd.DataFrame({"id": [2]}, index=[2])]
        >>> schema.validate_chunks(chunks).failures["index"].tolist()
        [1, 2]
        """
        return _engine().validate_chunks(
            self._plan, chunks, max_failures=max_failures, progress=progress, total=total
        )

    def validate_files(
        self,
        paths: str | Path | Sequence[str | Path],
        *,
        chunksize: int = 250_000,
        max_failures: int | None = None,
        progress: bool = True,
        format: str | None = None,
        read_options: Mapping[str, Any] | None = None,
    ) -> ValidationReport:
        """Validate Parquet or CSV files chunk by chunk, as if they were one frame.

        Memory holds one chunk (plus the checked column for uniqueness
        checks). Row labels are positions across all files, as in
        ``pd.concat([...], ignore_index=True)``. CSV dtypes are inferred per
        chunk by pandas; pin them with ``read_options={"dtype": {...}}`` when
        a chunk could read differently from the whole file.

        Parameters
        ----------
        paths:
            One path or several; read in the order given.
        chunksize:
            Rows per chunk (CSV) or per batch (Parquet).
        max_failures:
            As in :meth:`validate`.
        progress:
            Show a tqdm progress bar over rows.
        format:
            ``"parquet"`` or ``"csv"``; guessed from the suffix when omitted.
        read_options:
            Extra keyword arguments for ``pandas.read_csv``.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> pd.DataFrame({"x": [1, -1]}).to_csv(path, index=False)
        >>> schema = mp.Schema({"x": mp.Column("int64", checks=[mp.checks.ge(0)])})
        >>> schema.validate_files([path], progress=False).failures["index"].tolist()
        [1]
        """
        return _engine().validate_files(
            self._plan,
            paths,
            chunksize=chunksize,
            max_failures=max_failures,
            progress=progress,
            format=format,
            read_options=read_options,
        )

    def coerce_frame(self, data: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of ``data`` with columns converted to their schema dtypes.

        Every column with a dtype converts (whatever ``coerce`` says); values
        that cannot convert become missing — :meth:`validate` with
        ``coerce=True`` reports them.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> schema = mp.Schema({"n": mp.Column("Int64")})
        >>> schema.coerce_frame(pd.DataFrame({"n": ["1", "x"]}))["n"].tolist()
        [1, <NA>]
        """
        return _engine().coerce_frame(self, data)

    # ---------------------------------------------------------- serialisation

    def to_dict(self) -> dict[str, Any]:
        """The schema as plain data (what ``to_json``/``to_yaml`` write).

        Examples
        --------
        >>> import mlprod as mp
        >>> mp.Schema({"a": mp.Column("int64")}).to_dict()["columns"]["a"]["dtype"]
        'int64'
        """
        return _engine().schema_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Rebuild a schema from :meth:`to_dict` output.

        Examples
        --------
        >>> import mlprod as mp
        >>> s = mp.Schema({"a": mp.Column("int64")})
        >>> mp.Schema.from_dict(s.to_dict()) == s
        True
        """
        return _engine().schema_from_dict(data)

    def to_json(self, *, indent: int | None = 2) -> str:
        """Serialise to JSON; every built-in check and option round-trips.

        A custom check cannot be written; a :class:`~mlprod.SerializationError`
        names it.

        Examples
        --------
        >>> import mlprod as mp
        >>> s = mp.Schema({"a": mp.Column("int64", checks=[mp.checks.ge(0)])})
        >>> mp.Schema.from_json(s.to_json()) == s
        True
        """
        return _engine().schema_to_json(self, indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> Schema:
        """Read a schema written by :meth:`to_json` (bad input raises ConfigurationError).

        Examples
        --------
        >>> import mlprod as mp
        >>> mp.Schema.from_json('{"columns": {"a": {"dtype": "str"}}}').columns["a"].dtype
        'str'
        """
        return _engine().schema_from_json(text)

    def to_yaml(self) -> str:
        """Serialise to YAML (the same content as :meth:`to_json`).

        Examples
        --------
        >>> import mlprod as mp
        >>> print(mp.Schema({"a": mp.Column("int64")}).to_yaml().splitlines()[0])
        columns:
        """
        return _engine().schema_to_yaml(self)

    @classmethod
    def from_yaml(cls, text: str | bytes) -> Schema:
        """Read a schema written by :meth:`to_yaml` (or by hand).

        Examples
        --------
        >>> import mlprod as mp
        >>> mp.Schema.from_yaml("columns:\\n  a:\\n    dtype: int64\\n").columns["a"].dtype
        'int64'
        """
        return _engine().schema_from_yaml(text)

    # ---------------------------------------------------------------- testing

    def strategy(self, *, min_rows: int = 0, max_rows: int = 20) -> Any:
        """A hypothesis strategy of DataFrames this schema accepts (extra ``testing``).

        Values are generated to satisfy the built-in checks directly, not
        filtered; frame-level and custom checks are met by filtering, so
        keep those few.

        Examples
        --------
        >>> import mlprod as mp
        >>> schema = mp.Schema({"p": mp.Column("float64", checks=[mp.checks.in_range(0, 1)])})
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10)
        ... @given(schema.strategy(max_rows=5))
        ... def test_scores_are_probabilities(df):
        ...     assert schema.validate(df).ok
        >>> test_scores_are_probabilities()
        """
        return _engine().strategy(self, min_rows=min_rows, max_rows=max_rows)


class _FrozenColumns(dict[str, Column]):
    """A dict that refuses changes, so a schema's compiled plan stays true to it."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Schema columns are read-only: build a new Schema instead")

    __setitem__ = __delitem__ = _refuse
    update = pop = popitem = clear = setdefault = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenColumns, (dict(self),))


# Reported, documented and pickled under the public path. Set after the class,
# not in its body: dataclasses read the string annotation ``KW_ONLY`` in the
# namespace of ``__module__``.
Column.__module__ = "mlprod"
Schema.__module__ = "mlprod"
