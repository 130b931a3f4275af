"""Structured logging through structlog; never configured on import.

Library code calls :func:`get_logger`; applications call
:func:`configure_logging` once at start-up (or configure structlog
themselves). Until then structlog's defaults apply, and mlprod adds no
handlers of its own.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "get_logger"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def get_logger(name: str = "mlprod", **initial: Any) -> Any:
    """Return a structlog logger bound to ``name`` (and any initial key-values)."""
    return structlog.get_logger(name, **initial)


def configure_logging(
    *,
    json: bool = False,
    level: str | int = "info",
    stream: TextIO | None = None,
) -> None:
    """Set up structlog output for an application: human-readable or JSON lines.

    Call once at start-up. mlprod never calls it itself, so a library user's
    own logging setup is left alone.

    Parameters
    ----------
    json:
        ``True`` for one JSON object per line (for log shippers); ``False``
        for coloured, aligned console output.
    level:
        Minimum level, as a name (``"debug"``, ``"info"``, ...) or a
        :mod:`logging` number.
    stream:
        Where to write; standard error by default.

    Examples
    --------
    >>> import io, structlog, mlprod as mp
    >>> buf = io.StringIO()
    >>> mp.configure_logging(json=True, level="info", stream=buf)
    >>> structlog.get_logger("mlprod").info("hello", n=1)
    >>> '"event": "hello"' in buf.getvalue()
    True
    >>> structlog.reset_defaults()
    """
    if isinstance(level, str):
        try:
            numeric = _LEVELS[level.lower()]
        except KeyError:
            from mlprod.errors import ConfigurationError

            raise ConfigurationError(
                f"Unknown log level {level!r}. Use one of {sorted(_LEVELS)} or a number.",
                parameter="level",
                value=level,
            ) from None
    else:
        numeric = int(level)
    out = stream if stream is not None else sys.stderr
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=out.isatty()))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    logging.getLogger("mlprod").setLevel(numeric)
