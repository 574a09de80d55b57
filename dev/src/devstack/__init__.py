"""Run the whole stack locally on real servers: embedded PostgreSQL, Tansu, the four services."""
