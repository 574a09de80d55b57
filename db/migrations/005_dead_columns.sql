-- A trashed file is deleted from the index (and leaves a tombstone), so no row was ever marked
-- trashed: the column only made every search check a flag that was always false.
ALTER TABLE documents DROP COLUMN IF EXISTS trashed;

-- Claim-checked texts are read once by the embedder, soon after the fetcher stores them; the
-- embedder deletes those older than EMBEDDER_FETCHED_TEXT_DAYS, and this index finds them.
CREATE INDEX IF NOT EXISTS fetched_texts_created_idx ON fetched_texts (created_at);
