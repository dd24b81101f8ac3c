"""Persistence: the metadata schema and database (SQLAlchemy Core, Alembic) and the blob stores."""
