"""`make dev`: the whole stack on this machine, on embedded defaults, until Ctrl-C.

PostgreSQL 18 + pgvector (data kept in .devdata/pg), Tansu on :9092 (memory storage), the local
embedding model, the Drive emulator seeded with samples on :9000 (unless DRIVE_API_ENDPOINT or
GOOGLE_APPLICATION_CREDENTIALS points at a real Drive), the four services on :8080-8083, and a
sign-in proxy on :8084 that plays the company's authenticating proxy in front of search.
"""

from __future__ import annotations

import os
import signal
import time
import warnings
from contextlib import ExitStack
from pathlib import Path

from devstack import stack
from drive_emulator import samples

ROOT = Path.cwd()
DATA = ROOT / ".devdata"
EMULATOR_PORT = 9000
SIGNIN_PORT = 8084
KAFKA_PORT = int(os.environ.get("DEV_KAFKA_PORT", "9092"))


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def cli(env: dict[str, str], *args: str) -> bool:
    """Run a `drive-index` command the way an operator would; tell whether it succeeded."""
    return stack.cli(env, *args, capture=False).returncode == 0


def register_channel(env: dict[str, str], local_webhook: str) -> None:
    """Ask Drive to push changes to the gateway; without a channel the fetcher's poll still works."""
    webhook = os.environ.get("DRIVE_WEBHOOK_URL")
    if webhook is None and "DRIVE_API_ENDPOINT" not in env and "DRIVE_API_ENDPOINT" not in os.environ:
        step("no DRIVE_WEBHOOK_URL: Google only notifies public HTTPS addresses")
        print("    set it to this machine's public address (a tunnel will do) for updates within")
        print("    seconds; until then the fetcher reads Drive's change feed every 5 minutes.")
        return
    webhook = webhook or local_webhook
    step(f"registering a watch channel for {webhook}")
    if not cli(env, "watch", "start", "--address", webhook):
        print("    Drive refused the channel (see above); the fetcher's 5-minute poll keeps the index")
        print("    current meanwhile. Fix DRIVE_WEBHOOK_URL, then run `drive-index watch start`.")


def start_drive(exits: ExitStack, logs: Path, emulated: bool) -> str | None:
    """Use the configured Drive (None), or start the emulator with sample documents (its URL)."""
    if not emulated:
        step(f"using Drive at {os.environ.get('DRIVE_API_ENDPOINT') or 'googleapis.com'}")
        return None
    step(f"starting the Drive emulator on :{EMULATOR_PORT} with sample documents")
    return exits.enter_context(stack.emulator(logs / "drive-emulator.log", "--seed", port=EMULATOR_PORT))


def dev_users(emulated: bool) -> list[str]:
    """Whom the sign-in proxy lets you be: DEV_USERS, else the emulator's sample users."""
    given = [user.strip() for user in os.environ.get("DEV_USERS", "").split(",") if user.strip()]
    if given or not emulated:
        return given or [os.environ.get("GOOGLE_SUBJECT") or "you@example.com"]
    return list(samples.USERS)


def start_signin_proxy(exits: ExitStack, logs: Path, search: str, users: list[str]) -> str:
    """Stand in for the company's authenticating proxy, so the page works as a sample user."""
    args = ("--upstream", search, "--users", ",".join(users))
    return exits.enter_context(
        stack.serve("devstack.signin_proxy", logs / "signin-proxy.log", *args, port=SIGNIN_PORT)
    )


def start_backing(exits: ExitStack, logs: Path, emulated: bool) -> dict[str, str]:
    """Start PostgreSQL, the broker and Drive (unless a real one is configured); the services' env."""
    # The emulator keeps its files in memory, so an index kept from its last run would hold a
    # change cursor it no longer knows: with the emulator, the index starts empty every time.
    kept = "a fresh index for the emulated Drive" if emulated else "the index is kept between runs"
    step(f"starting PostgreSQL 18 + pgvector (in .devdata/pg; {kept})")
    server = exits.enter_context(stack.postgres(DATA / "pg"))
    dsn, applied = stack.database(server.get_uri(), "drive_index", fresh=emulated)
    print(f"    migrations applied: {applied or 'none pending'}")

    step(f"starting the Kafka-protocol broker (Tansu) on :{KAFKA_PORT}")
    bootstrap = exits.enter_context(stack.broker(KAFKA_PORT, logs / "tansu.log"))
    return stack.service_env(
        dsn,
        bootstrap,
        emulator=start_drive(exits, logs, emulated),
        # The sign-in proxy (and curl on this machine) may say who the caller is.
        SEARCH_TRUSTED_PROXIES=os.environ.get("SEARCH_TRUSTED_PROXIES", "127.0.0.1/32"),
    )


def run() -> None:
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as exits:
        emulated = not (
            os.environ.get("DRIVE_API_ENDPOINT") or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        )
        env = start_backing(exits, logs, emulated)
        step("starting the four services (the first start loads the embedding model)")
        services = exits.enter_context(
            stack.running(
                env, logs, ports=stack.DEFAULT_PORTS, progress=lambda line: print(f"    {line}", flush=True)
            )
        )

        users = dev_users(emulated)
        signin = start_signin_proxy(exits, logs, services.url("search"), users)
        register_channel(env, services.webhook)
        if "DIRECTORY_API_ENDPOINT" in env or os.environ.get("GOOGLE_SUBJECT"):
            step("copying Google Groups membership from the directory")
            if not cli(env, "groups", "sync"):
                print("    no directory access: groups come only from the caller's identity")
        step("indexing what is already in Drive")
        if not cli(env, "backfill"):
            raise SystemExit("could not queue the backfill; see the error above")
        print(_banner(services, signin, users, emulated), flush=True)
        _wait_for_signal()
        step("stopping the services, the broker and PostgreSQL")
    print("stopped", flush=True)


def _banner(services: stack.Stack, signin: str, users: list[str], emulated: bool) -> str:
    emulator = (
        f"  emulator      add a Doc: curl -X POST localhost:{EMULATOR_PORT}/control/files"
        """ -H 'content-type: application/json' -d '{"name": "Parking", "mimeType":"""
        """ "application/vnd.google-apps.document", "content": "# Parking\\nBikes go in the basement."}'\n"""
        if emulated
        else ""
    )
    return f"""
Drive Index is running.
  search page   {signin}/   (signed in as {users[0]}; switch at {signin}/_dev/users)
  search API    curl '{signin}/search?q=how+do+I+claim+expenses'
                curl -H 'X-Forwarded-Email: {users[-1]}' '{services.url("search")}/search?q=expenses'
  CLI           .venv/bin/drive-index apikey create --email {users[0]}   (prints a key once)
                DRIVE_INDEX_API_KEY=<key> .venv/bin/drive-index search "how do I claim expenses"
  users         {", ".join(users)}
  logs          .devdata/logs/
{emulator}Press Ctrl-C to stop.
"""


def _wait_for_signal() -> None:
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Both set explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stopping:
        time.sleep(0.2)


if __name__ == "__main__":
    # platformdirs warns that XDG_RUNTIME_DIR is unset (as in containers and CI); nothing to act on.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    run()
