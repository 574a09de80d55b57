"""Cohere's `POST /v2/embed`, answered locally with deterministic vectors.

Vectors are hashed bags of words, so texts that share words are close and reruns are identical.
Requests and answers follow Cohere's wire format (Bearer key, 96-text limit, `output_dimension`
only for embed-v4, `{"message": ...}` error bodies), so the real `cohere` SDK talks to it unchanged.
Faults are queued by tests (`fail_next`) or over HTTP (`POST /_stub/faults`).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from embeddings.hashing import hashed_bag_of_words

MAX_TEXTS = 96
INPUT_TYPES = frozenset({"search_document", "search_query", "classification", "clustering", "image"})
# model -> (default dimensions, dimensions accepted as output_dimension)
MODELS: dict[str, tuple[int, tuple[int, ...]]] = {
    "embed-v4.0": (1536, (256, 512, 1024, 1536)),
    "embed-english-v3.0": (1024, ()),
    "embed-multilingual-v3.0": (1024, ()),
    "embed-english-light-v3.0": (384, ()),
    "embed-multilingual-light-v3.0": (384, ()),
}
FAULT_MESSAGES = {
    429: "You are past the rate limit of your key; please wait and try again",
    500: "internal server error, this has been reported to our developers",
    503: "the service is temporarily unavailable, please try again later",
}


class CohereStub:
    """What the stand-in knows: the key it accepts, the requests it saw, the faults queued."""

    def __init__(self, api_key: str = "test-cohere-key") -> None:
        self.api_key = api_key
        self.url = ""
        self.requests: list[dict[str, Any]] = []
        self._faults: deque[int] = deque()

    def fail_next(self, count: int, status: int = 429) -> None:
        """Answer the next `count` embed requests with HTTP `status` instead of vectors."""
        self._faults.extend([status] * count)

    @property
    def queued_faults(self) -> int:
        return len(self._faults)

    def take_fault(self) -> int | None:
        return self._faults.popleft() if self._faults else None


STUB = web.AppKey("stub", CohereStub)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


class RefusedError(Exception):
    """A request Cohere would refuse, with its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _check_texts(body: dict[str, Any]) -> list[str]:
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise RefusedError(400, "invalid request: texts must be a non-empty list of strings")
    if len(texts) > MAX_TEXTS:
        raise RefusedError(400, f"invalid request: at most {MAX_TEXTS} texts are allowed, got {len(texts)}")
    return texts


def _check_dimensions(body: dict[str, Any]) -> int:
    """Return the dimensions to answer with for the requested model and output_dimension."""
    model = body.get("model")
    if model not in MODELS:
        raise RefusedError(404, f"model '{model}' not found, make sure the model name is correct")
    default, accepted = MODELS[model]
    dimension = body.get("output_dimension")
    if dimension is None:
        return default
    if dimension not in accepted:
        raise RefusedError(400, f"invalid request: output_dimension {dimension} is not supported by {model}")
    return int(dimension)


def _check(body: dict[str, Any]) -> tuple[list[str], int]:
    """Validate an embed request as Cohere does; return its texts and output dimensions."""
    dimensions = _check_dimensions(body)
    if body.get("input_type") not in INPUT_TYPES:
        raise RefusedError(400, f"invalid request: input_type must be one of {sorted(INPUT_TYPES)}")
    if body.get("embedding_types", ["float"]) != ["float"]:
        raise RefusedError(400, "invalid request: this stand-in only serves embedding_types ['float']")
    return _check_texts(body), dimensions


async def embed(request: web.Request) -> web.Response:
    stub = request.app[STUB]
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "invalid request: body is not JSON")
    stub.requests.append(body)
    fault = stub.take_fault()
    if fault is not None:
        return _error(fault, FAULT_MESSAGES.get(fault, "injected fault"))
    if request.headers.get("Authorization") != f"Bearer {stub.api_key}":
        return _error(401, "invalid api token")
    try:
        texts, dimensions = _check(body)
    except RefusedError as refused:
        return _error(refused.status, refused.message)
    return web.json_response(
        {
            "id": str(uuid.uuid4()),
            "texts": texts,
            "embeddings": {"float": [hashed_bag_of_words(t, dimensions).tolist() for t in texts]},
            "meta": {
                "api_version": {"version": "2"},
                "billed_units": {"input_tokens": sum(len(t.split()) for t in texts)},
            },
            "response_type": "embeddings_by_type",
        }
    )


async def add_faults(request: web.Request) -> web.Response:
    """Queue faults over HTTP: `{"status": 503, "count": 2}`."""
    body = await request.json()
    request.app[STUB].fail_next(int(body.get("count", 1)), int(body.get("status", 429)))
    return web.json_response({"queued": request.app[STUB].queued_faults})


async def list_requests(request: web.Request) -> web.Response:
    return web.json_response(request.app[STUB].requests)


def create_app(stub: CohereStub) -> web.Application:
    """Make the stand-in's app, serving `stub`'s state."""
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STUB] = stub
    app.router.add_post("/v2/embed", embed)
    app.router.add_post("/_stub/faults", add_faults)
    app.router.add_get("/_stub/requests", list_requests)
    return app


@asynccontextmanager
async def running(api_key: str = "test-cohere-key", port: int = 0) -> AsyncIterator[CohereStub]:
    """Serve a stand-in on 127.0.0.1 (any free port by default); `stub.url` is its base URL."""
    stub = CohereStub(api_key)
    runner = web.AppRunner(create_app(stub), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    stub.url = f"http://127.0.0.1:{bound}"
    try:
        yield stub
    finally:
        await runner.cleanup()
