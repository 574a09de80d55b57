"""Filters: mime type, folder (with its subfolders) and modified time range."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import mime

TEXT = "Quarterly budget review for the platform team."


async def keys_for(client, corpus, **filters: str) -> list[str]:
    response = await client.get("/search", params={"q": "quarterly budget", "k": "50", **filters})
    assert response.status == 200, await response.text()
    return sorted(corpus.key(r["file_id"]) for r in (await response.json())["results"])


async def test_mime_type_is_matched_exactly(client, corpus) -> None:
    await corpus.add("doc", [TEXT])
    await corpus.add("pdf", [TEXT], mime_type=mime.PDF)
    assert await keys_for(client, corpus, mime_type=mime.PDF) == ["pdf"]
    assert await keys_for(client, corpus, mime_type="application/pd") == []
    assert await keys_for(client, corpus, mime_type="") == ["doc", "pdf"]


async def test_folder_takes_its_subfolders_at_any_depth(client, corpus) -> None:
    await corpus.add("finance", mime_type=mime.FOLDER)
    await corpus.add("reports", mime_type=mime.FOLDER, parents=["finance"])
    await corpus.add("archive", mime_type=mime.FOLDER, parents=["reports"])
    await corpus.add("elsewhere", mime_type=mime.FOLDER)
    await corpus.add("top-level", [TEXT], parents=["finance"])
    await corpus.add("nested", [TEXT], parents=["archive"])
    await corpus.add("outside", [TEXT], parents=["elsewhere"])
    # A file may live in several folders; one inside is enough.
    await corpus.add("shortcut", [TEXT], parents=["elsewhere", "reports"])

    finance = corpus.ids["finance"]
    assert await keys_for(client, corpus, folder=finance) == ["nested", "shortcut", "top-level"]
    assert await keys_for(client, corpus, folder=corpus.ids["archive"]) == ["nested"]
    assert await keys_for(client, corpus, folder="no-such-folder") == []


async def test_modified_range_is_after_inclusive_before_exclusive(client, corpus) -> None:
    await corpus.add("march", [TEXT], modified=datetime(2024, 3, 10, tzinfo=UTC))
    await corpus.add("april", [TEXT], modified=datetime(2024, 4, 1, tzinfo=UTC))
    await corpus.add("may", [TEXT], modified=datetime(2024, 5, 20, 12, tzinfo=UTC))
    assert await keys_for(client, corpus, modified_after="2024-04-01") == ["april", "may"]
    assert await keys_for(client, corpus, modified_before="2024-04-01T00:00:00Z") == ["march"]
    assert await keys_for(
        client, corpus, modified_after="2024-03-11", modified_before="2024-05-20T14:00:00+02:00"
    ) == ["april"]


async def test_filters_combine_in_a_post_body(client, corpus) -> None:
    await corpus.add("team", mime_type=mime.FOLDER)
    await corpus.add("match", [TEXT], parents=["team"], mime_type=mime.PDF)
    await corpus.add("wrong-type", [TEXT], parents=["team"])
    await corpus.add(
        "too-old",
        [TEXT],
        parents=["team"],
        mime_type=mime.PDF,
        modified=datetime(2020, 1, 1, tzinfo=UTC),
    )
    body = {
        "q": "budget",
        "mime_type": mime.PDF,
        "folder": corpus.ids["team"],
        "modified_after": "2023-01-01",
    }
    response = await client.post("/search", json=body)
    assert [corpus.key(r["file_id"]) for r in (await response.json())["results"]] == ["match"]
