"""Insight counts: each dataset's insights figures kept up to date by triggers on ``images``
(every write path, SQL or not, on SQLite and PostgreSQL), so ``GET insights`` reads a few rows
instead of every image and annotation. Each live image contributes rows (kind, key, w, h, n):
totals, its size, per class (name) its annotations and 1 image, per type its annotations. An
insert adds the new row's contribution, a delete subtracts the old one, an update of a counted
column both. Existing images are counted once here."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_duplicates"
down_revision = "0011_editor"
branch_labels = None
depends_on = None

_COUNTED = ("annotations", "annotation_count", "status", "is_archived", "width", "height",
            "file_size", "dataset_id")  # fmt: skip
_DENSITY = """CASE WHEN {r}.annotation_count = 0 THEN '0' WHEN {r}.annotation_count = 1 THEN '1'
    WHEN {r}.annotation_count <= 5 THEN '2-5' WHEN {r}.annotation_count <= 10 THEN '6-10'
    WHEN {r}.annotation_count <= 20 THEN '11-20' ELSE '21+' END"""
_ORIENTATION = """CASE WHEN {r}.width > {r}.height THEN 'landscape'
    WHEN {r}.width < {r}.height THEN 'portrait' WHEN {r}.width = {r}.height THEN 'square' END"""


def _parts(dialect: str) -> list[tuple[str, str, str, str, str]]:
    """(kind, key, w, h, n) of one image ``{r}``; n per image (``{s}`` is its sign)."""
    return [
        ("'total'", "'images'", "0", "0", "{s}"),
        ("'total'", "'annotations'", "0", "0", "{s} * {r}.annotation_count"),
        ("'total'", "'bytes'", "0", "0", "{s} * {r}.file_size"),
        ("'total'", "'status:' || {r}.status", "0", "0", "{s}"),
        ("'total'", "'density:' || " + _DENSITY, "0", "0", "{s}"),
        ("'orientation'", _ORIENTATION, "0", "0", "{s}"),
        ("'size'", "''", "{r}.width", "{r}.height", "{s}"),
    ]


def _labels(dialect: str) -> tuple[str, str, str]:
    """FROM clause over the image's annotations, and its name and type expressions."""
    if dialect == "postgresql":
        return ("json_array_elements({r}.annotations) AS a(value)",
                "coalesce(a.value ->> 'name', '')", "coalesce(a.value ->> 'type', '')")  # fmt: skip
    return ("json_each({r}.annotations) AS a",
            "coalesce(json_extract(a.value, '$.name'), '')",
            "coalesce(json_extract(a.value, '$.type'), '')")  # fmt: skip


def contribution(dialect: str, r: str, sign: str, *, whole: bool = False) -> str:
    """SELECT of (dataset_id, kind, key, w, h, n) rows of the image ``r`` (NEW or OLD); with
    ``whole``, of every live image (``r`` is ``i``), summed per dataset."""
    selects = []
    for kind, key, w, h, n in _parts(dialect):
        where = [] if kind == "'total'" else ["{r}.width IS NOT NULL AND {r}.height IS NOT NULL"]
        if whole:
            where.append("NOT i.is_archived")
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        source, total = (" FROM images AS i", f"sum({n})") if whole else ("", n)
        tail = " GROUP BY 1, 2, 3, 4, 5" if whole else ""
        selects.append(f"SELECT {{r}}.dataset_id, {kind}, {key}, {w}, {h}, {total}"
                       f"{source}{condition}{tail}")  # fmt: skip
    source, name, kind_of = _labels(dialect)
    images = "count(DISTINCT i.id)" if whole else "{s}"
    for kind, key, n in (("'class'", name, "{s} * count(*)"), ("'class_image'", name, images),
                         ("'type'", kind_of, "{s} * count(*)")):  # fmt: skip
        # Text from this module's constants only (no input), as every statement here.
        if whole:
            tail = f"FROM images AS i, {source} WHERE NOT i.is_archived GROUP BY 1, 3"
            selects.append(f"SELECT i.dataset_id, {kind}, {key}, 0, 0, {n} {tail}")
        else:
            tail = f"FROM {source} GROUP BY {key}"
            selects.append(f"SELECT {{r}}.dataset_id, {kind}, {key}, 0, 0, {n} {tail}")
    return " UNION ALL ".join(selects).format(r=r, s=sign)


_INSERT = "INSERT INTO insight_counts (dataset_id, kind, key, w, h, n) "


def _apply(dialect: str, r: str, sign: str) -> str:
    rows = contribution(dialect, r, sign)
    upsert = (
        "ON CONFLICT (dataset_id, kind, key, w, h) DO UPDATE SET n = insight_counts.n + excluded.n"
    )
    return f"{_INSERT}SELECT * FROM ({rows}) AS c WHERE true {upsert}"  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "insight_counts",
        sa.Column("dataset_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("w", sa.Integer, nullable=False),
        sa.Column("h", sa.Integer, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "kind", "key", "w", "h"),
    )
    dialect = op.get_bind().dialect.name
    columns = ", ".join(_COUNTED)
    if dialect == "postgresql":
        op.execute(f"""
            CREATE FUNCTION insight_counts_apply() RETURNS trigger AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND NOT OLD.is_archived THEN
                    {_apply(dialect, "OLD", "-1")};
                END IF;
                IF TG_OP IN ('UPDATE', 'INSERT') AND NOT NEW.is_archived THEN
                    {_apply(dialect, "NEW", "1")};
                END IF;
                RETURN NULL;
            END $$ LANGUAGE plpgsql""")  # fmt: skip
        op.execute(f"""CREATE TRIGGER insight_counts AFTER INSERT OR DELETE OR UPDATE OF {columns}
            ON images FOR EACH ROW EXECUTE FUNCTION insight_counts_apply()""")  # fmt: skip
    else:
        op.execute(f"""CREATE TRIGGER insight_counts_insert AFTER INSERT ON images
            WHEN NEW.is_archived = 0 BEGIN {_apply(dialect, "NEW", "1")}; END""")  # fmt: skip
        op.execute(f"""CREATE TRIGGER insight_counts_delete AFTER DELETE ON images
            WHEN OLD.is_archived = 0 BEGIN {_apply(dialect, "OLD", "-1")}; END""")  # fmt: skip
        op.execute(f"""CREATE TRIGGER insight_counts_update_old AFTER UPDATE OF {columns}
            ON images WHEN OLD.is_archived = 0 BEGIN {_apply(dialect, "OLD", "-1")}; END""")
        op.execute(f"""CREATE TRIGGER insight_counts_update_new AFTER UPDATE OF {columns}
            ON images WHEN NEW.is_archived = 0 BEGIN {_apply(dialect, "NEW", "1")}; END""")
    # Existing images, once.
    op.execute(f"{_INSERT}{contribution(dialect, 'i', '1', whole=True)}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS insight_counts ON images")
        op.execute("DROP FUNCTION IF EXISTS insight_counts_apply()")
    else:
        for name in ("insert", "delete", "update_old", "update_new"):
            op.execute(f"DROP TRIGGER IF EXISTS insight_counts_{name}")
    op.drop_table("insight_counts")
