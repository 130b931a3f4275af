"""Render any report as HTML (notebooks, files) or Markdown (PRs, terminals).

A report describes itself as a :class:`Document`: a title, a status, key
facts and sections of tables or text. The same renderer then serves a
``ValidationReport``, a ``DatasetDiff``, a ``FairnessReport`` or guard
statistics, so every report looks and escapes alike.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Document", "Section", "Table", "to_html", "to_markdown", "to_text"]


@dataclass(frozen=True)
class Table:
    """Rows of cells under named columns; ``total`` counts rows not shown."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    total: int | None = None

    @classmethod
    def from_records(
        cls, records: Sequence[Mapping[str, Any]], *, columns: Sequence[str] | None = None
    ) -> Table:
        """Build a table from dicts, keeping ``columns`` (or the first record's keys)."""
        cols = list(columns) if columns is not None else (list(records[0]) if records else [])
        return cls(cols, [[r.get(c) for c in cols] for r in records])

    @classmethod
    def from_frame(cls, frame: Any, *, max_rows: int = 20) -> Table:
        """Build a table from a pandas DataFrame, showing at most ``max_rows`` rows."""
        shown = frame.head(max_rows)
        return cls(
            [str(c) for c in frame.columns],
            shown.astype(object).to_numpy().tolist(),
            total=len(frame),
        )


@dataclass(frozen=True)
class Section:
    """A heading with text and/or a table."""

    title: str
    text: str = ""
    table: Table | None = None


@dataclass(frozen=True)
class Document:
    """A whole report: title, pass/fail status, key facts, sections."""

    title: str
    ok: bool | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    sections: Sequence[Section] = ()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


_CSS = (
    "<style>.mlprod-report{font-family:system-ui,sans-serif;font-size:13px}"
    ".mlprod-report table{border-collapse:collapse;margin:4px 0 10px}"
    ".mlprod-report th,.mlprod-report td{border:1px solid #ccc;padding:2px 8px;text-align:left}"
    ".mlprod-report th{background:#f3f3f3}.mlprod-ok{color:#1a7f37}.mlprod-bad{color:#cf222e}"
    "</style>"
)


def _status(ok: bool | None) -> tuple[str, str]:
    if ok is None:
        return "", ""
    return ("passed", "mlprod-ok") if ok else ("failed", "mlprod-bad")


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in table.rows
    )
    more = ""
    if table.total is not None and table.total > len(table.rows):
        more = f"<p>showing {len(table.rows)} of {table.total:,} rows</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def to_html(doc: Document, *, full_page: bool = False) -> str:
    """Render ``doc`` as an HTML fragment (or a standalone page)."""
    word, cls = _status(doc.ok)
    parts = [_CSS, '<div class="mlprod-report">', f"<h3>{html.escape(doc.title)}"]
    if word:
        parts.append(f' <span class="{cls}">{word}</span>')
    parts.append("</h3>")
    if doc.facts:
        parts.append(
            "<ul>"
            + "".join(
                f"<li><b>{html.escape(str(k))}</b>: {html.escape(_cell(v))}</li>"
                for k, v in doc.facts.items()
            )
            + "</ul>"
        )
    for sec in doc.sections:
        parts.append(f"<h4>{html.escape(sec.title)}</h4>")
        if sec.text:
            parts.append(f"<p>{html.escape(sec.text)}</p>")
        if sec.table is not None:
            parts.append(_html_table(sec.table))
    parts.append("</div>")
    body = "".join(parts)
    if full_page:
        title = html.escape(doc.title)
        return (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
            f"</head><body>{body}</body></html>"
        )
    return body


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> str:
    lines = [
        "| " + " | ".join(_md_escape(str(c)) for c in table.columns) + " |",
        "|" + "---|" * len(table.columns),
    ]
    lines += ["| " + " | ".join(_md_escape(_cell(v)) for v in row) + " |" for row in table.rows]
    if table.total is not None and table.total > len(table.rows):
        lines.append(f"\n_showing {len(table.rows)} of {table.total:,} rows_")
    return "\n".join(lines)


def to_markdown(doc: Document) -> str:
    """Render ``doc`` as GitHub-flavoured Markdown."""
    word, _ = _status(doc.ok)
    out = [f"## {doc.title}" + (f" — {word}" if word else ""), ""]
    out += [f"- **{k}**: {_cell(v)}" for k, v in doc.facts.items()]
    for sec in doc.sections:
        out += ["", f"### {sec.title}", ""]
        if sec.text:
            out += [sec.text, ""]
        if sec.table is not None:
            out.append(_md_table(sec.table))
    return "\n".join(out).rstrip() + "\n"


def to_text(doc: Document) -> str:
    """Render ``doc`` as plain aligned text, for terminals and ``summary()``."""
    word, _ = _status(doc.ok)
    out = [doc.title + (f": {word}" if word else "")]
    out += [f"  {k}: {_cell(v)}" for k, v in doc.facts.items()]
    for sec in doc.sections:
        out.append(f"{sec.title}:")
        if sec.text:
            out.append(f"  {sec.text}")
        if sec.table is not None:
            cells = [[str(c) for c in sec.table.columns]] + [
                [_cell(v) for v in row] for row in sec.table.rows
            ]
            widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))] if cells else []
            for r in cells:
                out.append("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
            t = sec.table
            if t.total is not None and t.total > len(t.rows):
                out.append(f"  ... showing {len(t.rows)} of {t.total:,} rows")
    return "\n".join(out)
