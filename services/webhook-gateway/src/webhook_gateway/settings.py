"""The gateway's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """Common settings plus how long Google may wait for a notification to be queued."""

    http_port: int = 8080
    # Google waits about 10 s for an answer; answering 503 sooner lets it retry sooner.
    gateway_publish_timeout_seconds: float = Field(default=5.0, gt=0)
    # Notifications have an empty body; anything bigger is not from Google.
    gateway_max_body_bytes: int = Field(default=4096, ge=0)
