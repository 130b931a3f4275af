"""Validate data that does not sit in one pandas frame: chunks, files, Dask.

Each chunk or partition runs through the same compiled plan as a whole
frame; :func:`~mlprod.data.validation.results.merge` then makes one report
equal to validating everything at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlprod._internal.lazy import optional_import
from mlprod.data.validation.report import ValidationReport
from mlprod.data.validation.results import ChunkResult, check_cap, merge
from mlprod.errors import ConfigurationError

if TYPE_CHECKING:
    from mlprod.data.validation.plan import Plan

__all__ = ["validate_chunks", "validate_dask", "validate_files"]


def _progress(total: int | None, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, disable=not enabled, desc="validating")


def validate_chunks(
    plan: Plan,
    chunks: Iterable[pd.DataFrame],
    *,
    max_failures: int | None = None,
    progress: bool = False,
    total: int | None = None,
) -> ValidationReport:
    """Validate chunks one at a time and merge; see :meth:`mlprod.Schema.validate_chunks`."""
    cap = check_cap(max_failures)
    results: list[ChunkResult] = []
    with _progress(total, progress) as bar:
        for number, chunk in enumerate(chunks):
            if not isinstance(chunk, pd.DataFrame):
                raise ConfigurationError(
                    f"Chunk {number} is a {type(chunk).__name__}, not a pandas DataFrame.",
                    parameter="chunks",
                    value=type(chunk).__name__,
                )
            results.append(plan.run(chunk, cap=cap, chunk=number, deferred=True))
            bar.update(len(chunk))
    if not results:  # no chunk, no columns to judge: an empty, passing report
        return ValidationReport(0, (), cap, plan.schema.name)
    return merge(results, cap=cap, name=plan.schema.name)


def _guess_format(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in ("parquet", "csv"):
            raise ConfigurationError(
                f"Unknown format {format!r}: use 'parquet' or 'csv'.",
                parameter="format",
                value=format,
            )
        return format
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if ".csv" in suffixes or ".tsv" in suffixes:
        return "csv"
    raise ConfigurationError(
        f"Cannot tell the format of {str(path)!r} from its name: pass format='parquet' "
        "or format='csv'.",
        parameter="format",
        value=str(path),
    )


def _read_chunks(
    paths: Sequence[Path], *, chunksize: int, format: str | None, read_options: Mapping[str, Any]
) -> Iterator[pd.DataFrame]:
    offset = 0
    for path in paths:
        kind = _guess_format(path, format)
        if kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=chunksize):
                frame = pa.Table.from_batches([batch]).to_pandas()
                if isinstance(frame.index, pd.RangeIndex):
                    frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                yield frame
            continue
        options = dict(read_options)
        if path.suffix.lower() == ".tsv":
            options.setdefault("sep", "\t")
        with pd.read_csv(path, chunksize=chunksize, **options) as reader:
            for frame in reader:
                if isinstance(frame.index, pd.RangeIndex):
                    frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                yield frame


def _total_rows(paths: Sequence[Path], format: str | None) -> int | None:
    total = 0
    for path in paths:
        if _guess_format(path, format) != "parquet":
            return None
        import pyarrow.parquet as pq

        total += pq.ParquetFile(path).metadata.num_rows
    return total


def validate_files(
    plan: Plan,
    paths: str | Path | Sequence[str | Path],
    *,
    chunksize: int = 250_000,
    max_failures: int | None = None,
    progress: bool = True,
    format: str | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Validate Parquet/CSV files chunk by chunk; see :meth:`mlprod.Schema.validate_files`."""
    if isinstance(paths, str | Path):
        paths = [paths]
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ConfigurationError(
                f"No such file {str(path)!r} to validate.", parameter="paths", value=str(path)
            )
    if not isinstance(chunksize, int) or chunksize < 1:
        raise ConfigurationError(
            f"chunksize must be a positive integer, got {chunksize!r}.",
            parameter="chunksize",
            value=repr(chunksize),
        )
    total = _total_rows(files, format)
    chunks = _read_chunks(
        files, chunksize=chunksize, format=format, read_options=read_options or {}
    )
    return validate_chunks(plan, chunks, max_failures=max_failures, progress=progress, total=total)


def _run_partition(plan: Plan, frame: pd.DataFrame, number: int, cap: int | None) -> ChunkResult:
    return plan.run(frame, cap=cap, chunk=number, deferred=True)


def validate_dask(plan: Plan, data: Any, *, max_failures: int | None = None) -> ValidationReport:
    """Validate a Dask DataFrame partition by partition on the active scheduler.

    Each partition is validated where it lives; only the failures (and, for
    uniqueness checks, the checked column's hashes) travel back to be merged.
    """
    dask = optional_import("dask", feature="validating a Dask DataFrame")
    parts = data.to_delayed()
    tasks = [
        dask.delayed(_run_partition)(plan, part, number, max_failures)
        for number, part in enumerate(parts)
    ]
    results = dask.compute(*tasks)
    return merge(list(results), cap=max_failures, name=plan.schema.name)
