"""Content fingerprints of tables: ``fingerprint(df)`` and the ``Fingerprint`` value.

``value`` (the ``Fingerprint`` hex string), ``kernels`` (64-bit hashing
primitives), ``compiled`` (the same kernels compiled with numba, when
installed), ``columns`` (each dtype's canonical words), ``blocks`` (the
ordered algorithm's block digests), ``runs`` (chunk states that merge),
``compute`` (``fingerprint``, ``PartialFingerprint``, row and cell hashes),
``sources`` (files, streamed chunk by chunk).

May import: the ground only. Other packages import from here, not from the
modules inside; ``row_hashes``/``cell_hashes``/``canonical_dtypes`` are here
for :class:`mlprod.DatasetDiff`.
"""

from mlprod.data.fingerprint.compute import (
    PartialFingerprint,
    canonical_dtypes,
    cell_hashes,
    fingerprint,
    row_hashes,
)
from mlprod.data.fingerprint.sources import FORMATS, fingerprint_files, iter_file_chunks
from mlprod.data.fingerprint.value import ALGORITHM, Fingerprint

__all__ = [
    "ALGORITHM",
    "FORMATS",
    "Fingerprint",
    "PartialFingerprint",
    "canonical_dtypes",
    "cell_hashes",
    "fingerprint",
    "fingerprint_files",
    "iter_file_chunks",
    "row_hashes",
]
