"""HTTP plumbing for the Google API clients: credentials, pooled Http objects, retried calls.

google-api-python-client is synchronous and httplib2 is not thread-safe, so every attempt runs in
a worker thread on an Http object lent to it alone. Throttling, 5xx answers and connection failures
are retried with exponential backoff and full jitter, as Google asks clients to do.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import os
import queue
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import httplib2
import structlog
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest
from opentelemetry import trace
from prometheus_client import Counter

from drive.errors import ErrorKinds, GoogleApiError, classify
from shared.backoff import Backoff, Retry, retrying

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

SCOPES = ["https://www.googleapis.com/auth/drive.readonly"]
# Failures below a complete HTTP answer: refused or reset connections, timeouts, DNS, truncated
# responses. All worth another try.
CONNECTION_ERRORS = (ConnectionError, TimeoutError, http.client.HTTPException, httplib2.HttpLib2Error)

HttpFactory = Callable[[], Any]


class Budget(Protocol):
    """A call budget bound to the identity a client acts as (drive.budget)."""

    async def spend(self) -> None: ...


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


class Executor:
    """Execute one API's requests off the event loop, retrying throttling and outages."""

    def __init__(
        self,
        errors: ErrorKinds,
        requests: Counter,
        make_http: HttpFactory,
        backoff: Backoff,
        budget: Budget | None = None,
    ) -> None:
        self._errors = errors
        # Spent before every attempt, retries included: Google counts them all.
        self._budget = budget
        self._requests = requests  # labelled by method and outcome
        self._http = HttpPool(make_http)
        self._backoff = backoff
        self._system = f"google_{errors.api.lower()}"

    async def call(self, method: str, build_request: Callable[..., HttpRequest], **params: Any) -> Any:
        """Build and execute a request, retrying retriable failures; raise the typed error."""
        with tracer.start_as_current_span(
            f"{self._errors.api.lower()} {method}", kind=trace.SpanKind.CLIENT
        ) as span:
            span.set_attribute("rpc.system", self._system)
            span.set_attribute("rpc.method", method)
            try:
                result = await retrying(
                    functools.partial(self._attempt, build_request, params),
                    on=self._retry_after,
                    backoff=self._backoff,
                    before_wait=functools.partial(self._note_retry, method),
                )
            except GoogleApiError as error:
                self._requests.labels(method, type(error).__name__).inc()
                span.set_status(trace.StatusCode.ERROR, str(error))
                raise
            self._requests.labels(method, "ok").inc()
            return result

    async def pages(
        self, method: str, build_request: Callable[..., HttpRequest], key: str, **params: Any
    ) -> list[Any]:
        """Call a list method page after page; return the items under `key` of every page."""
        items: list[Any] = []
        token: str | None = None
        while True:
            answer = await self.call(method, build_request, pageToken=token, **params)
            items += answer.get(key) or []
            token = answer.get("nextPageToken")
            if not token:
                return items

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    async def _attempt(self, build_request: Callable[..., HttpRequest], params: dict[str, Any]) -> Any:
        """Spend one call of the budget, then execute the request once; raise the typed error."""
        if self._budget is not None:
            await self._budget.spend()
        try:
            return await asyncio.to_thread(self._http.execute, build_request(**params))
        except HttpError as exc:
            raise classify(exc, self._errors) from exc
        except CONNECTION_ERRORS as exc:
            message = f"{self._errors.api} unreachable: {type(exc).__name__}: {exc}"
            raise self._errors.unavailable(message) from exc

    def _retry_after(self, error: Exception) -> float | None:
        """Retry throttling and outages, waiting at least the server's Retry-After when it sent one."""
        if not isinstance(error, GoogleApiError) or not error.retriable:
            return None
        # Refused credentials do not heal within seconds: the caller waits them out, slowly.
        if self._errors.unauthorized is not None and isinstance(error, self._errors.unauthorized):
            return None
        return error.retry_after or 0.0

    def _note_retry(self, method: str, retry: Retry) -> None:
        error = cast(GoogleApiError, retry.error)  # `_retry_after` retries no other error
        log.warning(
            "google_api.retry",
            api=self._system,
            method=method,
            attempt=retry.attempt,
            error=type(error).__name__,
            status=error.status,
            reason=error.reason,
            delay_seconds=round(retry.delay, 3),
        )
        self._requests.labels(method, "retried").inc()


def load_credentials(
    key_file: str | None, subject: str | None, endpoint: str | None, scopes: Sequence[str] = SCOPES
) -> Any:
    """Load the service account, or Application Default Credentials, or none for an emulator."""
    if key_file:
        credentials = _service_account(key_file, os.stat(key_file).st_mtime_ns, tuple(scopes))
        return credentials.with_subject(subject) if subject else credentials
    if endpoint:
        return None  # a local emulator or test server: requests go unauthenticated
    import google.auth

    credentials, _ = google.auth.default(scopes=list(scopes))
    return credentials


@functools.lru_cache(maxsize=8)
def _service_account(key_file: str, _modified_ns: int, scopes: tuple[str, ...]) -> Any:
    """Read a key file once (per version of it): parsing the RSA key takes tens of milliseconds,
    and a domain's thousand users each need credentials of their own (`with_subject` shares it)."""
    from google.oauth2 import service_account

    # google-auth has no type hints for this constructor.
    load = service_account.Credentials.from_service_account_file
    return load(key_file, scopes=list(scopes))  # type: ignore[no-untyped-call]


def http_factory(credentials: Any, timeout: float) -> HttpFactory:
    """Make a function that returns a new (authorized) Http object for the pool."""

    def make() -> Any:
        http = httplib2.Http(timeout=timeout)
        if credentials is None:
            return http
        from google_auth_httplib2 import AuthorizedHttp

        return AuthorizedHttp(credentials, http=http)

    return make
