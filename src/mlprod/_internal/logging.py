"""Structured logging through structlog; never configured on import.

Library code calls :func:`get_logger`; applications call
:func:`configure_logging` once at start-up (or configure structlog
themselves). Until then mlprod's events go to standard-library loggers named
``mlprod.*`` with no handler of mlprod's own: silent below warning, like any
well-behaved library, and never on standard output.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

__all__ = ["LibraryLogger", "configure_logging", "get_logger"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class LibraryLogger:
    """A logger for library code that never prints unless the application asked for it.

    When the application has configured structlog (directly, or through
    :func:`configure_logging`), events go through its pipeline. Otherwise they
    go to the standard-library logger of the same name, rendered as
    ``key=value`` text, so nothing reaches standard output by default and
    warnings follow the application's ``logging`` setup as any library's do.
    """

    __slots__ = ("_fallback", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._fallback: Any = None

    def _target(self) -> Any:
        if structlog.is_configured():
            return structlog.get_logger(self._name)
        if self._fallback is None:
            self._fallback = structlog.wrap_logger(
                logging.getLogger(self._name),
                processors=[
                    structlog.stdlib.filter_by_level,
                    structlog.contextvars.merge_contextvars,
                    structlog.processors.format_exc_info,
                    structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
                ],
                wrapper_class=structlog.stdlib.BoundLogger,
            )
        return self._fallback

    def bind(self, **values: Any) -> Any:
        """A logger with ``values`` added to every event."""
        return self._target().bind(**values)

    def debug(self, event: str, **kw: Any) -> None:
        """Log ``event`` at debug level."""
        self._target().debug(event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        """Log ``event`` at info level."""
        self._target().info(event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        """Log ``event`` at warning level."""
        self._target().warning(event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        """Log ``event`` at error level."""
        self._target().error(event, **kw)

    def exception(self, event: str, **kw: Any) -> None:
        """Log ``event`` at error level with the current exception's traceback."""
        self._target().exception(event, **kw)

    def critical(self, event: str, **kw: Any) -> None:
        """Log ``event`` at critical level."""
        self._target().critical(event, **kw)

    def __repr__(self) -> str:
        return f"LibraryLogger({self._name!r})"


def get_logger(name: str = "mlprod") -> LibraryLogger:
    """Return the logger library code uses for ``name`` (see :class:`LibraryLogger`)."""
    return LibraryLogger(name)


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


# Reported, documented and pickled under the public path.
configure_logging.__module__ = "mlprod"
