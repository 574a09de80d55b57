"""The fetcher's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field

from drive.discovery import DiscoverySettings
from fetcher.extract import MAX_TEXT_CHARS
from fetcher.scope import Scope
from shared.settings import CommonSettings, names

MIB = 1024 * 1024


class FetcherSettings(CommonSettings, DiscoverySettings):
    """Stores, Drive and Directory access, the sources to follow, and the fetcher's limits."""

    http_port: int = 8081
    # Downloads and exports of one source running at once; Drive throttles per user and project.
    fetcher_max_concurrency: int = Field(default=4, ge=1)
    # Larger texts travel by reference (table fetched_texts): Kafka's default message limit is 1 MB.
    fetcher_inline_text_limit: int = Field(default=256 * 1024, ge=1)
    # Drive refuses to export more than 10 MB; binary files above the same size are not downloaded.
    fetcher_max_file_bytes: int = Field(default=10 * MIB, ge=1)
    fetcher_changes_page_size: int = Field(default=100, ge=1, le=1000)
    # Text extraction runs in this many worker processes, each held to a memory limit (address
    # space; an idle worker takes about 200 MB of it), CPU seconds per file and a wall-clock
    # timeout per file: a parser bomb costs that file a recorded failure, never the service.
    fetcher_extract_workers: int = Field(default=2, ge=1)
    fetcher_extract_memory_mb: int = Field(default=1024, ge=256)
    fetcher_extract_cpu_seconds: int = Field(default=60, ge=1)
    fetcher_extract_timeout_seconds: float = Field(default=90, gt=0)
    # Longer extracted texts are cut off here (about a 600-page book), and the cut is logged.
    fetcher_max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1)
    # Seconds between polls of every source's change feed, catching what a lost push notification
    # announced; 0 turns polling off. Each replica polls, which is harmless: reads are by cursor.
    fetcher_poll_seconds: float = Field(default=300, ge=0)
    # Files whose read failed for a passing reason are tried again after FETCHER_RETRY_BASE_SECONDS,
    # doubling per attempt up to FETCHER_RETRY_MAX_SECONDS; due ones are looked for this often.
    # A reconcile deletes at most this share of a source's indexed files unless forced.
    fetcher_reconcile_max_delete_share: float = Field(default=0.1, ge=0, le=1)
    fetcher_retry_seconds: float = Field(default=30, ge=0)
    fetcher_retry_base_seconds: float = Field(default=30, gt=0)
    fetcher_retry_max_seconds: float = Field(default=3600, gt=0)
    # Seconds between copies of Google Groups membership from the Directory API (needs
    # DIRECTORY_API_ENDPOINT, or a key with GOOGLE_SUBJECT, an admin with group read access);
    # 0 turns the copy off, and then groups come only from each caller's identity.
    groups_sync_seconds: float = Field(default=3600, ge=0)
    # What enters the index (comma-separated; empty admits all): My Drive files owned only outside
    # these domains are left out, so an outsider cannot plant documents by sharing them in.
    drive_allowed_domains: str = ""
    # Files directly in these folders, or in these shared drives (ids), are left out.
    drive_exclude_folders: str = ""
    drive_exclude_drives: str = ""
    # Only files of these MIME types are indexed.
    drive_mime_types: str = ""

    @property
    def scope(self) -> Scope:
        """The admission rules the drive_* filters describe."""
        return Scope.of(
            allowed_domains=names(self.drive_allowed_domains),
            exclude_folders=names(self.drive_exclude_folders),
            exclude_drives=names(self.drive_exclude_drives),
            mime_types=names(self.drive_mime_types),
        )

    @property
    def directory_configured(self) -> bool:
        """Tell whether a Directory API is there to ask: an emulator, or delegation to an admin."""
        delegated = bool(self.google_application_credentials and self.google_subject)
        return bool(self.directory_api_endpoint) or delegated
