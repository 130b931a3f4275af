"""Checking a dataset store: every version's manifest, bytes and fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlprod._internal import render
from mlprod.errors import IntegrityError, MlprodError

if TYPE_CHECKING:
    import pandas as pd

    from mlprod.data.snapshots.version import DatasetVersion

__all__ = ["StoreProblem", "StoreVerification", "check_content", "verify_store"]


@dataclass(frozen=True)
class StoreProblem:
    """One thing :meth:`~mlprod.DatasetStore.verify` found wrong.

    ``kind`` is ``manifest_unreadable``, ``data_missing``, ``data_corrupt`` or
    ``fingerprint_mismatch``; ``subject`` is the version (``name@n``) or file.
    """

    __module__ = "mlprod"

    kind: str
    subject: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """Plain data."""
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail}


@dataclass(frozen=True)
class StoreVerification(render.Rendered):
    """The result of :meth:`mlprod.DatasetStore.verify`.

    Attributes
    ----------
    ok:
        ``True`` when every version's data is present, has its recorded
        SHA-256, and loads to its recorded fingerprint.
    datasets, versions:
        How many were checked.
    problems:
        Every failure found, each naming the version and the reason.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp, tempfile
    >>> store = mp.DatasetStore(tempfile.mkdtemp())
    >>> _ = store.commit(pd.DataFrame({"a": [1, 2]}), name="train")
    >>> result = store.verify()
    >>> result.ok, result.versions, result.problems
    (True, 1, ())
    """

    __module__ = "mlprod"

    ok: bool
    datasets: int
    versions: int
    problems: tuple[StoreProblem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "ok": self.ok,
            "datasets": self.datasets,
            "versions": self.versions,
            "problems": [p.to_dict() for p in self.problems],
        }

    def _document(self, **options: Any) -> render.Document:
        sections = []
        if self.problems:
            table = render.Table(
                columns=["kind", "subject", "detail"],
                rows=[[p.kind, p.subject, p.detail] for p in self.problems],
            )
            sections.append(
                render.Section("Problems", "Versions that cannot be trusted.", table, level="error")
            )
        return render.Document(
            "Dataset store verification",
            ok=self.ok,
            facts={"datasets": self.datasets, "versions": self.versions},
            sections=sections,
        )


def verify_store(store: Any) -> StoreVerification:
    """Load every version of every dataset with full checks; collect what fails."""
    problems: list[StoreProblem] = []
    names = store.names()
    count = 0
    for name in names:
        for number in store._version_numbers(name):
            count += 1
            subject = f"{name}@{number}"
            try:
                version = store._read_version(name, number)
            except (ValueError, KeyError, TypeError, OSError) as exc:
                problems.append(StoreProblem("manifest_unreadable", subject, str(exc)))
                continue
            try:
                store.load(version, verify=True)
            except IntegrityError as exc:
                kind = (
                    "data_missing"
                    if "missing" in str(exc)
                    else "data_corrupt"
                    if exc.actual is not None and len(exc.actual) == 64 and "SHA-256" in str(exc)
                    else "fingerprint_mismatch"
                )
                problems.append(StoreProblem(kind, subject, str(exc)))
            except (MlprodError, ValueError, OSError) as exc:
                problems.append(StoreProblem("data_corrupt", subject, str(exc)))
    return StoreVerification(
        ok=not problems, datasets=len(names), versions=count, problems=tuple(problems)
    )


def check_content(frame: pd.DataFrame, version: DatasetVersion, path: str) -> None:
    """Refuse ``frame`` unless it has the content fingerprint ``version`` recorded.

    The object key and digest sit in the same manifest as the fingerprint, so
    an edit pointing a version at another object is caught here.
    """
    from mlprod.data.fingerprint import fingerprint

    actual = fingerprint(frame).hex
    if actual != version.fingerprint.hex:
        raise IntegrityError(
            f"The data at {path} is not the content {version.ref} was committed with "
            f"(fingerprint {actual[:12]}… vs {version.fingerprint.hex[:12]}…): its manifest "
            "points at another object. Do not use it; restore the manifest or the data from a "
            "backup.",
            path=path,
            expected=version.fingerprint.hex,
            actual=actual,
        )
