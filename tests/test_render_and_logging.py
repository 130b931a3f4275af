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
