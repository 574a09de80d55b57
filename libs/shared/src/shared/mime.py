"""Drive's MIME vocabulary: its own file types, and the formats files are exported or uploaded as.

One place for these strings, so the fetcher, search, the Drive emulator and the tests cannot
disagree on a spelling.
"""

from __future__ import annotations

# Every Google-native type (Docs, Sheets, Slides, folders, shortcuts, forms, ...) starts so.
GOOGLE_APPS = "application/vnd.google-apps."
FOLDER = GOOGLE_APPS + "folder"
SHORTCUT = GOOGLE_APPS + "shortcut"
DOCUMENT = GOOGLE_APPS + "document"
SPREADSHEET = GOOGLE_APPS + "spreadsheet"
PRESENTATION = GOOGLE_APPS + "presentation"

# Formats Drive exports native files to, and that people upload.
PLAIN_TEXT = "text/plain"
MARKDOWN = "text/markdown"
CSV = "text/csv"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What Drive calls a file of no known type.
OCTET_STREAM = "application/octet-stream"


def is_google_native(mime_type: str) -> bool:
    """Tell whether the type is one of Drive's own: such a file has no bytes to download."""
    return mime_type.startswith(GOOGLE_APPS)
