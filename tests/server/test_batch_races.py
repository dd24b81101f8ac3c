"""Batch operations from several clients at once on overlapping images: no deadlock reaches a
caller (PostgreSQL detected several and answered 500), and the result adds up."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from pictograph.errors import ServerError
from pictograph.server.service import batch
from pictograph.server.service.context import TRANSACTION_ATTEMPTS, AppContext, retry_transient
from pictograph.server.store import tables as t
from tests.conftest import fresh_database
from tests.images import make_image
from tests.server.conftest import MakeClient
from tests.server.flows import create_dataset, upload

CLIENTS = 4
OPERATIONS = 60
IMAGES = 16


def _operation(store: AppContext, org: str, ids: dict[str, list[str]], rng: random.Random) -> Any:
    """One random batch operation on a random, shuffled subset of a dataset's images; the
    number of images it added (copies)."""
    source = rng.choice(["one", "two"])
    chosen = rng.sample(ids[source], rng.randint(2, 8))
    kind = rng.choice(["status", "archive", "restore", "move", "copy", "copy-to"])
    if kind == "status":
        batch.update(store, org, source, chosen, {"status": rng.choice(batch.STATUSES)})
    elif kind == "archive":
        batch.delete(store, org, source, chosen, permanent=False)
    elif kind == "restore":
        batch.update(store, org, source, chosen, {"is_archived": False})
    elif kind == "move":
        batch.move(store, org, source, chosen, f"/m{rng.randint(1, 3)}", "rename")
    elif kind == "copy":
        return (source, batch.copy(store, org, source, chosen, "/copies")["processed"])
    else:
        target = "two" if source == "one" else "one"
        result = batch.copy_to_dataset(store, org, source, chosen, target, "/from")
        return (target, result["processed"])
    return (source, 0)


def test_concurrent_batch_operations_on_overlapping_images_all_succeed(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client()
    store: AppContext = client.app.state.store
    ids: dict[str, list[str]] = {}
    for name in ("one", "two"):
        create_dataset(client, name)
        ids[name] = []
        for n in range(IMAGES):
            path = make_image(tmp_path / name / f"i{n}.png", size=(8, 8), seed=n)
            ids[name].append(upload(client, name, path)["id"])
    org = str(client.get("/api/v1/developer/organizations/me").json()["organization"]["id"])

    errors: list[BaseException] = []
    added = {"one": 0, "two": 0}
    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(OPERATIONS):
            try:
                dataset, copies = _operation(store, org, ids, rng)
            except BaseException as error:  # every failure is reported below
                errors.append(error)
                return
            with lock:
                added[dataset] += copies

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [repr(error)[:160] for error in errors] == []
    images = t.images
    with store.read() as conn:
        rows = conn.execute(
            sa.select(images.c.id, images.c.dataset_id, t.datasets.c.name).join(
                t.datasets, t.datasets.c.id == images.c.dataset_id
            )
        ).all()
    for name in ("one", "two"):
        held = {row.id for row in rows if row.name == name}
        assert set(ids[name]) <= held, name
        assert len(held) == IMAGES + added[name], name


@pytest.mark.postgres
def test_a_transaction_aborted_by_a_real_deadlock_runs_again(tmp_path: Path) -> None:
    with fresh_database("postgres", tmp_path) as url:
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE TABLE pair (id int PRIMARY KEY, v int)"))
                conn.execute(sa.text("INSERT INTO pair VALUES (1, 0), (2, 0)"))
            both_hold_one = threading.Barrier(2)
            attempts = [0, 0]

            @retry_transient
            def crosswise(index: int, first: int, second: int) -> None:
                attempts[index] += 1
                with engine.begin() as conn:
                    bump = sa.text("UPDATE pair SET v = v + 1 WHERE id = :id")
                    conn.execute(bump, {"id": first})
                    if attempts[index] == 1:
                        both_hold_one.wait()
                    conn.execute(bump, {"id": second})

            threads = [
                threading.Thread(target=crosswise, args=(0, 1, 2)),
                threading.Thread(target=crosswise, args=(1, 2, 1)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(attempts) == [1, 2]
            with engine.connect() as conn:
                values = conn.execute(sa.text("SELECT v FROM pair ORDER BY id")).scalars().all()
            assert values == [2, 2]
        finally:
            engine.dispose()


def test_a_transaction_aborted_again_and_again_is_a_503_and_other_errors_are_not_retried() -> None:
    calls = {"deadlock": 0, "unique": 0}

    @retry_transient
    def deadlocked() -> None:
        calls["deadlock"] += 1
        raise sa.exc.OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock"))

    @retry_transient
    def duplicate() -> None:
        calls["unique"] += 1
        raise sa.exc.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("taken"))

    with pytest.raises(ServerError) as busy:
        deadlocked()
    assert busy.value.status_code == 503 and busy.value.code == "database_busy"
    assert calls["deadlock"] == TRANSACTION_ATTEMPTS
    with pytest.raises(sa.exc.IntegrityError):
        duplicate()
    assert calls["unique"] == 1
