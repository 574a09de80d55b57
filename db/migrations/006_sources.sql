-- Sources mirror Drive's structure: `user:<email>` (a user's My Drive, read as that user),
-- `drive:<id>` (a shared drive), `feed` (the configured identity's whole feed, as before).
ALTER TABLE sources ADD COLUMN IF NOT EXISTS kind text;
UPDATE sources SET kind = CASE
        WHEN id LIKE 'user:%' THEN 'user'
        WHEN id LIKE 'drive:%' THEN 'drive'
        ELSE 'feed'
    END
  WHERE kind IS NULL;

-- A removed source keeps its row (its channels' rows point at it) but is no longer read or polled.
ALTER TABLE sources ADD COLUMN IF NOT EXISTS removed_at timestamptz;

-- The last failure to read the source as its identity (impersonation refused, drive gone), for
-- `drive-index sources list`; cleared when the source is read again.
ALTER TABLE sources ADD COLUMN IF NOT EXISTS last_error text;
ALTER TABLE sources ADD COLUMN IF NOT EXISTS last_error_at timestamptz;
