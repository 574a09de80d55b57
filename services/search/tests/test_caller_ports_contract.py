"""The GroupDirectory and ApiKeyStore ports: the same behaviour from the fakes and from PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from search.identity import Identity, InvalidCredentialsError

from .backings import Backing, KeyTable, Memberships
from .conftest import ON_BOTH


@pytest.fixture
def directory(backing: Backing) -> Memberships:
    return backing.directory


@pytest.fixture
def keys(backing: Backing) -> KeyTable:
    return backing.api_keys


@ON_BOTH
class TestGroupDirectory:
    async def test_no_identity_holds_no_group(self, directory: Memberships) -> None:
        assert await directory.groups_of(None, []) == ()

    async def test_the_identitys_own_groups_count_without_any_membership(
        self, directory: Memberships, domain: str
    ) -> None:
        groups = await directory.groups_of(f"ann@{domain}", [f"Eng@{domain}", f"ops@{domain}"])
        assert groups == (f"eng@{domain}", f"ops@{domain}")
        assert await directory.groups_of(f"bob@{domain}", []) == ()

    async def test_groups_nest_at_any_depth_and_cycles_end(self, directory: Memberships, domain: str) -> None:
        d = domain
        await directory.add(f"sre-team@{d}", f"eng-team@{d}")
        await directory.add(f"eng-team@{d}", f"staff-team@{d}")
        await directory.add(f"staff-team@{d}", f"sre-team@{d}")  # a cycle
        await directory.add(f"Carol@{d}", f"SRE-team@{d}")
        nested = (f"eng-team@{d}", f"sre-team@{d}", f"staff-team@{d}")
        # From the address (in any case), or from a group the identity names; never the address itself.
        assert await directory.groups_of(f"CAROL@{d}", []) == nested
        assert await directory.groups_of(f"alice@{d}", [f"Sre-Team@{d}"]) == nested
        assert await directory.groups_of(None, [f"staff-team@{d}"]) == nested
        assert await directory.groups_of(f"dan@{d}", []) == ()


@ON_BOTH
class TestApiKeyStore:
    async def test_a_key_names_its_account_and_groups(self, keys: KeyTable, domain: str) -> None:
        key_id, token = await keys.create(f"Bot@{domain}", [f"Eng@{domain}"])
        assert await keys.identity(token) == Identity(f"bot@{domain}", (f"eng@{domain}",), "api-key", key_id)

    async def test_a_wrong_or_unknown_key_is_refused(self, keys: KeyTable, domain: str) -> None:
        key_id, token = await keys.create(f"bot@{domain}")
        tampered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
        for wrong in (tampered, f"di_{key_id}_", "di_nosuchid_secret", "di_"):
            with pytest.raises(InvalidCredentialsError, match="unknown or wrong"):
                await keys.identity(wrong)

    async def test_a_revoked_key_is_refused_from_then_on(self, keys: KeyTable, domain: str) -> None:
        key_id, token = await keys.create(f"bot@{domain}")
        await keys.identity(token)
        await keys.revoke(key_id)
        with pytest.raises(InvalidCredentialsError, match="revoked"):
            await keys.identity(token)

    async def test_an_expired_key_is_refused(self, keys: KeyTable, domain: str) -> None:
        past = datetime.now(UTC) - timedelta(minutes=1)
        _, token = await keys.create(f"bot@{domain}", expires_at=past)
        with pytest.raises(InvalidCredentialsError, match="expired"):
            await keys.identity(token)
