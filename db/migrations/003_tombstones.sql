-- Deletes stay deleted: a deleted file leaves a tombstone, so a replayed or late event fetched
-- before the deletion (a dead-letter replay, a zombie consumer after a rebalance) cannot bring it
-- back. Written only by the embedder, in the same transaction as the delete; the rule is in
-- services/embedder/src/embedder/tombstones.py.
CREATE TABLE IF NOT EXISTS tombstones (
    file_id        text PRIMARY KEY,
    version        bigint NOT NULL,        -- the Drive version deleted at; 0 for a removal (no version known)
    fetched_at     timestamptz NOT NULL,   -- when the fetcher saw the deletion
    deleted_at     timestamptz NOT NULL DEFAULT now()
);

-- Which sources still show each indexed file: a file seen through two sources (a user's My Drive
-- and a shared drive, two users' feeds) is removed from the index only when no source still has
-- it. A removal from one source marks its row removed (kept, with fetched_at, so a replay from
-- that source cannot mark it present again); a trash, or the last source's removal, deletes the
-- file's rows here with the document, and its tombstone takes over.
CREATE TABLE IF NOT EXISTS document_sources (
    file_id        text NOT NULL REFERENCES documents (file_id) ON DELETE CASCADE,
    source_id      text NOT NULL,
    fetched_at     timestamptz,            -- the newest event of this source for the file; NULL: before 003
    removed        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (file_id, source_id)
);
INSERT INTO document_sources (file_id, source_id)
SELECT file_id, source_id FROM documents
ON CONFLICT DO NOTHING;

-- When the fetcher read the version stored, so a replayed removal cannot delete a file that was
-- fetched again after it (shared again); NULL for rows written before this migration.
ALTER TABLE documents ADD COLUMN IF NOT EXISTS fetched_at timestamptz;

-- What a user should know about how much of the file is searchable, e.g. "truncated to 2,000
-- chunks" (the embedder's limit) or the fetcher's "truncated to 2,000,000 characters".
ALTER TABLE documents ADD COLUMN IF NOT EXISTS index_note text;
