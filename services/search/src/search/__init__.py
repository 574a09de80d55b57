"""The search service: hybrid semantic and keyword search over the Drive index."""
