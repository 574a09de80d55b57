"""The only modules that speak SQL or vendor SDKs."""
