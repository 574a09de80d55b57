-- Which source fetches a file's version when several show it: the first to claim it. The others
-- publish metadata only (so the index remembers that they show the file) and download nothing.
CREATE TABLE IF NOT EXISTS fetch_claims (
    file_id     text PRIMARY KEY,
    version     bigint NOT NULL,
    source_id   text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now()
);
