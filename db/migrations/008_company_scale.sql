-- Drive calls spent per minute, by the project (`project`) and by each identity acted as
-- (`user:<email>`): every fetcher replica and the CLI spend from the same rows, so together they
-- stay under Google's per-minute quotas. Rows older than a few minutes are pruned as new ones start.
CREATE TABLE IF NOT EXISTS drive_call_budget (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    calls         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Who asked for the source: `cli` (drive-index sources add), `setting` (DRIVE_SOURCES) or
-- `discovered` (DRIVE_SCOPE=domain). A sync removes only what its own origin added and no longer wants.
ALTER TABLE sources ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'cli';
UPDATE sources SET origin = 'discovered' WHERE kind IN ('user', 'drive') AND origin = 'cli';
