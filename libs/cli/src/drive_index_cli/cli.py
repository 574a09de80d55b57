"""`drive-index`: the operator's runbook as commands.

drive-index migrate            apply db/migrations
drive-index topics             create the Kafka topics and their dead-letter topics
drive-index watch start|renew|stop|list
drive-index sources add|list|remove|sync   users' My Drives and shared drives to index
drive-index backfill|reconcile queue a full pass over a source's files (reconcile --dry-run shows it)
drive-index status FILE         what the index knows about one file
drive-index search "query"     ask the search service (with DRIVE_INDEX_API_KEY when set)
drive-index groups sync         copy Google Groups membership from the Directory API
drive-index apikey create|list|revoke   API keys for search's service callers
drive-index smoke              post-deploy check: health, a replayed webhook, a search hit
drive-index doctor             check settings, database, broker, Drive and channels
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

from drive_index_cli import checks
from shared import apikeys, db
from shared.settings import SettingsError

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
# Quoted: argparse's class takes no subscript at run time before Python 3.12.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# Each command is `<name>_command` in its module, imported only when it runs: a command that never
# talks to Google does not load Google's client.
COMMANDS = {
    "migrate": "infrastructure",
    "topics": "infrastructure",
    "watch": "channels",
    "backfill": "passes",
    "reconcile": "passes",
    "status": "status",
    "search": "searching",
    "apikey": "keys",
    "sources": "sources",
    "groups": "groups",
    "smoke": "smoke",
    "doctor": "doctor",
}


def build_parser() -> argparse.ArgumentParser:
    """Every command and its arguments, in the order `drive-index --help` lists them."""
    parser = argparse.ArgumentParser(prog="drive-index", description="Operate a Drive Index deployment.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_infrastructure,
        _add_watch,
        _add_passes,
        _add_lookups,
        _add_apikey,
        _add_sources,
        _add_groups,
        _add_checks,
    ):
        add(sub)
    return parser


def _add_infrastructure(sub: Subparsers) -> None:
    migrate = sub.add_parser("migrate", help="apply the SQL migrations not applied yet")
    migrate.add_argument("--dir", type=Path, default=db.default_migrations_dir())
    topics_cmd = sub.add_parser("topics", help="create the pipeline topics and dead-letter topics")
    topics_cmd.add_argument("--partitions", type=int, default=None, help="default: KAFKA_PARTITIONS")


def _add_watch(sub: Subparsers) -> None:
    watch = sub.add_parser("watch", help="manage Drive push-notification channels")
    watch_sub = watch.add_subparsers(dest="action", required=True)
    start = watch_sub.add_parser("start", help="register a channel (and stop channels to other addresses)")
    start.add_argument("--source", default="default")
    start.add_argument("--address", default=os.environ.get("DRIVE_WEBHOOK_URL"))
    start.add_argument("--ttl-hours", type=float, default=24 * 7)
    renew = watch_sub.add_parser("renew", help="replace channels that expire soon")
    renew.add_argument("--within-hours", type=float, default=24)
    stop = watch_sub.add_parser("stop", help="stop channels")
    stop.add_argument("channel", nargs="*", help="channel ids (default: every active channel)")
    listing = watch_sub.add_parser("list", help="list channels")
    listing.add_argument("--all", action="store_true", help="include stopped channels")


def _add_passes(sub: Subparsers) -> None:
    for name, what in (
        ("backfill", "index every file"),
        ("reconcile", "index every file, drop vanished ones"),
    ):
        pass_cmd = sub.add_parser(name, help=f"queue a pass that will {what}")
        pass_cmd.add_argument("--source", default="default")
    reconcile = sub.choices["reconcile"]
    reconcile.add_argument(
        "--dry-run", action="store_true", help="print what would be deleted; change nothing"
    )
    reconcile.add_argument("--force", action="store_true", help="delete even more than --max-delete-share")
    reconcile.add_argument(
        "--max-delete-share",
        type=float,
        default=float(os.environ.get("FETCHER_RECONCILE_MAX_DELETE_SHARE", "0.1")),
        help="without --force, delete at most this share of the indexed files (the fetcher's setting)",
    )


def _add_lookups(sub: Subparsers) -> None:
    status = sub.add_parser("status", help="what the index knows about one file, and why it is (not) found")
    status.add_argument("file_id")
    search = sub.add_parser("search", help="search the index")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--url", default=os.environ.get("SEARCH_URL", "http://127.0.0.1:8083"))


def _add_apikey(sub: Subparsers) -> None:
    apikey = sub.add_parser("apikey", help="manage API keys for search's service callers")
    actions = apikey.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key (printed once; only its hash is kept)")
    create.add_argument("--email", required=True, help="whose files the key may find")
    create.add_argument("--groups", default="", help="comma-separated groups the key also holds")
    create.add_argument("--expires", type=_expiry, help="30d, 12h, 2w or an ISO date (default: never)")
    create.add_argument("--description", help="what the key is for")
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked and expired keys")
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("id", help="the key's id, as `apikey list` shows it")


def _expiry(value: str) -> datetime:
    try:
        return apikeys.parse_expiry(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_sources(sub: Subparsers) -> None:
    sources = sub.add_parser("sources", help="the users' My Drives and shared drives that are indexed")
    actions = sources.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add", help="index a source now: queues its backfill, opens its channel if DRIVE_WEBHOOK_URL is set"
    )
    add.add_argument(
        "source", nargs="+", help="user:<email> | drive:<id>[?as=<member email>] | folder:<id>[?as=<email>]"
    )
    listing = actions.add_parser("list", help="sources with cursor age, channel expiry, files, last error")
    listing.add_argument("--all", action="store_true", help="include removed sources")
    remove = actions.add_parser("remove", help="stop following a source; its files nobody else sees leave")
    remove.add_argument("source", nargs="+")
    actions.add_parser(
        "sync", help="follow every active user and shared drive (DRIVE_SCOPE=domain) and DRIVE_SOURCES"
    )


def _add_groups(sub: Subparsers) -> None:
    groups = sub.add_parser("groups", help="Google Groups membership for permission checks")
    groups.add_subparsers(dest="action", required=True).add_parser(
        "sync", help="copy every group's members from the Directory API now"
    )


def _add_checks(sub: Subparsers) -> None:
    for cmd in (sub.add_parser("smoke", help="post-deploy check"), sub.add_parser("doctor", help="diagnose")):
        cmd.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
        cmd.add_argument("--fetcher", default=os.environ.get("FETCHER_URL", "http://127.0.0.1:8081"))
        cmd.add_argument("--embedder", default=os.environ.get("EMBEDDER_URL", "http://127.0.0.1:8082"))
        cmd.add_argument("--search", default=os.environ.get("SEARCH_URL", "http://127.0.0.1:8083"))
    smoke = sub.choices["smoke"]
    smoke.add_argument("--source", default="default")
    smoke.add_argument("--query", help="a search that must find --expect")
    smoke.add_argument("--expect", help="title (or file id) the query must return")
    smoke.add_argument("--timeout", type=float, default=60)


def command(name: str) -> Command:
    """The function that runs the command `name`."""
    module = importlib.import_module(f"drive_index_cli.{COMMANDS[name]}")
    found: Command = getattr(module, f"{name}_command")
    return found


def main(argv: list[str] | None = None) -> None:
    """Run one command; exit 0 when it succeeded."""
    args = build_parser().parse_args(argv)
    try:
        code: int = asyncio.run(command(args.command)(args))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    except checks.CheckFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)
