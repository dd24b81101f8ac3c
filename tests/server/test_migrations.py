"""Opening a store migrates it once; a store already at the newest schema skips Alembic."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from pictograph.server.store.database import (
    SCHEMA_HEAD,
    alembic_config,
    migrate,
    open_database,
    schema_revision,
)


def test_the_schema_head_we_check_is_alembics_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_a_new_database_is_migrated_to_the_head_and_reopening_keeps_its_data(
    database_url: str,
) -> None:
    first = sa.create_engine(database_url)
    assert schema_revision(first) is None
    first.dispose()

    engine = open_database(database_url)
    assert schema_revision(engine) == SCHEMA_HEAD
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO organizations (id, name, created_at) "
                "VALUES ('o', 'acme', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()

    again = open_database(database_url)
    with again.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM organizations WHERE id = 'o'")).scalars()
        assert list(names) == ["acme"]
    assert schema_revision(again) == SCHEMA_HEAD
    again.dispose()


def test_a_store_made_by_the_first_schema_is_upgraded_when_opened(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    migrate(engine, "0001_initial")
    assert schema_revision(engine) == "0001_initial"
    engine.dispose()

    upgraded = open_database(database_url)

    assert schema_revision(upgraded) == SCHEMA_HEAD
    columns = {column["name"] for column in sa.inspect(upgraded).get_columns("images")}
    assert "upload_nonce" in columns
    upgraded.dispose()


def test_a_store_at_0016_gains_the_refused_uploads_table_and_loses_it_on_downgrade(
    database_url: str,
) -> None:
    from alembic import command

    engine = sa.create_engine(database_url)
    migrate(engine, "0016_duplicates")
    engine.dispose()

    upgraded = open_database(database_url)
    inspector = sa.inspect(upgraded)
    columns = {column["name"] for column in inspector.get_columns("refused_uploads")}
    assert columns == {"dataset_id", "directory_path", "filename", "code", "reason", "created_at"}
    primary = inspector.get_pk_constraint("refused_uploads")["constrained_columns"]
    assert primary == ["dataset_id", "directory_path", "filename"]
    [foreign] = inspector.get_foreign_keys("refused_uploads")
    assert foreign["referred_table"] == "datasets"
    assert foreign["options"].get("ondelete") == "CASCADE"

    config = alembic_config()
    with upgraded.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0016_duplicates")
        connection.commit()
    assert not sa.inspect(upgraded).has_table("refused_uploads")
    assert schema_revision(upgraded) == "0016_duplicates"
    upgraded.dispose()


def test_a_store_at_0017_gains_the_quarantine_and_unchecked_flags_and_loses_them_on_downgrade(
    database_url: str,
) -> None:
    from alembic import command

    engine = sa.create_engine(database_url)
    migrate(engine, "0017_refusals")
    triggers = _triggers_on_images(engine)
    engine.dispose()

    upgraded = open_database(database_url)
    assert triggers and _triggers_on_images(upgraded) == triggers  # the insight counts stay kept
    inspector = sa.inspect(upgraded)
    quarantine = {column["name"] for column in inspector.get_columns("quarantined_images")}
    assert {"blob_key", "sha256", "code", "reason", "quarantined_at"} <= quarantine
    [foreign] = inspector.get_foreign_keys("quarantined_images")
    assert (foreign["referred_table"], foreign["options"].get("ondelete")) == (
        "datasets",
        "CASCADE",
    )
    assert "unchecked" in {column["name"] for column in inspector.get_columns("images")}
    pending = {column["name"] for column in inspector.get_columns("pending_uploads")}
    assert {"declared_sha256", "unchecked"} <= pending

    config = alembic_config()
    with upgraded.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017_refusals")
        connection.commit()
    inspector = sa.inspect(upgraded)
    assert not inspector.has_table("quarantined_images")
    assert "unchecked" not in {column["name"] for column in inspector.get_columns("images")}
    assert _triggers_on_images(upgraded) == triggers
    assert schema_revision(upgraded) == "0017_refusals"
    upgraded.dispose()


def _triggers_on_images(engine: sa.Engine) -> set[str]:
    if engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'images'"
    else:
        query = (
            "SELECT trigger_name FROM information_schema.triggers "
            "WHERE event_object_table = 'images' AND trigger_schema = current_schema()"
        )
    with engine.connect() as conn:
        return set(conn.execute(sa.text(query)).scalars())
