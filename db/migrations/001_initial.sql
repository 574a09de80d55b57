-- Drive Index schema: Drive sources and watch channels, documents and their embedded chunks.
CREATE EXTENSION IF NOT EXISTS vector;

-- A Drive change feed we follow: one per domain or shared-drive set, with its change cursor.
CREATE TABLE IF NOT EXISTS sources (
    id             text PRIMARY KEY,
    drive_id       text,                 -- NULL: the user's My Drive plus every shared drive
    page_token     text,                 -- next changes.list token; stored only after a page is published
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Push-notification channels registered with changes.watch.
CREATE TABLE IF NOT EXISTS watch_channels (
    id             text PRIMARY KEY,     -- X-Goog-Channel-ID
    source_id      text NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    token_sha256   bytea NOT NULL,       -- X-Goog-Channel-Token is a secret: only its hash is kept
    resource_id    text,                 -- X-Goog-Resource-ID, needed to stop the channel
    address        text NOT NULL,
    expires_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    stopped_at     timestamptz,
    last_message_number bigint,
    last_message_at     timestamptz
);
CREATE INDEX IF NOT EXISTS watch_channels_source_idx ON watch_channels (source_id) WHERE stopped_at IS NULL;

-- One row per Drive file or folder we know of, at the newest version seen.
CREATE TABLE IF NOT EXISTS documents (
    file_id        text PRIMARY KEY,
    source_id      text NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    name           text NOT NULL,
    mime_type      text NOT NULL,
    web_view_link  text,
    parents        text[] NOT NULL DEFAULT '{}',
    drive_id       text,
    modified_time  timestamptz,
    version        bigint NOT NULL,
    content_hash   text,
    size_bytes     bigint,
    permissions    jsonb NOT NULL DEFAULT '[]',
    trashed        boolean NOT NULL DEFAULT false,
    skip_reason    text,                 -- why the file has no chunks (too large, unparsable, ...)
    embedding_model text,
    indexed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS documents_parents_idx ON documents USING gin (parents);
CREATE INDEX IF NOT EXISTS documents_mime_idx ON documents (mime_type);
CREATE INDEX IF NOT EXISTS documents_modified_idx ON documents (modified_time);

-- Searchable pieces of a document. The vector column is untyped so several models (with their
-- own dimensions) can coexist; each model gets a partial HNSW index over a cast to its size.
CREATE TABLE IF NOT EXISTS chunks (
    file_id        text NOT NULL REFERENCES documents (file_id) ON DELETE CASCADE,
    position       integer NOT NULL,
    heading        text,
    text           text NOT NULL,
    token_count    integer NOT NULL,
    model          text NOT NULL,
    embedding      vector NOT NULL,
    tsv            tsvector GENERATED ALWAYS AS (
                       to_tsvector('english', coalesce(heading, '') || ' ' || text)) STORED,
    PRIMARY KEY (file_id, position)
);
CREATE INDEX IF NOT EXISTS chunks_tsv_idx ON chunks USING gin (tsv);
CREATE INDEX IF NOT EXISTS chunks_minilm_hnsw_idx ON chunks
    USING hnsw ((embedding::vector(384)) vector_cosine_ops)
    WHERE model = 'all-MiniLM-L6-v2';
CREATE INDEX IF NOT EXISTS chunks_cohere_v4_hnsw_idx ON chunks
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops)
    WHERE model = 'embed-v4.0';

-- Claim check: texts too large for a Kafka message, keyed by their content hash.
CREATE TABLE IF NOT EXISTS fetched_texts (
    content_hash   text PRIMARY KEY,
    text           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
