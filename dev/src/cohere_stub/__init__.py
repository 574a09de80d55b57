"""A local stand-in for Cohere's embed API, for tests and `make dev` without a Cohere account."""

from cohere_stub.server import CohereStub, create_app, running

__all__ = ["CohereStub", "create_app", "running"]
