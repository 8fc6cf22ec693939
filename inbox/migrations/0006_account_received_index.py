"""An index for one account's received messages, newest first.

The accounts page asks, per mail account, for its newest live incoming message and for how many it
received in a window (``inbox/health_selectors.py``); the inbox asks the same shape for
``account=<Id>&direction=...``. With only 0003's ``(email_account_id, created_on, id)`` and 0005's
``(email_account_id, incoming, is_new_message, id)``, SQLite took the latter (two equality columns)
and sorted every incoming message of each account: at a million messages and 50 accounts, "newest
incoming per account" took 2.3 s and the silent-window counts 2.5 s (PostgreSQL: 2.4 ms and 22 ms,
from 0003's index plus a filter). With this index both are a short range scan on both databases.

Partial on ``incoming`` rather than a column of it: Django writes ``incoming=True`` as a bare
``"incoming"`` term on SQLite, which an index column cannot seek on, but which matches a partial
index's ``WHERE ... AND incoming`` (https://www.sqlite.org/partialindex.html, "queries using
partial indexes"); PostgreSQL uses it for both spellings. The inbox's ``account=<Id>&direction=
incoming`` (and ``unread=1`` with both) is the same shape and uses it too.

Plain SQL like 0003 (the model belongs to another area; the migration state stays equal to
models.py). A new index does not rebuild the table, so the raw-SQL objects of 0002-0005 (FTS5
table and triggers, the tally's triggers) are untouched.
"""

from django.db import migrations

NAME = "msg_account_received_newest"


class Migration(migrations.Migration):
    dependencies = [("inbox", "0005_counts_index_with_id")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON inbox_coworkermessage "
            "(email_account_id, created_on DESC, id DESC) WHERE deleted_at IS NULL AND incoming",
            f"DROP INDEX IF EXISTS {NAME}",
        )
    ]
