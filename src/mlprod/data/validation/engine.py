"""The engine that runs, writes and samples schemas on pandas, files and Dask.

:class:`~mlprod.data.validation.schema.Schema` declares; this module joins the
code that executes a declaration (the compiled :class:`~mlprod.data.validation.plan.Plan`
and the chunk, file and Dask sources), serialisation and hypothesis strategies
behind the :class:`~mlprod.data.validation.schema.Engine` protocol. The
``mlprod.data.validation`` package installs it when it loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mlprod.data.validation import serialize, sources, strategies
from mlprod.data.validation.plan import Plan, coerce_frame
from mlprod.data.validation.report import ValidationReport
from mlprod.data.validation.results import check_cap
from mlprod.data.validation.schema import Column, Schema

__all__ = ["PandasEngine"]


class PandasEngine:
    """Runs a schema on pandas frames, chunk streams, files and Dask frames.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> from mlprod.data.validation.engine import PandasEngine
    >>> engine = PandasEngine()
    >>> schema = mp.Schema({"x": mp.Column("int64")})
    >>> engine.validate(engine.compile(schema), pd.DataFrame({"x": [1]}), max_failures=None).ok
    True
    """

    def compile(self, schema: Schema) -> Plan:
        """Compile ``schema`` once into the plan that validates it."""
        return Plan(schema)

    def validate(self, compiled: Plan, data: Any, *, max_failures: int | None) -> ValidationReport:
        """Validate a DataFrame, an iterator of DataFrames or a Dask DataFrame."""
        cap = check_cap(max_failures)
        if not isinstance(data, pd.DataFrame):
            if type(data).__module__.startswith("dask"):
                return sources.validate_dask(compiled, data, max_failures=cap)
            if isinstance(data, Iterator):  # e.g. pd.read_csv(..., chunksize=...)
                return sources.validate_chunks(compiled, data, max_failures=cap)
        return compiled.validate(data, max_failures=cap)

    def validate_chunks(
        self,
        compiled: Plan,
        chunks: Iterable[pd.DataFrame],
        *,
        max_failures: int | None,
        progress: bool,
        total: int | None,
    ) -> ValidationReport:
        """Validate an iterable of frames as one frame."""
        return sources.validate_chunks(
            compiled, chunks, max_failures=max_failures, progress=progress, total=total
        )

    def validate_files(
        self,
        compiled: Plan,
        paths: str | Path | Sequence[str | Path],
        *,
        chunksize: int,
        max_failures: int | None,
        progress: bool,
        format: str | None,
        read_options: Mapping[str, Any] | None,
    ) -> ValidationReport:
        """Validate Parquet or CSV files chunk by chunk."""
        return sources.validate_files(
            compiled,
            paths,
            chunksize=chunksize,
            max_failures=max_failures,
            progress=progress,
            format=format,
            read_options=read_options,
        )

    def coerce_frame(self, schema: Schema, data: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``data`` with every typed column converted."""
        return coerce_frame(schema, data)

    def column_to_dict(self, column: Column) -> dict[str, Any]:
        """The column as plain data."""
        return serialize.column_to_dict(column)

    def schema_to_dict(self, schema: Schema) -> dict[str, Any]:
        """The schema as plain data."""
        return serialize.schema_to_dict(schema)

    def schema_from_dict(self, data: Mapping[str, Any]) -> Schema:
        """A schema rebuilt from plain data."""
        return serialize.schema_from_dict(data)

    def schema_to_json(self, schema: Schema, *, indent: int | None) -> str:
        """The schema as JSON text."""
        return serialize.schema_to_json(schema, indent=indent)

    def schema_from_json(self, text: str | bytes) -> Schema:
        """A schema read from JSON text."""
        return serialize.schema_from_json(text)

    def schema_to_yaml(self, schema: Schema) -> str:
        """The schema as YAML text."""
        return serialize.schema_to_yaml(schema)

    def schema_from_yaml(self, text: str | bytes) -> Schema:
        """A schema read from YAML text."""
        return serialize.schema_from_yaml(text)

    def strategy(self, schema: Schema, *, min_rows: int, max_rows: int) -> Any:
        """A hypothesis strategy of frames ``schema`` accepts."""
        return strategies.schema_strategy(schema, min_rows=min_rows, max_rows=max_rows)
