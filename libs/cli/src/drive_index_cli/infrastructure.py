"""`drive-index migrate` and `topics`: the schema and the Kafka topics a deployment needs."""

from __future__ import annotations

import argparse
from pathlib import Path

from drive_index_cli import checks
from drive_index_cli.connections import database_url
from drive_index_cli.output import print_rows
from shared import db, kafka, topics
from shared.settings import CommonSettings, load


async def migrate_command(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    if not directory.is_dir():  # noqa: ASYNC240 - one stat before any I/O starts
        raise checks.CheckFailedError(
            f"no migrations folder at {directory}; pass --dir or set MIGRATIONS_DIR"
        )
    applied = await db.migrate(database_url(), directory)
    print(
        f"applied {len(applied)} migration(s)"
        + (f": {', '.join(applied)}" if applied else ", already up to date")
    )
    return 0


async def topics_command(args: argparse.Namespace) -> int:
    settings = load(CommonSettings)
    layout = settings.topic_layout()
    if getattr(args, "partitions", None):  # --partitions overrides KAFKA_PARTITIONS
        layout = topics.Layout(args.partitions, layout.replication_factor, layout.min_insync_replicas)
    names = [topics.with_prefix(settings.kafka_topic_prefix, t) for t in topics.ALL]
    states = await kafka.ensure_topics(settings, names, layout)
    print_rows(
        [
            {
                "topic": s.name,
                "partitions": s.partitions,
                "replicas": s.replication_factor,
                "min.insync.replicas": "?" if s.min_insync_replicas is None else s.min_insync_replicas,
                "short of the settings": ", ".join(s.short_of(layout)) or "-",
            }
            for s in states
        ]
    )
    if any(s.short_of(layout) for s in states):
        raise checks.CheckFailedError(
            "some topics existed before with less than the settings ask and were left as they are:"
            " add partitions with kafka-topics.sh --alter, replicas with kafka-reassign-partitions.sh,"
            " min.insync.replicas with kafka-configs.sh --alter"
        )
    return 0
