"""Serve the Cohere stand-in: `python -m cohere_stub --port 9100 --api-key dev-cohere-key`."""

from __future__ import annotations

import argparse
import os

from aiohttp import web

from cohere_stub.server import CohereStub, create_app


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="cohere-stub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--api-key", default=os.environ.get("COHERE_API_KEY", "dev-cohere-key"))
    args = parser.parse_args()
    web.run_app(create_app(CohereStub(args.api_key)), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
