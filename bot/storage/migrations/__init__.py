"""Alembic migrations: the schema history, applied at every start."""
