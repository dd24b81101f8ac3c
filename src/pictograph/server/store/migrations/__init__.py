"""Alembic migrations of the metadata schema, run programmatically by ``database.open_database``."""
