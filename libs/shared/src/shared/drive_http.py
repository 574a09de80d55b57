"""HTTP plumbing for the Drive client: credentials and a pool of per-thread Http objects."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import httplib2
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

SCOPES = ["https://www.googleapis.com/auth/drive.readonly"]

HttpFactory = Callable[[], Any]


class HttpPool:
    """Lend each Http object to one thread at a time.

    httplib2 is not thread-safe, yet reusing its objects keeps connections and TLS sessions alive.
    """

    def __init__(self, make_http: HttpFactory) -> None:
        self._make_http = make_http
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def execute(self, request: HttpRequest) -> Any:
        """Run one request on an idle (or new) Http; drop the Http if the call failed midway."""
        try:
            http = self._idle.get_nowait()
        except queue.Empty:
            http = self._make_http()
        try:
            result = request.execute(http=http)
        except HttpError:
            self._idle.put(http)  # a complete HTTP answer leaves the connection usable
            raise
        except BaseException:
            http.close()
            raise
        self._idle.put(http)
        return result

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def load_credentials(key_file: str | None, subject: str | None, endpoint: str | None) -> Any:
    """Load the service account, or Application Default Credentials, or none for an emulator."""
    if key_file:
        from google.oauth2 import service_account

        # google-auth has no type hints for this constructor.
        load = service_account.Credentials.from_service_account_file
        credentials = load(key_file, scopes=SCOPES)  # type: ignore[no-untyped-call]
        return credentials.with_subject(subject) if subject else credentials
    if endpoint:
        return None  # a local emulator or test server: requests go unauthenticated
    import google.auth

    credentials, _ = google.auth.default(scopes=SCOPES)
    return credentials


def http_factory(credentials: Any, timeout: float) -> HttpFactory:
    """Make a function that returns a new (authorized) Http object for the pool."""

    def make() -> Any:
        http = httplib2.Http(timeout=timeout)
        if credentials is None:
            return http
        from google_auth_httplib2 import AuthorizedHttp

        return AuthorizedHttp(credentials, http=http)

    return make
