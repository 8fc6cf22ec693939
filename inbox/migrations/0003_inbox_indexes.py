"""Indexes the inbox filters need to stay newest-first fast at a million messages.

Each is partial on live rows (deleted_at IS NULL), like 0001's msg_newest, and ends with
(created_on DESC, id DESC) so a filtered page is one index range scan in keyset order.
Measured with EXPLAIN at 1M rows (bench/inbox_bench.py); the ones that did not help were dropped.
Plain SQL (the same on SQLite and PostgreSQL) rather than Meta.indexes: the model belongs to
another area, and the migration state stays equal to models.py.
"""

from django.db import migrations

INDEXES = {
    # direction=incoming|outgoing
    "msg_dir_newest": "(incoming, created_on DESC, id DESC)",
    # account=<Id> and account=none (IS NULL is indexed on both databases)
    "msg_account_newest": "(email_account_id, created_on DESC, id DESC)",
    # customer=<CoworkerId>; also the customer's conversation, oldest first (backward scan)
    "msg_customer_newest": "(coworker_id, created_on DESC, id DESC)",
    # the counts: one GROUP BY read from the index alone (covering), not from the table
    "msg_counts": "(email_account_id, incoming, is_new_message)",
}


def forward_sql():
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON inbox_coworkermessage {columns} WHERE deleted_at IS NULL"
        for name, columns in INDEXES.items()
    ]


def backward_sql():
    return [f"DROP INDEX IF EXISTS {name}" for name in INDEXES]


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_message_search")]

    operations = [migrations.RunSQL(forward_sql(), backward_sql())]
