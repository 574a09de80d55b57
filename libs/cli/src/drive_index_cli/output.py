"""How the commands print what they found."""

from __future__ import annotations

from typing import Any


def print_rows(rows: list[dict[str, Any]]) -> None:
    """Print dicts as an aligned table."""
    if not rows:
        print("(none)")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns))
