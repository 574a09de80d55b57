"""The embedder service: doc.fetched in, chunks with vectors in pgvector, chunks.embedded out."""
