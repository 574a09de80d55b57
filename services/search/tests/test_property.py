"""The SQL permission filter agrees with Drive's rules, written plainly, on random sharing.

Random ACLs (users, groups, domains, anyone; discoverable or link-only; every role and unknown
ones; deleted accounts), random directories of nested groups (cycles included) and random callers
go through file_access and group_members into the real principal resolution and search SQL, and
the files found must be exactly those `shared.access.may_read` allows with nested groups expanded.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings import HashingEmbedder
from search.adapters.directory import PostgresDirectory
from search.adapters.index import PostgresIndex
from search.query import parse_query
from shared import access, db

USERS = ("ann@a.example", "ben@a.example", "cat@b.example", "dan@b.example")
GROUPS = ("eng@a.example", "sre@a.example", "all@a.example", "ext@b.example")
DOMAINS = ("a.example", "b.example", "c.example")
ROLES = (*sorted(access.READ_ROLES), "none", "approver", "")
TEXT = "alpha quarterly plan"


def cased(address: str) -> st.SearchStrategy[str]:
    return st.sampled_from([address, address.upper(), address.title()])


def permission() -> st.SearchStrategy[dict[str, Any]]:
    common = {"role": st.sampled_from(ROLES), "deleted": st.booleans()}
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("user"), "email_address": st.sampled_from(USERS).flatmap(cased), **common}
        ),
        st.fixed_dictionaries(
            {"type": st.just("group"), "email_address": st.sampled_from(GROUPS).flatmap(cased), **common}
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("domain"),
                "domain": st.sampled_from(DOMAINS).flatmap(cased),
                "allow_file_discovery": st.booleans(),
                **common,
            }
        ),
        st.fixed_dictionaries({"type": st.just("anyone"), "allow_file_discovery": st.booleans(), **common}),
    )


@dataclass(frozen=True)
class World:
    files: list[list[dict[str, Any]]]
    edges: set[tuple[str, str]]  # (member, group)
    email: str | None
    groups: list[str]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    files = draw(st.lists(st.lists(permission(), max_size=4), min_size=1, max_size=6))
    members = st.sampled_from(USERS + GROUPS + ("eve@c.example",))
    edges = set(draw(st.sets(st.tuples(members, st.sampled_from(GROUPS)), max_size=8)))
    # Mostly a signed-in caller (one in eleven anonymous), often at the bottom of a chain of groups.
    caller = draw(st.sampled_from((*USERS, *USERS, "eve@c.example", "zed@a.example", None)))
    email = draw(cased(caller)) if caller else None
    if email and draw(st.booleans()):
        chain = draw(st.permutations(GROUPS))[: draw(st.integers(2, len(GROUPS)))]
        edges |= {(email.lower(), chain[0]), *itertools.pairwise(chain)}
        # ... and a file shared with a group up that chain.
        files.append(
            [draw(permission()) | {"type": "group", "email_address": draw(st.sampled_from(chain[1:]))}]
        )
    groups = draw(st.lists(st.sampled_from(GROUPS).flatmap(cased), max_size=2)) if email else []
    return World(files, {(m, g) for m, g in edges if m != g}, email, groups)


def nested(email: str | None, groups: Iterable[str], edges: set[tuple[str, str]]) -> set[str]:
    """Every group the caller is in, directly or through other groups."""
    held = {g.lower() for g in groups} | ({email.lower()} if email else set())
    while True:
        more = {group for member, group in edges if member in held} - held
        if not more:
            return held - ({email.lower()} if email else set())
        held |= more


class Harness:
    """Writes one world under addresses and ids of its own, searches it, and removes it."""

    def __init__(self, pool: asyncpg.Pool, embedder: HashingEmbedder) -> None:
        self.pool, self.embedder = pool, embedder
        self.index = PostgresIndex(pool, model=embedder.model_name, dimensions=384, candidates=100, rrf_k=60)
        self.directory = PostgresDirectory(pool)

    async def visible(self, world: World, tag: str) -> tuple[set[int], set[int]]:
        """Which files search finds for the caller, and which Drive's rules say it may read."""
        t = _Tagger(tag)
        ids = [f"prop-{tag}-{n}" for n in range(len(world.files))]
        files = [[t.permission(p) for p in acl] for acl in world.files]
        edges = {(t.address(m), t.address(g)) for m, g in world.edges}
        email, groups = (
            (t.address(world.email) if world.email else None),
            [t.address(g) for g in world.groups],
        )
        await self._write(ids, files, edges)
        try:
            resolved = await self.directory.groups_of(email, groups)
            principals = access.principals(email, resolved)
            vector = await self.embedder.embed_query("alpha")
            hits = await self.index.search(vector, parse_query({"q": "alpha", "k": 50}), principals)
        finally:
            await self._remove(ids, edges)
        found = {ids.index(hit.file_id) for hit in hits}
        model = nested(email, groups, edges)
        expected = {
            n
            for n, acl in enumerate(files)
            if access.may_read(map(access.Permission.model_validate, acl), email, model)
        }
        return found, expected

    async def _write(
        self, ids: list[str], files: list[list[dict[str, Any]]], edges: set[tuple[str, str]]
    ) -> None:
        vector = (await self.embedder.embed_documents([TEXT]))[0]
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.executemany(
                "INSERT INTO documents (file_id, source_id, name, mime_type, version, embedding_model)"
                " VALUES ($1, $2, $1, 'text/plain', 1, $3)",
                [(file_id, SOURCE, self.embedder.model_name) for file_id in ids],
            )
            await connection.executemany(
                "INSERT INTO chunks (file_id, position, text, token_count, model, embedding)"
                " VALUES ($1, 0, $2, 3, $3, $4)",
                [(file_id, TEXT, self.embedder.model_name, vector) for file_id in ids],
            )
            await connection.executemany(
                "INSERT INTO file_access (file_id, version, readers) VALUES ($1, 1, $2)",
                [
                    (file_id, access.readers(map(access.Permission.model_validate, acl)))
                    for file_id, acl in zip(ids, files, strict=True)
                ],
            )
            await connection.executemany(
                "INSERT INTO group_members (group_email, member_email, member_type) VALUES ($1, $2, 'USER')",
                [(group, member) for member, group in edges],
            )

    async def _remove(self, ids: list[str], edges: set[tuple[str, str]]) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute("DELETE FROM chunks WHERE file_id = ANY($1)", ids)
            await connection.execute("DELETE FROM file_access WHERE file_id = ANY($1)", ids)
            await connection.execute("DELETE FROM documents WHERE file_id = ANY($1)", ids)
            for member, group in edges:
                await connection.execute(
                    "DELETE FROM group_members WHERE group_email = $1 AND member_email = $2", group, member
                )


SOURCE = f"prop-{uuid.uuid4().hex[:8]}"


class _Tagger:
    """Moves every address and domain of a world into domains of its own (a.example -> a-<tag>.example)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def domain(self, name: str) -> str:
        label, _, rest = name.partition(".")
        return f"{label}-{self.tag}.{rest}"

    def address(self, email: str) -> str:
        local, _, domain = email.partition("@")
        return f"{local}@{self.domain(domain)}"

    def permission(self, p: dict[str, Any]) -> dict[str, Any]:
        p = dict(p)
        if "email_address" in p:
            p["email_address"] = self.address(p["email_address"])
        if "domain" in p:
            p["domain"] = self.domain(p["domain"])
        return p


def test_search_finds_exactly_what_drives_rules_allow(postgres_dsn: str) -> None:
    with asyncio.Runner() as runner:
        pool = runner.run(db.create_pool(postgres_dsn, max_size=2))
        runner.run(pool.execute("INSERT INTO sources (id) VALUES ($1)", SOURCE))
        harness = Harness(pool, HashingEmbedder(model_name=f"test-prop-{uuid.uuid4().hex[:8]}"))

        @settings(
            max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
        )
        @given(worlds())
        def agrees(world: World) -> None:
            found, expected = runner.run(harness.visible(world, uuid.uuid4().hex[:8]))
            assert found == expected

        try:
            agrees()
        finally:
            runner.run(pool.close())
