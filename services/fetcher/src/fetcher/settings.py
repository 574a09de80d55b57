"""The fetcher's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field

from shared.drive import DriveSettings
from shared.settings import CommonSettings

MIB = 1024 * 1024


class FetcherSettings(CommonSettings, DriveSettings):
    """Stores, Drive access and the fetcher's limits."""

    http_port: int = 8081
    # Downloads and exports of one source running at once; Drive throttles per user and project.
    fetcher_max_concurrency: int = Field(default=4, ge=1)
    # Larger texts travel by reference (table fetched_texts): Kafka's default message limit is 1 MB.
    fetcher_inline_text_limit: int = Field(default=256 * 1024, ge=1)
    # Drive refuses to export more than 10 MB; binary files above the same size are not downloaded.
    fetcher_max_file_bytes: int = Field(default=10 * MIB, ge=1)
    fetcher_changes_page_size: int = Field(default=100, ge=1, le=1000)
    # Seconds between polls of every source's change feed, catching what a lost push notification
    # announced; 0 turns polling off. Each replica polls, which is harmless: reads are by cursor.
    fetcher_poll_seconds: float = Field(default=300, ge=0)
