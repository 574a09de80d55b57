"""A service killed mid-work and restarted: at-least-once delivery, idempotent writes, nothing lost."""

from __future__ import annotations

import pytest

from tests.faults.corpus import create_docs
from tests.faults.pipeline import Pipeline, Report
from tests.polling import wait_until

pytestmark = [pytest.mark.fault, pytest.mark.slow]

BATCH = 8
SECTIONS = 4
DEADLINE_SECONDS = 150.0
# Exports this slow keep the fetcher busy long enough to be killed in the middle of a page.
EXPORT_DELAY_SECONDS = 1.0

Chunks = list[tuple[int, str | None, str]]


def chunks_of(pipeline: Pipeline, file_ids: list[str]) -> dict[str, Chunks]:
    """Return each file's chunks as (position, heading, text), in order."""
    rows = pipeline.postgres.fetch(
        "SELECT file_id, position, heading, text FROM chunks WHERE file_id = ANY($1::text[]) "
        "ORDER BY file_id, position",
        file_ids,
    )
    found: dict[str, Chunks] = {file_id: [] for file_id in file_ids}
    for row in rows:
        found[row["file_id"]].append((row["position"], row["heading"], row["text"]))
    return found


def kill_mid_batch(pipeline: Pipeline, service: str, batch: dict[str, str]) -> int:
    """Kill `service` once part of the batch is indexed; return how many were."""
    done = wait_until(lambda: len(pipeline.indexed(list(batch))), lambda: f"no {service} progress", 60)
    pipeline.kill(service)
    assert done < len(batch), f"{service} finished the whole batch before it could be killed"
    return done


def assert_same_chunks(pipeline: Pipeline, clean: dict[str, str], replayed: dict[str, str]) -> None:
    """Each replayed Doc has exactly the chunks its clean twin (same text) got: none twice, none missing."""
    clean_chunks = chunks_of(pipeline, list(clean))
    replayed_chunks = chunks_of(pipeline, list(replayed))
    twins = {word: file_id for file_id, word in clean.items()}
    for file_id, word in replayed.items():
        chunks = replayed_chunks[file_id]
        assert [position for position, _, _ in chunks] == list(range(len(chunks))), file_id
        assert chunks == clean_chunks[twins[word]], f"{file_id} differs from its clean twin"


def test_killed_embedder_and_fetcher_lose_and_duplicate_nothing(pipeline: Pipeline, report: Report) -> None:
    # A clean run first: what every later twin of these texts must end up with.
    clean = create_docs(pipeline.drive, "lantern", BATCH, sections=SECTIONS)
    pipeline.wait_indexed(list(clean), DEADLINE_SECONDS)

    # The same texts again, as new Docs; the embedder dies while writing them.
    embedder_batch = create_docs(pipeline.drive, "lantern", BATCH, sections=SECTIONS)
    embedded_before = kill_mid_batch(pipeline, "embedder", embedder_batch)
    pipeline.restart("embedder")
    pipeline.wait_indexed(list(embedder_batch), DEADLINE_SECONDS)

    # And again; this time the fetcher dies with slow exports half done.
    pipeline.drive.fault(200, count=BATCH, path_prefix="/drive/v3/files/", delay_seconds=EXPORT_DELAY_SECONDS)
    fetcher_batch = create_docs(pipeline.drive, "lantern", BATCH, sections=SECTIONS)
    fetched_before = kill_mid_batch(pipeline, "fetcher", fetcher_batch)
    pipeline.restart("fetcher")
    pipeline.wait_indexed(list(fetcher_batch), DEADLINE_SECONDS)

    assert_same_chunks(pipeline, clean, embedder_batch)
    assert_same_chunks(pipeline, clean, fetcher_batch)
    for file_id, word in {**embedder_batch, **fetcher_batch}.items():
        pipeline.wait_searchable({file_id: word}, 30)
    pipeline.assert_no_dead_letters()
    report(
        f"killed the embedder after {embedded_before} and the fetcher after {fetched_before} of {BATCH} Docs"
    )
