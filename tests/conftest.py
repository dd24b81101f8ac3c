"""Shared fixtures: the metadata database each test runs on (SQLite and PostgreSQL), and an
S3-compatible server for the s3:// storage tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from deploy.seaweed import S3Server, seaweedfs

POSTGRES_URL = os.environ.get(
    "PICTOGRAPH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, empty metadata database URL: a SQLite file in ``folder``, or a PostgreSQL schema
    of its own, dropped afterwards. PostgreSQL must be running: a test fails, never skips."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'metadata.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh metadata database for one test, on SQLite and on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS with the bucket ``pictograph``, shared by a module's tests."""
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs"), "pictograph", "pictograph-test") as server:
        yield server


@pytest.fixture
def s3_env(s3: S3Server) -> Iterator[str]:
    """boto3's environment pointed at the test server; a fresh prefix's storage URL."""
    saved = {name: os.environ.get(name) for name in s3.env}
    os.environ.update(s3.env)
    yield f"s3://{s3.bucket}/t-{uuid.uuid4().hex[:8]}"
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
