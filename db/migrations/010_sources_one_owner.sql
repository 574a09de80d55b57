-- `documents.source_id` names the source that last wrote the file, as `document_sources` names
-- every source that shows it (without a foreign key). Dropping this key lets the embedder store a
-- file without writing `sources` rows, which only drive.source_admin creates now.
ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_source_id_fkey;
