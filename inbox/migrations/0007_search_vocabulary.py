"""The full-text index's vocabulary, for spelling a search prefix out as the words it matches.

SQLite only: an ``fts5vocab`` table over 0002's ``inbox_message_fts`` (one row per indexed word).
``inbox/platform/search.py`` reads it to turn a common search word's prefix ("invoice"*) into exact words
("invoice" OR "invoices"), which FTS5 can test row by row in microseconds; a prefix rebuilds its
merged word list on every test (16 ms). https://www.sqlite.org/fts5.html#the_fts5vocab_virtual_table_module

A virtual table of its own: nothing about the messages table changes (no rebuild).
"""

from django.db import migrations

FORWARD = "CREATE VIRTUAL TABLE IF NOT EXISTS inbox_message_fts_vocab USING fts5vocab(inbox_message_fts, 'row')"
BACKWARD = "DROP TABLE IF EXISTS inbox_message_fts_vocab"


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0006_account_received_index")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
