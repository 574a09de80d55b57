"""The search service's outside world: the documents and chunks tables."""
