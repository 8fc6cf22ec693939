"""Refresh SQLite's planner statistics for the messages, if the database keeps any.

An index made after an ``ANALYZE`` (0005's ``msg_counts_id``, 0006's) has no row in
``sqlite_stat1`` while the older ones do, and SQLite then guesses a handful of rows per key for the
new one: at a million messages it read one account's messages through ``msg_counts_id`` and sorted
them (85-180 ms a page) instead of walking ``msg_account_newest`` (20 ms). A database never
analysed has no statistics at all and plans well (tests/mailbox/test_plans.py), so this runs only
where ``sqlite_stat1`` exists. PostgreSQL keeps its statistics itself (autovacuum).
https://www.sqlite.org/lang_analyze.html
"""

from django.db import migrations


def refresh(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone():
            cursor.execute("ANALYZE inbox_coworkermessage")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0007_search_vocabulary")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
