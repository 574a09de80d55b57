"""What the gateway needs from the watch_channels table and from Kafka; the wiring picks the adapters."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.kafka import EventPublisher


@dataclass(frozen=True)
class KnownChannel:
    """A registered channel: which source it watches, the hash of its secret token, its last message."""

    id: str
    source_id: str
    token_sha256: bytes
    stopped_at: datetime | None
    last_message_number: int | None = None
    last_message_at: datetime | None = None

    def has_token(self, digest: bytes) -> bool:
        """Tell whether `digest` is the SHA-256 of this channel's token, in constant time."""
        return hmac.compare_digest(digest, self.token_sha256)


class Channels(Protocol):
    """The gateway's read-only view of the watch channels, plus the last message each delivered."""

    async def find(self, channel_id: str) -> KnownChannel | None:
        """Look a channel up by id (stopped ones too); no cache, so a stopped channel is refused at once."""
        ...

    async def record_message(self, channel_id: str, message_number: int) -> None:
        """Remember the newest message number a channel delivered (retries may arrive out of order)."""
        ...

    async def active_summary(self) -> tuple[int, float | None]:
        """Count active channels and the seconds until the first expires (None: no expiry known)."""
        ...


@dataclass(frozen=True)
class Ports:
    """The adapters the composition root picked for the handler and the background jobs."""

    channels: Channels
    publisher: EventPublisher
