-- Files the fetcher could not read, one row each, so one bad file never holds up the others:
-- the change page goes on, the cursor moves, and the file is tried again on its own.
-- Written only by the fetcher; a success at the same or a newer version removes the row.
CREATE TABLE IF NOT EXISTS fetch_failures (
    file_id        text PRIMARY KEY,
    source_id      text NOT NULL,
    version        bigint NOT NULL,        -- the Drive version that failed
    kind           text NOT NULL CHECK (kind IN ('transient', 'permanent')),
    reason         text NOT NULL,
    attempts       integer NOT NULL DEFAULT 1,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at timestamptz NOT NULL DEFAULT now(),
    -- When a transient failure is tried again; NULL for permanent ones, which wait for the
    -- file to change (a new version arrives through the change feed).
    next_retry_at  timestamptz
);
CREATE INDEX IF NOT EXISTS fetch_failures_due_idx ON fetch_failures (next_retry_at)
    WHERE next_retry_at IS NOT NULL;
