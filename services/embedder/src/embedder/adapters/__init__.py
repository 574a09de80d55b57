"""Adapters: the only modules that speak SQL."""
