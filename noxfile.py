"""Developer sessions: ``nox -s tests lint typecheck docs bench``."""

from __future__ import annotations

import pathlib

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

PYTHON = "3.11"


@nox.session(python=PYTHON)
@nox.parametrize("pandas", ["3", "2.2"])
def tests(session: nox.Session, pandas: str) -> None:
    """Run the test suite on pandas 3 and on pandas 2.2 (pytest options after ``--``)."""
    pin = "pandas>=3,<4" if pandas == "3" else "pandas>=2.2,<2.3"
    session.install("-e", ".[dev]", pin)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, and the import-layer contracts."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors."""
    session.install("-e", ".[dev]")
    session.run("mkdocs", "build", "--strict")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run every benchmark against its anchor (``-- --quick`` for a smoke run)."""
    session.install("-e", ".[bench]")
    python = str(pathlib.Path(session.bin) / "python")
    for script in sorted(pathlib.Path("benchmarks").glob("bench_*.py")):
        # OpenBLAS core-type overrides slow numpy down; benchmarks run without them
        session.run(
            "env",
            "-u",
            "OPENBLAS_CORETYPE",
            "-u",
            "OPENBLAS_L2_SIZE",
            python,
            str(script),
            *session.posargs,
            external=True,
        )
