"""Full-text search finds words written with a hyphen or apostrophe when they are typed whole.

Both indexes cut "Wi-Fi" into the words wi and fi, so "wifi" (as most people type it) found
nothing. ``search_joined`` holds the joined forms of such words of a message ("wifi checkin",
``inbox/sync/text.py``), which the sync derives with the body text, and the indexes take it in
beside the other columns:

- SQLite: the FTS5 table of 0002 is made again with the column (and its triggers, and 0007's
  vocabulary over it), then rebuilt from the messages.
- PostgreSQL: the generated ``search_vector`` is made again with the column, and stripped of word
  positions (``strip``): the search never asks for them (no phrases, no ranking), and without them
  the vector is about a third smaller, which every search that reads the table row by row
  (a common word, the counts of one) reads less of.
  https://www.postgresql.org/docs/current/textsearch-features.html#TEXTSEARCH-MANIPULATE-TSVECTOR

The column is added with plain ``ALTER TABLE ... ADD COLUMN`` (as 0013 explains: Django's
``AddField`` would rebuild an SQLite table and drop its triggers), with a database default so that
rows written by other means get the empty text. The indexes go first, so filling the column for
the messages already mirrored costs one rebuild at the end rather than one re-index per row; at a
million messages the migration takes a few minutes on either database.
"""

import importlib

from django.db import migrations, models

search = importlib.import_module("inbox.migrations.0002_message_search")
vocabulary = importlib.import_module("inbox.migrations.0007_search_vocabulary")
refresh_statistics = importlib.import_module("inbox.migrations.0008_refresh_sqlite_statistics").refresh

TABLE = "inbox_coworkermessage"
ADD_COLUMN = f"ALTER TABLE {TABLE} ADD COLUMN search_joined text NOT NULL DEFAULT ''"
COLUMNS = [*search.COLUMNS, "search_joined"]


def _sqlite_index(columns: list[str]) -> list[str]:
    """0002's FTS5 table and triggers over ``columns``, then 0007's vocabulary, then the rebuild."""
    names = ", ".join(columns)

    def values(prefix: str) -> str:
        return ", ".join(f"{prefix}.{c}" for c in columns)

    return [
        f"""CREATE VIRTUAL TABLE inbox_message_fts USING fts5(
            {names},
            content='{TABLE}', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        )""",
        f"""CREATE TRIGGER inbox_message_fts_ai AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO inbox_message_fts(rowid, {names}) VALUES (new.id, {values("new")});
        END""",
        f"""CREATE TRIGGER inbox_message_fts_ad AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO inbox_message_fts(inbox_message_fts, rowid, {names})
            VALUES ('delete', old.id, {values("old")});
        END""",
        f"""CREATE TRIGGER inbox_message_fts_au AFTER UPDATE ON {TABLE}
        WHEN old.id IS NOT new.id OR {" OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)}
        BEGIN
            INSERT INTO inbox_message_fts(inbox_message_fts, rowid, {names})
            VALUES ('delete', old.id, {values("old")});
            INSERT INTO inbox_message_fts(rowid, {names}) VALUES (new.id, {values("new")});
        END""",
        vocabulary.FORWARD,
        "INSERT INTO inbox_message_fts(inbox_message_fts) VALUES ('rebuild')",
    ]


def _postgres_vector(columns: list[str], *, stripped: bool) -> list[str]:
    text = " || ' ' || ".join(
        f"coalesce(left({c}, 100000), '')" if c == "body_text" else f"coalesce({c}, '')" for c in columns
    )
    vector = f"to_tsvector('simple'::regconfig, regexp_replace({text}, '[[:punct:]]+', ' ', 'g'))"
    return [
        f"ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({f'strip({vector})' if stripped else vector}) STORED",
        f"CREATE INDEX inbox_msg_search ON {TABLE} USING gin (search_vector)",
    ]


def _drop_index(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [vocabulary.BACKWARD, *search.SQLITE_BACKWARD]
    return search.POSTGRES_BACKWARD


def _fill(connection) -> None:
    """``search_joined`` of every message already mirrored, in batches by id."""
    from inbox.sync.text import joined_words

    last = None
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, body_text, subject, coworker_full_name, coworker_company_name FROM {TABLE} "
                + ("WHERE id > %s " if last is not None else "")
                + "ORDER BY id LIMIT 2000",
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            changes = [(joined, pk) for pk, *texts in rows if (joined := joined_words(*texts))]
            if changes:
                cursor.executemany(f"UPDATE {TABLE} SET search_joined = %s WHERE id = %s", changes)


def forward(apps, schema_editor):
    connection = schema_editor.connection
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise RuntimeError(f"Full-text search supports SQLite and PostgreSQL, not {vendor}.")
    for sql in [*_drop_index(vendor), ADD_COLUMN]:
        schema_editor.execute(sql, params=None)
    _fill(connection)
    rebuild = _sqlite_index(COLUMNS) if vendor == "sqlite" else _postgres_vector(COLUMNS, stripped=True)
    for sql in rebuild:
        schema_editor.execute(sql, params=None)
    refresh_statistics(apps, schema_editor)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    rebuild = (
        _sqlite_index(search.COLUMNS) if vendor == "sqlite" else _postgres_vector(search.COLUMNS, stripped=False)
    )
    for sql in [*_drop_index(vendor), f"ALTER TABLE {TABLE} DROP COLUMN search_joined", *rebuild]:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0017_sqlite_message_flags_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AddField(
                    model_name="coworkermessage",
                    name="search_joined",
                    field=models.TextField(blank=True, default="", editable=False),
                ),
            ],
        ),
    ]
