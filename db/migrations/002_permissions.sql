-- Who may find each file, and who a caller is: Drive's sharing reduced to principals that search
-- matches with one array overlap (readers && caller's principals), so the filter runs in SQL.

-- Written only by the fetcher, from Drive's permissions, before the file's doc.fetched is
-- published; so a file reaches search with its readers already known, and a change of sharing
-- takes effect without waiting for the embedder. No row, or no readers: nobody finds the file.
CREATE TABLE IF NOT EXISTS file_access (
    file_id        text PRIMARY KEY,
    version        bigint NOT NULL,        -- the Drive version the readers were read at
    readers        text[] NOT NULL,        -- 'anyone', 'domain:corp.example', 'group:eng@corp.example', 'user:a@corp.example'
    reason         text,                   -- why a file has no readers (its permissions could not be read)
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS file_access_readers_idx ON file_access USING gin (readers);

-- Google Groups membership from the Directory API, one row per direct edge; nested groups are
-- expanded when a caller's principals are resolved. Written only by the groups sync.
CREATE TABLE IF NOT EXISTS group_members (
    group_email    text NOT NULL,
    member_email   text NOT NULL,
    member_type    text NOT NULL,          -- USER or GROUP (Directory API's member type)
    synced_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_email, member_email)
);
CREATE INDEX IF NOT EXISTS group_members_member_idx ON group_members (member_email);

-- API keys for service callers: only a hash of the secret is kept; the key is shown once.
CREATE TABLE IF NOT EXISTS api_keys (
    id             text PRIMARY KEY,       -- the public part of the key, shown by `apikey list`
    secret_sha256  bytea NOT NULL,
    email          text NOT NULL,
    groups         text[] NOT NULL DEFAULT '{}',
    description    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz,
    last_used_at   timestamptz
);

-- Permissions now live in file_access; the copy on documents was only ever read by search.
ALTER TABLE documents DROP COLUMN IF EXISTS permissions;
