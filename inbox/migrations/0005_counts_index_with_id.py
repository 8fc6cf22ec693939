"""The counts' covering index carries the message id too.

Counting a search (``+id IN (<FTS5 matches>)``) must test each row's id; with the id in the
index SQLite counts from the index alone: a word in half of a million messages went from 4.3 s
to 0.4 s (bench/inbox_bench.py, counts-cold-search-common). Same SQL on both databases.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inbox", "0004_message_tally")]

    operations = [
        migrations.RunSQL(
            [
                "DROP INDEX IF EXISTS msg_counts",
                "CREATE INDEX IF NOT EXISTS msg_counts_id ON inbox_coworkermessage "
                "(email_account_id, incoming, is_new_message, id) WHERE deleted_at IS NULL",
            ],
            [
                "DROP INDEX IF EXISTS msg_counts_id",
                "CREATE INDEX IF NOT EXISTS msg_counts ON inbox_coworkermessage "
                "(email_account_id, incoming, is_new_message) WHERE deleted_at IS NULL",
            ],
        )
    ]
