"""A running tally of live messages per (account, direction, Nexudus unread flag), kept by triggers.

The inbox's default view counts every live message; a GROUP BY over a million rows costs 150 ms
even from a covering index (bench/inbox_bench.py), so the database keeps the totals as rows
change, and the unfiltered counts read ~200 rows instead. Filtered views still count with
GROUP BY (and are cached). ``account_key`` is the account Id, or -1 for "no account".

The triggers fire only when a counted column changes (deleted_at, email_account_id, incoming,
is_new_message), so an incremental sync that rewrites unchanged rows does not touch the tally.
On PostgreSQL a TRUNCATE of the messages (the test suite's flush) empties the tally too.
``inbox.mailbox.counts.rebuild_tally()`` recomputes it from scratch if it is ever in doubt.
"""

from django.db import migrations

TABLE = """CREATE TABLE inbox_message_tally (
    account_key bigint NOT NULL,
    incoming boolean NOT NULL,
    is_new_message boolean NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (account_key, incoming, is_new_message)
)"""
BACKFILL = """INSERT INTO inbox_message_tally (account_key, incoming, is_new_message, n)
    SELECT coalesce(email_account_id, -1), incoming, is_new_message, count(*)
    FROM inbox_coworkermessage WHERE deleted_at IS NULL GROUP BY 1, 2, 3"""

_KEY = "coalesce({r}.email_account_id, -1), {r}.incoming, {r}.is_new_message"
_MATCH = (
    "account_key = coalesce({r}.email_account_id, -1) AND incoming = {r}.incoming "
    "AND is_new_message = {r}.is_new_message"
)
_CHANGED = (
    "(old.deleted_at IS NULL) IS NOT (new.deleted_at IS NULL) OR old.email_account_id IS NOT new.email_account_id "
    "OR old.incoming IS NOT new.incoming OR old.is_new_message IS NOT new.is_new_message"
)


def _sqlite_add(r: str) -> str:
    return (
        f"INSERT INTO inbox_message_tally (account_key, incoming, is_new_message, n) "
        f"SELECT {_KEY.format(r=r)}, 1 WHERE {r}.deleted_at IS NULL "
        f"ON CONFLICT (account_key, incoming, is_new_message) DO UPDATE SET n = n + 1;"
    )


def _sqlite_remove(r: str) -> str:
    return f"UPDATE inbox_message_tally SET n = n - 1 WHERE {_MATCH.format(r=r)} AND {r}.deleted_at IS NULL;"


SQLITE_FORWARD = [
    TABLE,
    f"CREATE TRIGGER inbox_tally_ai AFTER INSERT ON inbox_coworkermessage BEGIN {_sqlite_add('new')} END",
    f"CREATE TRIGGER inbox_tally_ad AFTER DELETE ON inbox_coworkermessage BEGIN {_sqlite_remove('old')} END",
    f"""CREATE TRIGGER inbox_tally_au AFTER UPDATE ON inbox_coworkermessage WHEN {_CHANGED}
        BEGIN {_sqlite_remove('old')} {_sqlite_add('new')} END""",
    BACKFILL,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS inbox_tally_au",
    "DROP TRIGGER IF EXISTS inbox_tally_ad",
    "DROP TRIGGER IF EXISTS inbox_tally_ai",
    "DROP TABLE IF EXISTS inbox_message_tally",
]

POSTGRES_FORWARD = [
    TABLE,
    f"""CREATE FUNCTION inbox_tally_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
            UPDATE inbox_message_tally SET n = n - 1 WHERE {_MATCH.format(r="OLD")};
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
            INSERT INTO inbox_message_tally (account_key, incoming, is_new_message, n)
            VALUES ({_KEY.format(r="NEW")}, 1)
            ON CONFLICT (account_key, incoming, is_new_message)
            DO UPDATE SET n = inbox_message_tally.n + 1;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_tally_reset() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM inbox_message_tally;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER inbox_tally_insert_delete AFTER INSERT OR DELETE ON inbox_coworkermessage
        FOR EACH ROW EXECUTE FUNCTION inbox_tally_change()""",
    f"""CREATE TRIGGER inbox_tally_update AFTER UPDATE ON inbox_coworkermessage FOR EACH ROW
        WHEN ({_CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")})
        EXECUTE FUNCTION inbox_tally_change()""",
    """CREATE TRIGGER inbox_tally_truncate AFTER TRUNCATE ON inbox_coworkermessage
        FOR EACH STATEMENT EXECUTE FUNCTION inbox_tally_reset()""",
    BACKFILL,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS inbox_tally_truncate ON inbox_coworkermessage",
    "DROP TRIGGER IF EXISTS inbox_tally_update ON inbox_coworkermessage",
    "DROP TRIGGER IF EXISTS inbox_tally_insert_delete ON inbox_coworkermessage",
    "DROP FUNCTION IF EXISTS inbox_tally_reset()",
    "DROP FUNCTION IF EXISTS inbox_tally_change()",
    "DROP TABLE IF EXISTS inbox_message_tally",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements_by_vendor:
            raise RuntimeError(f"The message tally supports SQLite and PostgreSQL, not {vendor}.")
        for sql in statements_by_vendor[vendor]:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0003_inbox_indexes")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
