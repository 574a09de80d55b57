"""A watch channel's token as it is stored: written by `drive.watch`, compared by the gateway.

The token is a secret shared with Google; only its SHA-256 is kept, so both sides hash it here.
"""

from __future__ import annotations

import hashlib


def token_digest(token: str) -> bytes:
    """Hash a channel token the way the gateway compares it."""
    return hashlib.sha256(token.encode()).digest()
