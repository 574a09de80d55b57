"""Discover and start a thousand sources against the emulator as a Workspace domain.

    python bench/sources_scale.py [--users 1000] [--drives 20] [--calls-per-minute 0]

Runs the real sources sync (drive.source_sync, as `drive-index sources sync` and the fetcher's
schedule do) on a real PostgreSQL against the Drive emulator in its own process, with a
service-account key whose token_uri is the emulator: every user is impersonated as in production.
It prints the sync's time, the Drive and Directory calls by method and the token grants, then the
renewal load: the calls one renewal makes (measured by renewing every channel) and the renewals
each run of the chart's watch-renew CronJob makes over four weeks, with channel expiries spread as
`watch.start` spreads them and, as the baseline, all alike. Backfills are queued to a counting
publisher: this measures discovery and start, not indexing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from devstack import servers
from drive import discovery, source_sync, watch
from drive.client import DRIVE_REQUESTS
from drive.clients import DriveClients
from drive.directory import DIRECTORY_REQUESTS
from drive_emulator import EmulatorControl
from drive_emulator.auth import service_account_key
from shared import db, logs
from shared.events import Event

DOMAIN = "bench.example"
ADMIN = f"admin@{DOMAIN}"
# The chart's watch-renew CronJob: every 6 hours, renewing channels that expire within a day.
RENEW_EVERY = timedelta(hours=6)
RENEW_WITHIN = timedelta(days=1)
WEEKS = 4


class CountingPublisher:
    def __init__(self) -> None:
        self.events = 0

    async def publish(self, event: Event) -> None:
        self.events += 1


def calls(counter: object) -> Counter[str]:
    """Attempts by method so far, from a client's request counter."""
    totals: Counter[str] = Counter()
    for metric in counter.collect():  # type: ignore[attr-defined]
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                totals[sample.labels["method"]] += int(sample.value)
    return totals


@contextmanager
def emulator(workdir: Path) -> Iterator[str]:
    port = servers.free_port()
    process = servers.start_python(
        "drive_emulator",
        {},
        workdir / "emulator.log",
        ("--port", str(port), "--require-auth", "--log-level", "WARNING"),
    )
    try:
        servers.wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process)


def build_domain(control: EmulatorControl, users: int, drives: int) -> None:
    control.create_user(ADMIN, admin=True)
    for n in range(users - 1):
        control.create_user(f"user{n:04d}@{DOMAIN}")
    organizer = [{"type": "user", "role": "organizer", "emailAddress": ADMIN}]
    for n in range(drives):
        control.create_drive(f"Team {n:02d}", organizer)


def renewals_per_run(expiries: list[datetime], spread: float) -> list[int]:
    """Renewals in each CronJob run over WEEKS weeks, new expiries drawn as watch.start draws them."""
    start, now = min(expiries) - timedelta(days=7), min(expiries) - timedelta(days=7)
    pending, counts = sorted(expiries), []
    while now < start + timedelta(weeks=WEEKS):
        now += RENEW_EVERY
        due = [e for e in pending if e <= now + RENEW_WITHIN]
        pending = [e for e in pending if e > now + RENEW_WITHIN]
        pending += [now + watch.MAX_TTL * (1 - random.uniform(0, spread)) for _ in due]
        counts.append(len(due))
    return counts


async def run(args: argparse.Namespace, workdir: Path, url: str, dsn: str) -> None:
    control = EmulatorControl(url)
    started = time.perf_counter()
    build_domain(control, args.users, args.drives)
    built = time.perf_counter() - started
    print(f"domain built: {args.users} users, {args.drives} shared drives ({built:.1f}s)")
    settings = discovery.DiscoverySettings(
        drive_api_endpoint=f"{url}/drive/v3/",
        directory_api_endpoint=f"{url}/admin/directory/v1/",
        google_application_credentials=str(service_account_key(workdir / "key.json", f"{url}/token")),
        google_subject=ADMIN,
        drive_scope="domain",
        drive_webhook_url="http://127.0.0.1:9/hook",
        drive_calls_per_minute=args.calls_per_minute,
    )
    pool = await db.create_pool(dsn, max_size=4)
    publisher = CountingPublisher()
    try:
        async with DriveClients(settings, pool) as drives:
            adding = source_sync.Adding(
                pool, publisher, drives, settings.drive_webhook_url, report=lambda _: None
            )
            before_drive, before_directory, grants = (
                calls(DRIVE_REQUESTS),
                calls(DIRECTORY_REQUESTS),
                len(control.tokens()),
            )
            started = time.perf_counter()
            plan = await source_sync.sync(settings, adding)
            seconds = time.perf_counter() - started
            drive_calls = calls(DRIVE_REQUESTS) - before_drive
            directory_calls = calls(DIRECTORY_REQUESTS) - before_directory
            tokens = len(control.tokens()) - grants
            channels = await watch.list_channels(pool)
            print(
                f"\nsync: {len(plan.add)} sources added in {seconds:.1f}s "
                f"({len(plan.add) / seconds:.0f} sources/s), "
                f"{publisher.events} backfills queued, {len(channels)} channels open"
            )
            print(f"Drive calls: {sum(drive_calls.values())} {dict(sorted(drive_calls.items()))}")
            print(f"Directory calls: {sum(directory_calls.values())} {dict(sorted(directory_calls.items()))}")
            print(f"token grants (one per impersonated identity): {tokens}")
            if args.calls_per_minute:
                rows = await pool.fetch("SELECT calls FROM drive_call_budget WHERE key = 'project'")
                print(
                    f"busiest minute: {max(r['calls'] for r in rows)} calls (budget {args.calls_per_minute})"
                )

            expiries = [c.expires_at for c in channels if c.expires_at]
            before = sum(calls(DRIVE_REQUESTS).values())
            started = time.perf_counter()
            renewed = await watch.renew(pool, drives, within=timedelta(days=8))
            renew_seconds = time.perf_counter() - started
            per_renewal = (sum(calls(DRIVE_REQUESTS).values()) - before) / len(renewed)
    finally:
        await pool.close()
    print(
        f"\nrenewing all {len(renewed)} channels: {renew_seconds:.1f}s, "
        f"{per_renewal:.2f} Drive calls per renewal"
    )
    steady = slice(len(renewals_per_run(expiries, 0)) // 2, None)  # weeks 3-4: past the first cohort
    for name, spread in (
        ("spread (watch.EXPIRY_SPREAD)", watch.EXPIRY_SPREAD),
        ("all alike (baseline)", 0.0),
    ):
        runs = renewals_per_run([expiries[0]] * len(expiries) if spread == 0 else expiries, spread)[steady]
        hours = RENEW_EVERY.total_seconds() / 3600
        print(
            f"{name}: renewals per CronJob run max {max(runs)}, median {statistics.median(runs):.0f}; "
            f"Drive calls per hour mean {statistics.mean(runs) * per_renewal / hours:.0f}, "
            f"in the busiest run {max(runs) * per_renewal:.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=980, help="users, the admin included")
    parser.add_argument("--drives", type=int, default=20, help="shared drives")
    parser.add_argument("--calls-per-minute", type=int, default=0, help="project call budget (0: none)")
    args = parser.parse_args()
    logs.setup("bench", "WARNING")
    with tempfile.TemporaryDirectory(prefix="drive-index-bench-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # as root, PostgreSQL runs as its own user and must reach its datadir
        datadir = workdir / "pg"
        datadir.mkdir()
        datadir.chmod(0o755)
        server = servers.start_postgres_server(datadir)
        try:
            dsn = asyncio.run(servers.create_database(str(server.get_uri()), "bench_sources"))
            asyncio.run(db.migrate(dsn, db.default_migrations_dir()))
            with emulator(workdir) as url:
                asyncio.run(run(args, workdir, url, dsn))
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
