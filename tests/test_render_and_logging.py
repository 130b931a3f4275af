"""Shared rendering escapes what it shows; logging is opt-in and structured."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

import mlprod as mp
from mlprod._internal.render import Document, Section, Table, to_html, to_markdown, to_text


def _doc():
    return Document(
        "Report <x>",
        ok=False,
        facts={"rows": 3},
        sections=[Section("Failures", table=Table(["col", "value"], [["a|b", "<script>"]], 5))],
    )


def test_html_escapes_and_marks_status():
    out = to_html(_doc())
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert "failed" in out
    assert "showing 1 of 5 rows" in out
    assert to_html(_doc(), full_page=True).startswith("<!doctype html>")


def test_markdown_escapes_pipes():
    out = to_markdown(_doc())
    assert "a\\|b" in out
    assert out.startswith("## Report <x> — failed")


def test_text_aligns_columns():
    out = to_text(_doc())
    assert "col  value" in out
    assert "... showing 1 of 5 rows" in out


def test_configure_logging_json(capsys):
    buf = io.StringIO()
    try:
        mp.configure_logging(json=True, level="warning", stream=buf)
        log = structlog.get_logger("mlprod")
        log.info("hidden")
        log.warning("shown", answer=42)
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [r["event"] for r in lines] == ["shown"]
    assert lines[0]["answer"] == 42
    assert lines[0]["level"] == "warning"


def test_configure_logging_rejects_unknown_level():
    with pytest.raises(mp.ConfigurationError, match="Unknown log level") as info:
        mp.configure_logging(level="loud")
    assert info.value.parameter == "level"


def test_import_does_not_configure_logging():
    # the library adds no handlers to the root or its own logger on import
    assert logging.getLogger("mlprod").handlers == []


def test_library_logger_is_silent_on_stdout_until_configured(capsys, caplog):
    from mlprod._internal.logging import get_logger

    log = get_logger("mlprod.test")
    with caplog.at_level(logging.WARNING, logger="mlprod.test"):
        log.info("quiet", n=1)
        log.warning("loud", n=2)
    assert capsys.readouterr().out == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "mlprod.test"]
    assert messages == ["event='loud' n=2"]


def test_library_logger_follows_the_application_pipeline():
    from structlog.testing import capture_logs

    from mlprod._internal.logging import get_logger

    with capture_logs() as logs:
        get_logger("mlprod.test").info("seen", n=3)
    assert logs == [{"event": "seen", "n": 3, "log_level": "info"}]
