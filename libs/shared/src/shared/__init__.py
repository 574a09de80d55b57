"""Code shared by the Drive Index services: contracts, settings and infrastructure helpers."""
