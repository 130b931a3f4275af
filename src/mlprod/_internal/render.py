"""Render any report as HTML (notebooks, files) or Markdown (PRs, terminals).

A report describes itself as a :class:`Document`: a title, a status, key
facts and sections of text, tables and figures (inline SVG). The same
renderer then serves a ``ValidationReport``, a ``DatasetDiff``, a
``FairnessReport``, an explanation, a drift or a behaviour report and guard
statistics, so every report looks and escapes alike.

A result class gets the whole rendering set (``summary``, ``to_markdown``,
``to_html(path=None)``, ``_repr_html_``) by inheriting :class:`Rendered` and
writing one method, ``_document()``, that describes it. No other module
builds HTML.

The HTML is self-contained: no script, no external URL, no web font, so a
report opens offline and in a locked-down reviewer's browser.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Document",
    "Figure",
    "Link",
    "Rendered",
    "Section",
    "Table",
    "to_html",
    "to_markdown",
    "to_text",
]


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
class Link:
    """A table cell or fact that links to another file or page.

    HTML shows an anchor, Markdown ``[text](href)``, plain text the text
    followed by the target. ``href`` should be relative (reports link to
    each other inside one folder) and is escaped like any other text.
    """

    text: str
    href: str

    def __str__(self) -> str:
        return f"{self.text} ({self.href})"


@dataclass(frozen=True)
class Figure:
    """A plot as an inline SVG string, with a caption.

    Build one with :func:`mlprod._internal.plots.figure_to_svg` from a
    matplotlib figure. HTML shows the SVG; Markdown and text show the
    caption and point to the HTML report.
    """

    svg: str
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """A heading with text, a table and/or figures.

    ``level`` sets the callout colour of the text in HTML: ``"info"``
    (default, plain), ``"ok"``, ``"warn"`` or ``"bad"``.
    """

    title: str
    text: str = ""
    table: Table | None = None
    figures: Sequence[Figure] = ()
    level: str = "info"


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
    if isinstance(value, Link):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


_CSS = (
    "<style>.mlprod-report{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
    "font-size:13px;color:#1f2328;max-width:1100px}"
    ".mlprod-report h3{font-size:18px;margin:8px 0}.mlprod-report h4{font-size:15px;"
    "margin:16px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:3px}"
    ".mlprod-report table{border-collapse:collapse;margin:4px 0 10px;display:block;"
    "max-width:100%;overflow-x:auto}"
    ".mlprod-report th,.mlprod-report td{border:1px solid #d0d7de;padding:3px 8px;"
    "text-align:left;vertical-align:top}"
    ".mlprod-report th{background:#f6f8fa}.mlprod-report tr:nth-child(even) td{background:#fbfcfd}"
    ".mlprod-ok{color:#1a7f37;font-weight:600}.mlprod-bad{color:#cf222e;font-weight:600}"
    ".mlprod-report p{margin:4px 0 8px;white-space:pre-line}"
    ".mlprod-callout{padding:6px 10px;border-left:4px solid #d0d7de;background:#f6f8fa}"
    ".mlprod-callout-ok{border-color:#1a7f37;background:#eef8f0}"
    ".mlprod-callout-warn{border-color:#bf8700;background:#fff8e5}"
    ".mlprod-callout-bad{border-color:#cf222e;background:#fff0f0}"
    ".mlprod-figure{margin:6px 0 12px}.mlprod-figure svg{max-width:100%;height:auto}"
    ".mlprod-figure figcaption{color:#59636e;font-size:12px}"
    "</style>"
)


def _status(ok: bool | None) -> tuple[str, str]:
    if ok is None:
        return "", ""
    return ("passed", "mlprod-ok") if ok else ("failed", "mlprod-bad")


def _html_cell(value: Any) -> str:
    if isinstance(value, Link):
        return f'<a href="{html.escape(value.href)}">{html.escape(value.text)}</a>'
    return html.escape(_cell(value))


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_html_cell(v)}</td>" for v in row) + "</tr>" for row in table.rows
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
                f"<li><b>{html.escape(str(k))}</b>: {_html_cell(v)}</li>"
                for k, v in doc.facts.items()
            )
            + "</ul>"
        )
    for sec in doc.sections:
        parts.append(f"<h4>{html.escape(sec.title)}</h4>")
        if sec.text:
            level = sec.level
            cls = "" if level == "info" else f' class="mlprod-callout mlprod-callout-{level}"'
            parts.append(f"<p{cls}>{html.escape(sec.text)}</p>")
        if sec.table is not None:
            parts.append(_html_table(sec.table))
        for fig in sec.figures:
            caption = f"<figcaption>{html.escape(fig.caption)}</figcaption>" if fig.caption else ""
            # the SVG comes from matplotlib's own writer, never from user text
            parts.append(f'<figure class="mlprod-figure">{fig.svg}{caption}</figure>')
    parts.append("</div>")
    body = "".join(parts)
    if full_page:
        title = html.escape(doc.title)
        return (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>"
            f'<body style="margin:24px;background:#fff">{body}</body></html>'
        )
    return body


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_cell(value: Any) -> str:
    if isinstance(value, Link):
        return f"[{_md_escape(value.text)}]({value.href.replace(' ', '%20')})"
    return _md_escape(_cell(value))


def _md_table(table: Table) -> str:
    lines = [
        "| " + " | ".join(_md_escape(str(c)) for c in table.columns) + " |",
        "|" + "---|" * len(table.columns),
    ]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
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
        for fig in sec.figures:
            out += ["", f"_Figure: {fig.caption or sec.title} (in the HTML report)_"]
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


class Rendered:
    """Mixin giving a result the whole rendering set from one ``_document()``.

    A subclass writes ``_document(self) -> Document`` and gets ``summary()``
    (plain text), ``to_markdown()``, ``to_html(path=None)`` (returns the HTML,
    and writes a standalone page when given a path) and ``_repr_html_`` (the
    notebook view). Options a class's document takes (``max_rows=...``) pass
    through as keyword arguments.

    Examples
    --------
    >>> from mlprod._internal.render import Document, Rendered
    >>> class Answer(Rendered):
    ...     def _document(self, **options):
    ...         return Document("Answer", ok=True, facts={"value": 42})
    >>> print(Answer().summary())
    Answer: passed
      value: 42
    >>> "<h3>Answer" in Answer().to_html()
    True
    """

    __slots__ = ()

    def _document(self, **options: Any) -> Document:
        raise TypeError(f"{type(self).__name__} must describe itself in _document()")

    def summary(self, **options: Any) -> str:
        """A plain-text summary, for terminals and logs."""
        return to_text(self._document(**options))

    def to_markdown(self, **options: Any) -> str:
        """The report as GitHub-flavoured Markdown (pull requests, CI logs)."""
        return to_markdown(self._document(**options))

    def to_html(self, path: str | os.PathLike[str] | None = None, **options: Any) -> str:
        """The report as HTML; with ``path``, also written there as a standalone page.

        Returns the HTML fragment when ``path`` is ``None``, else the full
        page that was written. The page is self-contained (inline CSS and
        SVG, no script, no external URL).
        """
        doc = self._document(**options)
        if path is None:
            return to_html(doc)
        page = to_html(doc, full_page=True)
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)  # a reader never sees half a report
        return page

    def _repr_html_(self) -> str:
        return to_html(self._document())
