"""Fingerprint data that is not one in-memory frame: files read chunk by chunk.

Each file is streamed in batches (Parquet and Arrow IPC by record batch, CSV
and JSON lines by ``chunksize``); each batch contributes its
:class:`~mlprod.data.fingerprint.PartialFingerprint`, and the states merge in
file order into exactly the fingerprint of the concatenated frame, with
memory bounded by one batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from mlprod.data.fingerprint.compute import Fingerprint, PartialFingerprint
from mlprod.errors import ConfigurationError, NotFound

__all__ = ["FORMATS", "fingerprint_files", "iter_file_chunks"]

FORMATS = ("parquet", "csv", "tsv", "jsonl", "feather")

_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".parq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".feather": "feather",
    ".arrow": "feather",
    ".ipc": "feather",
}
_COMPRESSION = (".gz", ".bz2", ".xz", ".zst", ".zip")


def detect_format(path: str) -> str:
    """The file format implied by ``path``'s suffix (compression suffixes skipped)."""
    name = os.path.basename(str(path)).lower()
    for comp in _COMPRESSION:
        if name.endswith(comp):
            name = name[: -len(comp)]
    _, suffix = os.path.splitext(name)
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise ConfigurationError(
            f"Cannot tell the format of {path!r} from its suffix {suffix!r}. Pass "
            f"format= one of {list(FORMATS)}, or rename the file.",
            parameter="format",
            value=str(path),
        ) from None


def _range_index_meta(schema: Any) -> tuple[int, int] | None:
    import json

    meta = (schema.metadata or {}).get(b"pandas")
    if not meta:
        return None
    indexes = json.loads(meta).get("index_columns", [])
    if len(indexes) == 1 and isinstance(indexes[0], dict) and indexes[0].get("kind") == "range":
        return int(indexes[0]["start"]), int(indexes[0]["step"])
    return None


def _arrow_batches(batches: Iterator[Any], schema: Any) -> Iterator[pd.DataFrame]:
    import pyarrow as pa

    range_meta = _range_index_meta(schema)
    offset = 0
    for batch in batches:
        table = pa.Table.from_batches([batch]).replace_schema_metadata(schema.metadata)
        frame = table.to_pandas()
        if range_meta is not None:
            # each batch would otherwise restart its RangeIndex at the file's start
            start, step = range_meta
            first = start + step * offset
            frame.index = pd.RangeIndex(
                first, first + step * len(frame), step, name=frame.index.name
            )
        offset += len(frame)
        yield frame


def iter_file_chunks(
    path: str,
    *,
    format: str | None = None,
    batch_rows: int = 1 << 17,
    columns: Sequence[str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield ``path`` as consecutive DataFrames of at most ``batch_rows`` rows.

    Local paths and any fsspec URL work. ``read_options`` go to
    :func:`pandas.read_csv`/:func:`pandas.read_json` (``dtype=`` above all,
    so every chunk gets the same dtypes).
    """
    import fsspec

    fmt = format or detect_format(path)
    opts = dict(read_options or {})
    fs, _, paths = fsspec.get_fs_token_paths(str(path), storage_options=dict(storage_options or {}))
    if not paths or not fs.exists(paths[0]):
        raise NotFound("file", str(path), hint="Check the path; URLs need their fsspec package.")
    compression = "infer" if fmt in ("csv", "tsv", "jsonl") else None
    with fs.open(paths[0], "rb", compression=compression) as fh:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(fh)
            cols = list(columns) if columns is not None else None
            yield from _arrow_batches(
                pf.iter_batches(batch_size=batch_rows, columns=cols), pf.schema_arrow
            )
        elif fmt == "feather":
            import pyarrow.ipc as ipc

            reader = ipc.open_file(fh)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            frames = _arrow_batches(batches, reader.schema)
            for frame in frames:
                yield frame[list(columns)] if columns is not None else frame
        elif fmt in ("csv", "tsv"):
            opts.setdefault("sep", "\t" if fmt == "tsv" else ",")
            if columns is not None:
                opts["usecols"] = list(columns)
            with pd.read_csv(fh, chunksize=batch_rows, **opts) as reader:
                yield from reader
        elif fmt == "jsonl":
            with pd.read_json(fh, lines=True, chunksize=batch_rows, **opts) as reader:
                for frame in reader:
                    yield frame[list(columns)] if columns is not None else frame
        else:
            raise ConfigurationError(
                f"Unknown format {fmt!r}: use one of {list(FORMATS)}.",
                parameter="format",
                value=fmt,
            )


def fingerprint_files(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    ordered: bool = True,
    index: bool = False,
    columns_ordered: bool = True,
    format: str | None = None,
    columns: Sequence[str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    batch_rows: int = 1 << 17,
    progress: bool | None = None,
) -> Fingerprint:
    """Fingerprint the table made of ``paths`` concatenated, streaming each file.

    The result equals :func:`mlprod.fingerprint` of
    ``pd.concat([read(p) for p in paths])``, but memory holds one batch of
    ``batch_rows`` rows at a time. Parquet (by record batch), Arrow IPC /
    Feather, CSV/TSV and JSON lines (optionally compressed) are read from
    local paths or any fsspec URL.

    Parameters
    ----------
    paths:
        One path or a sequence of paths, in table order.
    ordered, index, columns_ordered:
        As for :func:`mlprod.fingerprint`.
    format:
        ``"parquet"``, ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"feather"``;
        taken from each file's suffix when omitted.
    columns:
        Read and fingerprint only these columns.
    read_options:
        Extra keyword arguments for :func:`pandas.read_csv` /
        :func:`pandas.read_json`; pass ``dtype=`` so every chunk of a CSV
        gets the dtypes of the whole.
    storage_options:
        fsspec options (credentials, endpoints) for URLs.
    batch_rows:
        Rows per batch.
    progress:
        Show a progress bar; by default only on an interactive terminal.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp, tempfile, os
    >>> df = pd.DataFrame({"a": range(5), "b": list("vwxyz")})
    >>> folder = tempfile.mkdtemp()
    >>> df.iloc[:2].to_parquet(os.path.join(folder, "1.parquet"))
    >>> df.iloc[2:].to_parquet(os.path.join(folder, "2.parquet"))
    >>> files = [os.path.join(folder, f) for f in ("1.parquet", "2.parquet")]
    >>> mp.fingerprint_files(files) == mp.fingerprint(df)
    True
    """
    from tqdm.auto import tqdm

    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    opts = {"ordered": ordered, "index": index, "columns_ordered": columns_ordered}
    total = PartialFingerprint.empty(**opts)
    with tqdm(
        total=len(paths),
        unit="file",
        desc="fingerprint",
        disable=None if progress is None else not progress,
    ) as bar:
        for path in paths:
            for chunk in iter_file_chunks(
                os.fspath(path),
                format=format,
                batch_rows=batch_rows,
                columns=columns,
                read_options=read_options,
                storage_options=storage_options,
            ):
                total = total.merge(PartialFingerprint.of(chunk, start=total.rows, **opts))
                bar.set_postfix(rows=f"{total.rows:,}")
            bar.update(1)
    if total.rows == 0 and not paths:
        raise ConfigurationError("No files given: pass at least one path.", parameter="paths")
    return total.result()


# Reported, documented and pickled under the public path.
fingerprint_files.__module__ = "mlprod"
