"""Why the gateway refuses a notification; each refusal says whether Google's retry could help.

`outcome` labels the refusal in logs and metrics, `error` is the short title of the answer and the
message is the detail that says what to do.
"""

from __future__ import annotations

from typing import ClassVar

from shared.errors import DriveIndexError, PermanentError, RetriableError


class RefusedError(DriveIndexError):
    """A notification the gateway does not accept."""

    outcome: ClassVar[str]
    error: ClassVar[str]

    @property
    def detail(self) -> str:
        return str(self)


class MalformedNotificationError(RefusedError, PermanentError):
    """The headers do not follow Google's push-notification protocol."""

    outcome, error = "malformed", "malformed notification"


class BodyTooLargeError(RefusedError, PermanentError):
    """A body: Drive's notifications have none."""

    outcome, error = "too_large", "body too large"


class UnknownChannelError(RefusedError, PermanentError):
    """No such channel is registered, or it was stopped."""

    outcome, error = "unknown_channel", "unknown channel"


class BadTokenError(RefusedError, PermanentError):
    """The channel token is missing or is not the one registered."""

    outcome, error = "forbidden", "bad channel token"


class UnavailableError(RefusedError, RetriableError):
    """The notification could not be queued now; Google's retry may get through."""

    outcome = "unavailable"


class DatabaseUnavailableError(UnavailableError):
    """The channel could not be looked up."""

    error = "database unavailable"


class CannotQueueError(UnavailableError):
    """Kafka did not acknowledge the event in time."""

    error = "cannot queue the change"
