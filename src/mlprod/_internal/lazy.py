"""Import optional dependencies on first use, with an error that names the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from mlprod.errors import MissingDependency

__all__ = ["optional_import"]

# The extra that installs each optional top-level package.
EXTRAS: dict[str, str] = {
    "fairlearn": "reports",
    "shap": "reports",
    "matplotlib": "reports",
    "sklearn": "reports",
    "hypothesis": "testing",
    "dask": "dask",
    "distributed": "dask",
    "psycopg": "postgres",
    "skops": "secure",
}


def optional_import(module: str, *, feature: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`~mlprod.MissingDependency` naming the extra.

    Parameters
    ----------
    module:
        Dotted module name, e.g. ``"fairlearn.metrics"``.
    feature:
        What the user called, for the message (``"fairness_report"``).
    extra:
        The mlprod extra that installs it; looked up from the top-level
        package when omitted.

    Examples
    --------
    >>> from mlprod._internal.lazy import optional_import
    >>> optional_import("json", feature="demo").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package exists but one of its own dependencies is broken
        raise MissingDependency(
            top, extra=extra or EXTRAS.get(top, "all"), feature=feature
        ) from exc
