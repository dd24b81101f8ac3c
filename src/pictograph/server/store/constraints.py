"""Which constraint a failed write broke, read from the driver's error code (never its text)."""

from __future__ import annotations

import sqlalchemy as sa

#: PostgreSQL's SQLSTATE for a foreign key violation.
_PG_FOREIGN_KEY = "23503"
#: sqlite3's extended result code name for the same (Python 3.11+).
_SQLITE_FOREIGN_KEY = "SQLITE_CONSTRAINT_FOREIGNKEY"


def is_foreign_key_violation(error: sa.exc.IntegrityError) -> bool:
    """Whether ``error`` is a row naming a parent that is not there (a deleted dataset)."""
    cause = error.orig
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == _PG_FOREIGN_KEY)
    return getattr(cause, "sqlite_errorname", None) == _SQLITE_FOREIGN_KEY
