"""What the code runs on: Python, platform, package versions, git state.

Captured once per process and cached (the registry stamps it on every
version, so it must cost microseconds, and it never spawns a subprocess:
git state is read from the ``.git`` directory directly).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["environment"]

_PACKAGES = (
    "mlprod",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "joblib",
    "xgboost",
    "lightgbm",
    "torch",
    "shap",
    "fairlearn",
    "sqlalchemy",
    "pydantic",
    "structlog",
    "skops",
    "dask",
)


@functools.cache
def _package_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _find_git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # worktree or submodule: "gitdir: <path>"
            text = candidate.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text.split(":", 1)[1].strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text().strip()).resolve()
    for base in (git_dir, common):
        loose = base / ref
        if loose.is_file():
            return loose.read_text().strip() or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return None


def _dirty(git_dir: Path, work_tree: Path) -> bool | None:
    """Tell whether a tracked file differs from the index, as ``git status`` first checks.

    Compares each tracked file's size and modification time with what the
    index recorded: a file saved since the last ``git add`` counts as dirty
    (a touched but unchanged file may over-report; an edit is never missed).
    Untracked files do not count. ``None`` when it cannot tell.
    """
    from mlprod._internal.gitindex import read_index

    try:
        entries = read_index(git_dir / "index")
    except FileNotFoundError:
        return False  # a repository with nothing added yet
    except (OSError, ValueError, IndexError):
        return None
    for entry in entries:
        try:
            st = (work_tree / entry.path).stat()
        except FileNotFoundError:
            return True
        except OSError:
            return None
        if st.st_size != entry.size or int(st.st_mtime) != entry.mtime_s:
            return True
    return False


@functools.cache
def _git_state(cwd: str) -> dict[str, Any] | None:
    git_dir = _find_git_dir(Path(cwd))
    if git_dir is None:
        return None
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    branch = None
    if head.startswith("ref:"):
        ref = head.split(":", 1)[1].strip()
        branch = ref.removeprefix("refs/heads/")
        commit = _resolve_ref(git_dir, ref)
    else:
        commit = head
    work_tree = git_dir.parent
    return {"commit": commit, "branch": branch, "dirty": _dirty(git_dir, work_tree)}


def environment(*, refresh: bool = False) -> dict[str, Any]:
    """Describe the running environment, for lineage and bug reports.

    Returns Python version and implementation, platform, versions of the
    installed ML packages that matter for reproducing a model, and the git
    commit, branch and dirty flag of the current directory's repository (or
    ``None`` outside one). Cached per process and working directory; pass
    ``refresh=True`` after installing packages or committing.

    Examples
    --------
    >>> import mlprod as mp
    >>> env = mp.environment()
    >>> sorted(env)
    ['git', 'packages', 'platform', 'python']
    >>> "mlprod" in env["packages"]
    True
    """
    if refresh:
        _package_versions.cache_clear()
        _git_state.cache_clear()
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
        },
        "packages": dict(_package_versions()),
        "git": _git_state(os.getcwd()),
    }


# Reported, documented and pickled under the public path.
environment.__module__ = "mlprod"
