"""Search with permission filtering: callers who see 100 %, 10 % and 1 % of the files, against the
same statement without the access join, as SQL alone and over HTTP; k kept, recall, and plans.

The SQL runs through the search service's own adapter (`PostgresIndex`), so the statement and its
settings (ef_search, iterative scans, custom plans) are the ones served. The baseline swaps in
the statement without the access join; it exists only here, never as a setting of the service.
Configurations take turns query by query, so a busy machine slows them all alike.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from acl_corpus import CALLERS, EVERYONE, Caller
from plans import explain, summarize

from devstack import servers, stack
from drive_index_cli import checks
from search.adapters.index import PostgresIndex
from search.query import SearchQuery
from search.settings import SearchSettings
from shared import db

BENCH = Path(__file__).resolve().parent
ACCESS_JOIN = "JOIN file_access a ON a.file_id = d.file_id AND a.readers && $11::text[]"
FIRST_CTE = "WITH RECURSIVE folder_tree(id) AS ("
BASELINE = "no filter (baseline)"
CANDIDATES = SearchSettings.model_fields["search_candidates"].default
K = 10
WARM_UP = 10


def unfiltered(sql: str) -> str:
    """The served statement without its access join: the baseline, built only by the benchmark."""
    assert sql.count(ACCESS_JOIN) == 2, "the search SQL changed: update the bench"
    assert sql.count(FIRST_CTE) == 1, "the search SQL changed: update the bench"
    # $11 (the principals) still needs a type: an unreferenced CTE gives it one and is planned away.
    typed = "WITH RECURSIVE unused(principals) AS (SELECT $11::text[]), folder_tree(id) AS ("
    return sql.replace(ACCESS_JOIN, "").replace(FIRST_CTE, typed)


def with_settings(dsn: str, settings: Mapping[str, str]) -> str:
    """The DSN with server settings for every connection (asyncpg passes unknown parameters on)."""
    parts = urllib.parse.urlsplit(dsn)
    query = urllib.parse.parse_qsl(parts.query) + list(settings.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@dataclass(frozen=True)
class Config:
    """Who asks, and how the database is set: the served defaults, or a what-if."""

    label: str
    caller: Caller
    baseline: bool = False
    max_scan_tuples: int | None = None  # None: pgvector's default
    candidates: int = CANDIDATES
    # enable_sort off leaves the planner only the HNSW index for the vector ranking's ORDER BY.
    force_hnsw: bool = False

    def settings(self) -> dict[str, str]:
        chosen = {"hnsw.max_scan_tuples": str(self.max_scan_tuples)} if self.max_scan_tuples else {}
        return {**chosen, **({"enable_sort": "off"} if self.force_hnsw else {})}

    @property
    def served(self) -> bool:
        return not self.force_hnsw and self.max_scan_tuples is None and self.candidates == CANDIDATES


@dataclass
class Run:
    """Latencies (ms) and the file ids answered, query by query."""

    latencies: list[float] = field(default_factory=list)
    results: list[list[str]] = field(default_factory=list)
    reported: list[float] = field(default_factory=list)  # the service's took_ms, over HTTP


@dataclass
class Case:
    """One configuration measured: timed answers, the exact scan's answers, and plans."""

    config: Config
    run: Run
    exact: Run
    plans: list[dict[str, Any]]


@dataclass
class Findings:
    """Everything one --permissions run measured."""

    chunks: int
    vectors: str
    max_scan_tuples: str
    visibility: dict[str, tuple[int, int]]
    cases: list[Case] = field(default_factory=list)
    http: dict[str, Run] = field(default_factory=dict)


def make_index(pool: Any, model: str, dimensions: int, config: Config) -> PostgresIndex:
    """The adapter as the service builds it, with the service's default ranking settings."""
    defaults = SearchSettings.model_fields
    index = PostgresIndex(
        pool,
        model=model,
        dimensions=dimensions,
        candidates=config.candidates,
        rrf_k=defaults["search_rrf_k"].default,
        min_similarity=defaults["search_min_similarity"].default,
    )
    if config.baseline:
        index.sql = unfiltered(index.sql)
    return index


async def answers(
    index: PostgresIndex, text: str, vector: Any, principals: list[str]
) -> tuple[float, list[str]]:
    started = time.perf_counter()
    hits = await index.search(vector, SearchQuery(q=text, k=K), principals)
    return (time.perf_counter() - started) * 1000, [hit.file_id for hit in hits]


async def measure(
    dsn: str,
    configs: Sequence[Config],
    queries: Sequence[tuple[str, Any]],
    *,
    model: str,
    dimensions: int,
    explained: int,
) -> list[Case]:
    """Time every configuration, query by query in turn; then the exact answers and the plans."""
    async with AsyncExitStack() as stack:
        pools: dict[tuple[tuple[str, str], ...], asyncpg.Pool] = {}
        for settings in {tuple(sorted(c.settings().items())) for c in configs} | {
            (("enable_indexscan", "off"),)
        }:
            pools[settings] = await db.create_pool(with_settings(dsn, dict(settings)), max_size=1)
            stack.push_async_callback(pools[settings].close)
        indexes = [
            make_index(pools[tuple(sorted(c.settings().items()))], model, dimensions, c) for c in configs
        ]
        runs = [Run() for _ in configs]
        for number, (text, vector) in enumerate([*queries[:WARM_UP], *queries]):
            for config, index, run in zip(configs, indexes, runs, strict=True):
                took, files = await answers(index, text, vector, config.caller.principals())
                if number >= WARM_UP:
                    run.latencies.append(took)
                    run.results.append(files)
        exact_pool = pools[(("enable_indexscan", "off"),)]
        exact: dict[tuple[str, bool, int], Run] = {}
        cases = []
        for config, index, run in zip(configs, indexes, runs, strict=True):
            key = (config.caller.email, config.baseline, config.candidates)
            if key not in exact:  # the exact answer depends on who asks and the candidates only
                scan = make_index(exact_pool, model, dimensions, config)
                exact[key] = Run(
                    results=[(await answers(scan, t, v, config.caller.principals()))[1] for t, v in queries]
                )
                check = await explain(scan, queries[:1], config.caller.principals(), K)
                assert summarize(check[0]).hnsw_tuples == 0, "the exact scan used the HNSW index"
            plans = await explain(index, queries[:explained], config.caller.principals(), K)
            cases.append(Case(config, run, exact[key], plans))
        return cases


def configs(max_scan_tuples: Sequence[int], candidates: Sequence[int], force_hnsw: bool) -> list[Config]:
    """The served configuration for the baseline and each caller, then every what-if asked for."""
    served = [Config(BASELINE, EVERYONE, baseline=True), *(Config(c.label, c) for c in CALLERS)]
    what_ifs = [
        Config(caller.label, caller, max_scan_tuples=limit, candidates=count, force_hnsw=forced)
        for limit in [None, *max_scan_tuples]
        for count in candidates
        for forced in ([False, True] if force_hnsw else [False])
        for caller in CALLERS
    ]
    return served + [c for c in what_ifs if not c.served]


def start_search(dsn: str, log: Path, *, baseline: bool) -> tuple[Any, str]:
    """Start the search service as a process (or the baseline wrapper around it); wait until ready."""
    port = servers.free_port()
    # The benchmark plays the authenticating proxy, from this machine; one caller asks 200 times.
    env = stack.service_env(
        dsn,
        rate_limit=False,
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])),
    )
    process = stack.start_service("unfiltered_search" if baseline else "search", "search", env, port, log)
    servers.wait_until_ready(f"http://127.0.0.1:{port}/readyz", process, stack.READY_TIMEOUT_SECONDS)
    return process, f"http://127.0.0.1:{port}"


def http_runs(dsn: str, work: Path, texts: Sequence[str]) -> dict[str, Run]:
    """GET /search per caller on the service, and on the baseline service, query by query in turn."""
    with ExitStack() as stack:
        urls = {}
        for baseline in (True, False):
            process, urls[baseline] = start_search(dsn, work / f"search-{baseline}.log", baseline=baseline)
            stack.callback(servers.stop, process)
        askers = [(BASELINE, urls[True], EVERYONE), *((c.label, urls[False], c) for c in CALLERS)]
        runs = {label: Run() for label, _, _ in askers}
        for number, text in enumerate([*texts[:WARM_UP], *texts]):
            for label, url, caller in askers:
                query = urllib.parse.urlencode({"q": text, "k": K})
                started = time.perf_counter()
                status, body = checks.http_json(f"{url}/search?{query}", headers=caller.headers())
                elapsed = (time.perf_counter() - started) * 1000
                assert status == 200, body
                if number >= WARM_UP:
                    runs[label].latencies.append(elapsed)
                    runs[label].reported.append(float(body["took_ms"]))
                    runs[label].results.append([hit["file_id"] for hit in body["results"]])
        return runs


async def visible(dsn: str, caller: Caller) -> tuple[int, int]:
    """How many files and chunks the caller may find."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT count(DISTINCT c.file_id) AS files, count(*) AS chunks FROM chunks c"
            " JOIN file_access a ON a.file_id = c.file_id WHERE a.readers && $1::text[]",
            caller.principals(),
        )
        return int(row["files"]), int(row["chunks"])
    finally:
        await connection.close()


async def setting(dsn: str, name: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("LOAD 'vector'")
        return str(await connection.fetchval(f"SHOW {name}"))
    finally:
        await connection.close()
