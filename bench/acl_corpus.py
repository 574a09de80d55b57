"""A search corpus with Drive-like sharing, for the latency benchmarks: chunks, vectors and readers.

Every file is shared with the whole staff group, with one of ten teams and with one of a hundred
owners, so three callers over the same rows see 100 %, 10 % and 1 % of the files. Vectors come
from the local model; past `real` chunks they are synthetic (see `synthesize`), because the model
embeds only ~25-100 chunks a second on 2 cores.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from corpus import TOPICS, paragraph

from embeddings.local import LocalEmbedder
from shared import access, db

CHUNKS_PER_DOC = 10
DOMAIN = "corp.example"
TEAMS, OWNERS = 10, 100


@dataclass(frozen=True)
class Caller:
    """A searcher as the trusted proxy names them, and the share of files they may read."""

    label: str
    email: str
    groups: tuple[str, ...] = ()

    def headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-Email": self.email}
        if self.groups:
            headers["X-Forwarded-Groups"] = ",".join(self.groups)
        return headers

    def principals(self) -> list[str]:
        return access.principals(self.email, self.groups)


EVERYONE = Caller("100 %", f"reader@{DOMAIN}", (f"staff@{DOMAIN}",))
CALLERS = (
    EVERYONE,
    Caller("10 %", f"member@{DOMAIN}", (f"team-03@{DOMAIN}",)),
    Caller("1 %", f"owner-007@{DOMAIN}"),
)


def readers(doc: int) -> list[str]:
    """Who may find file number `doc`: the staff group, its team and its owner."""
    return access.readers(
        [
            access.Permission(type="group", role="reader", email_address=f"staff@{DOMAIN}"),
            access.Permission(type="group", role="writer", email_address=f"team-{doc % TEAMS:02d}@{DOMAIN}"),
            access.Permission(type="user", role="owner", email_address=f"owner-{doc % OWNERS:03d}@{DOMAIN}"),
        ]
    )


def texts(count: int) -> tuple[list[str], list[str]]:
    """Return `count` three-sentence paragraphs and their topics; a longer corpus extends a shorter."""
    rng = random.Random(7)
    paragraphs, topics = [], []
    for _ in range(count):
        topics.append(rng.choice(sorted(TOPICS)))
        paragraphs.append(paragraph(rng, topics[-1], sentences=3))
    return paragraphs, topics


async def embed(embedder: LocalEmbedder, paragraphs: list[str], cache: Path | None = None) -> np.ndarray:
    """Embed with the model, showing progress (the slow part of a run); reuse a cached copy if any."""
    digest = hashlib.sha256("\n".join([embedder.model_name, *paragraphs]).encode()).hexdigest()[:16]
    path = cache / f"{embedder.model_name}-{len(paragraphs)}-{digest}.npy" if cache else None
    if path and path.exists():
        print(f"  read {len(paragraphs)} vectors the model made earlier from {path}")
        return np.load(path)
    vectors: list[np.ndarray] = []
    started = time.perf_counter()
    for start in range(0, len(paragraphs), 256):
        vectors.extend(np.asarray(v) for v in await embedder.embed_documents(paragraphs[start : start + 256]))
        rate = len(vectors) / (time.perf_counter() - started)
        print(f"\r  embedded {len(vectors)}/{len(paragraphs)} chunks ({rate:.0f}/s)", end="", flush=True)
    print()
    stacked = np.stack(vectors).astype(np.float32)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, stacked)
    return stacked


def neighbour_cosine(real: np.ndarray, sample: int = 500) -> float:
    """The median cosine between a real chunk and its nearest other real chunk."""
    rows = real[: min(sample, len(real))]
    similarity = rows @ real.T
    similarity[np.arange(len(rows)), np.arange(len(rows))] = -1.0
    return float(np.median(similarity.max(axis=1)))


def synthesize(real: np.ndarray, real_topics: list[str], topics: list[str]) -> tuple[np.ndarray, float]:
    """Make one vector per wanted topic: a real vector of that topic plus Gaussian noise.

    The noise puts each copy as far from its source as a real chunk's nearest real neighbour is
    from it (returned), so the copies neither collapse onto their sources nor leave the topic.
    """
    rng = np.random.default_rng(13)
    target = neighbour_cosine(real)
    # For unit u and noise n ~ N(0, s^2 I_d): cos(u, u + n) ~ 1 / sqrt(1 + d s^2).
    sigma = np.sqrt(max(1 / target**2 - 1, 1e-6) / real.shape[1])
    by_topic = {topic: np.flatnonzero(np.asarray(real_topics) == topic) for topic in set(real_topics)}
    sources = np.array([rng.choice(by_topic[topic]) for topic in topics], dtype=np.int64)
    noisy = real[sources] + rng.normal(0.0, sigma, (len(sources), real.shape[1])).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True), target


async def vectors_for(
    embedder: LocalEmbedder, paragraphs: list[str], topics: list[str], real: int, cache: Path | None = None
) -> tuple[np.ndarray, str]:
    """Embed the first `real` paragraphs, synthesize the rest; return the vectors' description."""
    real = min(real, len(paragraphs))
    embedded = await embed(embedder, paragraphs[:real], cache)
    if real == len(paragraphs):
        return embedded, f"all {real} embedded with {embedder.model_name}"
    synthetic, cosine = synthesize(embedded, topics[:real], topics[real:])
    note = (
        f"{real} embedded with {embedder.model_name}; {len(synthetic)} synthetic: a real vector of the"
        f" same topic plus Gaussian noise, cosine ~{cosine:.3f} to it (the median real nearest-neighbour"
        " cosine); texts stay distinct paragraphs"
    )
    return np.concatenate([embedded, synthetic]), note


async def load(dsn: str, model: str, paragraphs: list[str], vectors: np.ndarray) -> None:
    """Insert files, their readers and chunks; build the model's HNSW index once, after the rows."""
    pool = await db.create_pool(dsn, max_size=1)
    docs = (len(paragraphs) + CHUNKS_PER_DOC - 1) // CHUNKS_PER_DOC
    async with pool.acquire() as connection:
        # The migration's own index definition, dropped and built again in one pass over the rows.
        hnsw = await connection.fetchrow(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'chunks'"
            " AND indexdef ILIKE '%USING hnsw%' AND indexdef LIKE '%' || $1 || '%'",
            model,
        )
        await connection.execute(f"DROP INDEX {hnsw['indexname']}")
        await connection.execute("INSERT INTO sources (id) VALUES ('bench')")
        await connection.copy_records_to_table(
            "documents",
            records=[
                (f"doc{n}", "bench", f"Handbook {n}", "application/vnd.google-apps.document", 1)
                for n in range(docs)
            ],
            columns=["file_id", "source_id", "name", "mime_type", "version"],
        )
        await connection.copy_records_to_table(
            "file_access",
            records=[(f"doc{n}", 1, readers(n)) for n in range(docs)],
            columns=["file_id", "version", "readers"],
        )
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "chunks",
            records=[
                (f"doc{i // CHUNKS_PER_DOC}", i % CHUNKS_PER_DOC, text, len(text.split()), model, vector)
                for i, (text, vector) in enumerate(zip(paragraphs, vectors, strict=True))
            ],
            columns=["file_id", "position", "text", "token_count", "model", "embedding"],
        )
        copied = time.perf_counter() - started
        await connection.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        await connection.execute(hnsw["indexdef"])
        built = time.perf_counter() - started
        await connection.execute("VACUUM ANALYZE")
    await pool.close()
    print(f"  copied {len(paragraphs)} chunks in {copied:.1f} s; built the HNSW index in {built:.1f} s")
