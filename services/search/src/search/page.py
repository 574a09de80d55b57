"""The search page: static HTML whose type filter and result labels name Drive's MIME types."""

from __future__ import annotations

import html
import json
from importlib import resources

from shared import mime

# The types a person filters by: (MIME type, the filter's option, the label on a result).
TYPES = (
    (mime.DOCUMENT, "Google Docs", "Google Doc"),
    (mime.SPREADSHEET, "Google Sheets", "Google Sheet"),
    (mime.PRESENTATION, "Google Slides", "Google Slides"),
    (mime.PDF, "PDF", "PDF"),
    (mime.DOCX, "Word", "Word"),
    (mime.XLSX, "Excel", "Excel"),
    (mime.PLAIN_TEXT, "Plain text", "Text"),
    (mime.MARKDOWN, "Markdown", "Markdown"),
    (mime.HTML, "HTML", "HTML"),
)
_OPTIONS = "<!-- TYPE OPTIONS -->"
_LABELS = "/* TYPE LABELS */ {}"


def render(template: str) -> str:
    """Fill the page's type options and result labels in."""
    options = "\n            ".join(
        f'<option value="{html.escape(kind)}">{html.escape(option)}</option>' for kind, option, _ in TYPES
    )
    labels = json.dumps({kind: label for kind, _, label in TYPES})
    return template.replace(_OPTIONS, options).replace(_LABELS, labels)


PAGE = render(resources.files("search").joinpath("static/index.html").read_text(encoding="utf-8"))
