"""The one recording stand-in for the publishing port, for every service's tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeVar

from shared.events import Event

E = TypeVar("E", bound=Event)


@dataclass
class RecordingPublisher:
    """shared.kafka.EventPublisher that keeps what was published instead of sending it.

    It can also fail the way a broker does: refuse everything (`down`), never answer (`stalled`),
    or refuse once `fail_after` events of the kind `failing` went out.
    """

    events: list[Event] = field(default_factory=list)
    down: Exception | None = None
    stalled: bool = False
    fail_after: int | None = None
    failing: type[Event] = Event

    async def publish(self, event: Event) -> None:
        if self.down is not None:
            raise self.down
        if self.stalled:
            await asyncio.Event().wait()
        counted = isinstance(event, self.failing) and self.fail_after is not None
        if counted and len(self.of(self.failing)) >= (self.fail_after or 0):
            raise ConnectionError("broker gone")
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        """What was published of one kind, in order."""
        return [event for event in self.events if isinstance(event, kind)]
