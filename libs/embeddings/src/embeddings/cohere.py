"""Cohere's embed API (v2) through the official SDK, batched and retried with backoff."""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Sequence
from typing import Literal

import cohere
import httpx
import numpy as np
import structlog
from cohere.core.api_error import ApiError
from cohere.errors import (
    GatewayTimeoutError,
    InternalServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
)

from embeddings.base import DEFAULT_TIMEOUT_SECONDS, EMBEDDING_SECONDS, Vector, batch_indices
from shared.backoff import Backoff, Retry, retrying
from shared.errors import PermanentError, RetriableError

log = structlog.get_logger(__name__)

InputType = Literal["search_document", "search_query"]

# Cohere's documented limit of texts per embed request.
MAX_TEXTS_PER_REQUEST = 96
# Throttling, server-side failures, a network that failed before an answer came (refused, reset,
# timed out) and an answer slower than the timeout: the same request can succeed a moment later.
RETRIABLE_ERRORS = (
    TimeoutError,
    TooManyRequestsError,
    InternalServerError,
    ServiceUnavailableError,
    GatewayTimeoutError,
    httpx.TransportError,
)
# The SDK has no class for 502 Bad Gateway (answered by proxies in front of Cohere): a bare ApiError.
BAD_GATEWAY = 502


class CohereUnavailableError(RetriableError):
    """Cohere kept throttling or failing after every retry; the work should be tried again later."""


class CohereRejectedError(PermanentError):
    """Cohere refused the request itself (bad input): retrying the same message cannot help."""


class CohereCredentialsError(RetriableError):
    """Cohere refused our key (401/403): not the message's fault, so the work pauses and alerts.

    Retriable for the consume loop, which waits it out slowly (the stalled-consumer alert fires);
    never retried here, where seconds cannot fix a key. Nothing is dead-lettered or deleted.
    """


# Answers that mean our key or account is wrong, not the texts.
CREDENTIAL_STATUSES = frozenset({401, 403})


def accepts_output_dimension(model: str) -> bool:
    """Tell whether `model` takes `output_dimension` (embed-v4 and newer do)."""
    match = re.match(r"embed-v(\d+)", model)
    return bool(match and int(match.group(1)) >= 4)


class CohereEmbedder:
    """Embed through Cohere, at most 96 texts per request; throttling is retried, then surfaced."""

    max_batch_size = MAX_TEXTS_PER_REQUEST

    def __init__(
        self,
        api_key: str,
        *,
        model: str = "embed-v4.0",
        dimensions: int = 1024,
        base_url: str | None = None,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 20.0,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.model_name = model
        self.dimensions = dimensions
        # The project's one backoff rule: full jitter, so replicas throttled together spread out.
        self.backoff = Backoff(max_attempts - 1, backoff_seconds, max_backoff_seconds)
        self.timeout_seconds = timeout_seconds
        # httpx's timeout bounds each phase (connect, each read); `_request` bounds the whole request,
        # so an answer trickling in byte by byte cannot hold a batch forever either.
        self._http = httpx.AsyncClient(timeout=timeout_seconds)
        # The SDK's own retries are off: ours name what they retry, back off with jitter, then raise.
        self._client = cohere.AsyncClientV2(
            api_key=api_key, base_url=base_url, httpx_client=self._http, max_retries=0
        )

    def count_tokens(self, text: str) -> int:
        # Cohere's tokenizer would cost a download or a request per chunk; ~4 characters per token
        # is close for English, and the chunk budget sits far below embed-v4's 128k-token context.
        return (len(text) + 3) // 4

    async def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector] = []
        for start, end in batch_indices(len(texts), MAX_TEXTS_PER_REQUEST):
            vectors.extend(await self._embed_batch(texts[start:end], "search_document"))
        return vectors

    async def embed_query(self, text: str) -> Vector:
        vectors = await self._embed_batch([text], "search_query")
        return vectors[0]

    async def close(self) -> None:
        await self._http.aclose()

    async def _embed_batch(self, texts: Sequence[str], input_type: InputType) -> list[Vector]:
        purpose = "query" if input_type == "search_query" else "document"
        started = time.perf_counter()
        response = await self._with_retries(texts, input_type)
        EMBEDDING_SECONDS.labels("cohere", purpose).observe(time.perf_counter() - started)
        floats = response.embeddings.float_ or []
        if len(floats) != len(texts):
            raise CohereRejectedError(f"Cohere returned {len(floats)} embeddings for {len(texts)} texts")
        vectors = [np.asarray(values, dtype=np.float32) for values in floats]
        if vectors and vectors[0].shape[0] != self.dimensions:
            got = vectors[0].shape[0]
            raise CohereRejectedError(
                f"{self.model_name} gave {got} dimensions; COHERE_DIMENSIONS={self.dimensions}"
            )
        return vectors

    async def _with_retries(self, texts: Sequence[str], input_type: InputType) -> cohere.EmbedByTypeResponse:
        return await retrying(
            functools.partial(self._request, texts, input_type),
            on=_retriable,
            backoff=self.backoff,
            before_wait=_note_retry,
            give_up=lambda error, attempts: CohereUnavailableError(
                f"Cohere failed {attempts} times, last: {_describe(error)}"
            ),
        )

    async def _request(self, texts: Sequence[str], input_type: InputType) -> cohere.EmbedByTypeResponse:
        async with asyncio.timeout(self.timeout_seconds):
            return await self._embed(texts, input_type)

    async def _embed(self, texts: Sequence[str], input_type: InputType) -> cohere.EmbedByTypeResponse:
        if accepts_output_dimension(self.model_name):
            return await self._client.embed(
                texts=list(texts),
                model=self.model_name,
                input_type=input_type,
                embedding_types=["float"],
                output_dimension=self.dimensions,
            )
        return await self._client.embed(
            texts=list(texts), model=self.model_name, input_type=input_type, embedding_types=["float"]
        )


def _retriable(error: Exception) -> float | None:
    """Retry throttling, outages and 502; turn a refused key or request into its typed error."""
    if isinstance(error, RETRIABLE_ERRORS):
        return 0.0
    if not isinstance(error, ApiError):
        return None
    if error.status_code in CREDENTIAL_STATUSES:
        raise CohereCredentialsError(
            f"Cohere refused COHERE_API_KEY ({error.status_code}): fix the key; the embedder waits"
        ) from error
    if error.status_code != BAD_GATEWAY:
        raise CohereRejectedError(f"Cohere answered {error.status_code}: {str(error.body)[:500]}") from error
    return 0.0


def _note_retry(retry: Retry) -> None:
    log.warning(
        "cohere.retry", attempt=retry.attempt, delay=round(retry.delay, 2), error=_describe(retry.error)
    )


def _describe(error: Exception) -> str:
    if isinstance(error, ApiError):
        return f"HTTP {error.status_code}"
    if isinstance(error, TimeoutError):
        return "no answer within the timeout"
    return f"{type(error).__name__}: {error}"
