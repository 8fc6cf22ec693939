"""Full-text search over messages (subject, body text, customer name, e-mail, company).

SQLite: an FTS5 external-content table kept in step by triggers. The sync writes with
``INSERT ... ON CONFLICT DO UPDATE``, which fires UPDATE triggers on SQLite (tests/mailbox/test_search.py
checks it). The update trigger re-indexes a row only when one of the searched columns changed, so
an incremental sync that touches unchanged rows costs the index nothing.
https://www.sqlite.org/fts5.html#external_content_tables

PostgreSQL: a stored generated tsvector column ('simple' configuration: multilingual data, no
stemming) and a GIN index. ASCII punctuation is turned into spaces first, so "ana@example.com"
is the words ana, example, com, as it is for SQLite's unicode61 tokenizer. The body is capped so
a huge message cannot exceed tsvector's 1 MB limit and fail the sync.
https://www.postgresql.org/docs/current/textsearch-tables.html

Nothing else in the model knows about these objects: they are only read by ``inbox/platform/search.py``.
"""

from django.db import migrations

COLUMNS = ["subject", "body_text", "coworker_full_name", "coworker_email", "coworker_company_name"]


def _values(prefix: str) -> str:
    return ", ".join(f"{prefix}.{c}" for c in COLUMNS)


SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE inbox_message_fts USING fts5(
        {", ".join(COLUMNS)},
        content='inbox_coworkermessage', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )""",
    f"""CREATE TRIGGER inbox_message_fts_ai AFTER INSERT ON inbox_coworkermessage BEGIN
        INSERT INTO inbox_message_fts(rowid, {", ".join(COLUMNS)}) VALUES (new.id, {_values("new")});
    END""",
    f"""CREATE TRIGGER inbox_message_fts_ad AFTER DELETE ON inbox_coworkermessage BEGIN
        INSERT INTO inbox_message_fts(inbox_message_fts, rowid, {", ".join(COLUMNS)})
        VALUES ('delete', old.id, {_values("old")});
    END""",
    f"""CREATE TRIGGER inbox_message_fts_au AFTER UPDATE ON inbox_coworkermessage
    WHEN old.id IS NOT new.id OR {" OR ".join(f"old.{c} IS NOT new.{c}" for c in COLUMNS)}
    BEGIN
        INSERT INTO inbox_message_fts(inbox_message_fts, rowid, {", ".join(COLUMNS)})
        VALUES ('delete', old.id, {_values("old")});
        INSERT INTO inbox_message_fts(rowid, {", ".join(COLUMNS)}) VALUES (new.id, {_values("new")});
    END""",
    "INSERT INTO inbox_message_fts(inbox_message_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS inbox_message_fts_au",
    "DROP TRIGGER IF EXISTS inbox_message_fts_ad",
    "DROP TRIGGER IF EXISTS inbox_message_fts_ai",
    "DROP TABLE IF EXISTS inbox_message_fts",
]

_PG_TEXT = " || ' ' || ".join(
    f"coalesce(left({c}, 100000), '')" if c == "body_text" else f"coalesce({c}, '')" for c in COLUMNS
)
POSTGRES_FORWARD = [
    f"""ALTER TABLE inbox_coworkermessage ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (
            to_tsvector('simple'::regconfig, regexp_replace({_PG_TEXT}, '[[:punct:]]+', ' ', 'g'))
        ) STORED""",
    "CREATE INDEX inbox_msg_search ON inbox_coworkermessage USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS inbox_msg_search",
    "ALTER TABLE inbox_coworkermessage DROP COLUMN IF EXISTS search_vector",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"Full-text search supports SQLite and PostgreSQL, not {schema_editor.connection.vendor}."
            )
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
