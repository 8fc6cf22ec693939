"""Awaiting reply: a flag per message, its indexes, and the tally counting it.

``awaiting_reply`` is true for a live message received from a customer (``incoming``, a
``coworker_id``) when no live message sent to that customer was created after it. The sync keeps
it (``inbox/sync/awaiting.py``); this migration computes it once for what the mirror already holds.

- The column is added with plain ``ALTER TABLE ... ADD COLUMN`` on both databases. Django's own
  ``AddField`` rebuilds an SQLite table for a NOT NULL column with a default, and a rebuild would
  drop the raw-SQL triggers of 0002 and 0004 (full-text search and the tally).
- ``msg_coworker_replies``: (coworker_id, incoming, created_on) on live rows: a customer's latest
  sent message is one index seek, so the sync recomputes the flag of a customer cheaply.
- ``msg_awaiting_newest``: the awaiting view, newest (or oldest) first, one range scan; and
  ``msg_awaiting_coworker``: the flagged rows of a customer, for the sync.
- The tally (0004) gains an ``awaiting_reply`` column, so "Awaiting reply N" beside the list is
  read from it like the other counts: the table and its triggers are made again with it.
"""

import importlib

from django.db import migrations, models

tally = importlib.import_module("inbox.migrations.0004_message_tally")
refresh_statistics = importlib.import_module("inbox.migrations.0008_refresh_sqlite_statistics").refresh

ADD_COLUMN = "ALTER TABLE inbox_coworkermessage ADD COLUMN awaiting_reply boolean NOT NULL DEFAULT FALSE"

INDEXES = {
    "msg_coworker_replies": "(coworker_id, incoming, created_on) WHERE deleted_at IS NULL",
    "msg_awaiting_newest": "(created_on DESC, id DESC) WHERE awaiting_reply AND deleted_at IS NULL",
    "msg_awaiting_coworker": "(coworker_id) WHERE awaiting_reply",
}

BACKFILL_FLAG = """UPDATE inbox_coworkermessage SET awaiting_reply = TRUE
    WHERE incoming AND deleted_at IS NULL AND coworker_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM inbox_coworkermessage AS reply
        WHERE reply.coworker_id = inbox_coworkermessage.coworker_id AND NOT reply.incoming
          AND reply.deleted_at IS NULL AND reply.created_on > inbox_coworkermessage.created_on)"""

# --- The tally, with awaiting_reply in its key (the same design as 0004) -----------------------

TABLE = """CREATE TABLE inbox_message_tally (
    account_key bigint NOT NULL,
    incoming boolean NOT NULL,
    is_new_message boolean NOT NULL,
    awaiting_reply boolean NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (account_key, incoming, is_new_message, awaiting_reply)
)"""
COLUMNS = "account_key, incoming, is_new_message, awaiting_reply"
BACKFILL = f"""INSERT INTO inbox_message_tally ({COLUMNS}, n)
    SELECT coalesce(email_account_id, -1), incoming, is_new_message, awaiting_reply, count(*)
    FROM inbox_coworkermessage WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4"""
_KEY = "coalesce({r}.email_account_id, -1), {r}.incoming, {r}.is_new_message, {r}.awaiting_reply"
_MATCH = (
    "account_key = coalesce({r}.email_account_id, -1) AND incoming = {r}.incoming "
    "AND is_new_message = {r}.is_new_message AND awaiting_reply = {r}.awaiting_reply"
)
_CHANGED = tally._CHANGED + " OR old.awaiting_reply IS NOT new.awaiting_reply"


def _sqlite_add(r: str) -> str:
    return (
        f"INSERT INTO inbox_message_tally ({COLUMNS}, n) "
        f"SELECT {_KEY.format(r=r)}, 1 WHERE {r}.deleted_at IS NULL "
        f"ON CONFLICT ({COLUMNS}) DO UPDATE SET n = n + 1;"
    )


def _sqlite_remove(r: str) -> str:
    return f"UPDATE inbox_message_tally SET n = n - 1 WHERE {_MATCH.format(r=r)} AND {r}.deleted_at IS NULL;"


def _sqlite_tally() -> list[str]:
    return [
        TABLE,
        f"CREATE TRIGGER inbox_tally_ai AFTER INSERT ON inbox_coworkermessage BEGIN {_sqlite_add('new')} END",
        f"CREATE TRIGGER inbox_tally_ad AFTER DELETE ON inbox_coworkermessage BEGIN {_sqlite_remove('old')} END",
        f"""CREATE TRIGGER inbox_tally_au AFTER UPDATE ON inbox_coworkermessage WHEN {_CHANGED}
            BEGIN {_sqlite_remove('old')} {_sqlite_add('new')} END""",
        BACKFILL,
    ]


def _postgres_tally() -> list[str]:
    return [
        TABLE,
        f"""CREATE FUNCTION inbox_tally_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
                UPDATE inbox_message_tally SET n = n - 1 WHERE {_MATCH.format(r="OLD")};
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
                INSERT INTO inbox_message_tally ({COLUMNS}, n)
                VALUES ({_KEY.format(r="NEW")}, 1)
                ON CONFLICT ({COLUMNS})
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


def _statements(vendor: str, *, forward: bool) -> list[str]:
    indexes = [f"CREATE INDEX IF NOT EXISTS {name} ON inbox_coworkermessage {spec}" for name, spec in INDEXES.items()]
    if forward:
        # The old tally goes first, so the backfill's flag updates do not each adjust it.
        old_tally = {"sqlite": tally.SQLITE_BACKWARD, "postgresql": tally.POSTGRES_BACKWARD}[vendor]
        new_tally = {"sqlite": _sqlite_tally, "postgresql": _postgres_tally}[vendor]()
        return [*old_tally, ADD_COLUMN, *indexes, BACKFILL_FLAG, *new_tally]
    drop_indexes = [f"DROP INDEX IF EXISTS {name}" for name in INDEXES]
    old_tally = {"sqlite": tally.SQLITE_FORWARD, "postgresql": tally.POSTGRES_FORWARD}[vendor]
    new_tally_down = {"sqlite": tally.SQLITE_BACKWARD, "postgresql": tally.POSTGRES_BACKWARD}[vendor]
    return [*new_tally_down, *drop_indexes, "ALTER TABLE inbox_coworkermessage DROP COLUMN awaiting_reply", *old_tally]


def _run(*, forward: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in ("sqlite", "postgresql"):
            raise RuntimeError(f"Awaiting reply supports SQLite and PostgreSQL, not {vendor}.")
        for sql in _statements(vendor, forward=forward):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0012_message_company_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="coworkermessage", name="awaiting_reply", field=models.BooleanField(default=False)
                ),
            ],
            database_operations=[migrations.RunPython(_run(forward=True), _run(forward=False))],
        ),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop),
    ]
