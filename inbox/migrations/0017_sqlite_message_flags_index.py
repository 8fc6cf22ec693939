"""SQLite: the flags of a live message by its id, in one small index (``msg_flags``).

The counts of a search read the first 10,001 messages the full-text index finds
(``inbox/mailbox/counts.py``) and need only their id, account, direction and flags. SQLite's table
keys are its own rowids (a ``bigint`` primary key is not one: https://www.sqlite.org/lang_createtable.html#rowid),
so each match was two lookups, the id's index then the table, whose row holds the message body
before ``awaiting_reply`` (0013 appended it). With these columns in one index a match is one
lookup in a narrow b-tree: at a million messages, a word in half of them went from 33 ms to 11 ms
(bench/inbox_bench.py's ``counts-cold-search-common``, its query alone).

SQLite only: PostgreSQL reads a common word's matches by scanning the table (a GIN index cannot
give them in any order to stop at 10,001), where this index would not be used, and every index
costs the sync's writes. SQLite's statistics are refreshed after it, as 0008 explains.
"""

import importlib

from django.db import migrations

NAME = "msg_flags"
refresh_statistics = importlib.import_module("inbox.migrations.0008_refresh_sqlite_statistics").refresh


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON inbox_coworkermessage "
            "(id, email_account_id, incoming, is_new_message, awaiting_reply) WHERE deleted_at IS NULL"
        )
        refresh_statistics(apps, schema_editor)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0016_awaiting_account_index")]

    operations = [migrations.RunPython(create, drop)]
