"""`python -m drive_emulator --port 9000 [--seed]`: serve the emulated Drive."""

from __future__ import annotations

import argparse

from aiohttp import web

from drive_emulator.app import create_app


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="drive-emulator", description="A local Google Drive v3 emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--seed", action="store_true", help="add sample company documents")
    parser.add_argument(
        "--require-auth", action="store_true", help="refuse calls without a token from /token"
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    from shared import logs

    logs.setup("drive-emulator", args.log_level)
    app = create_app(seed_samples=args.seed, require_auth=args.require_auth)
    base = f"http://{args.host}:{args.port}"
    endpoints = f"DRIVE_API_ENDPOINT={base}/drive/v3/ DIRECTORY_API_ENDPOINT={base}/admin/directory/v1/"
    print(f"Drive emulator: {endpoints}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
