"""The list's filters walk their newest-first index on SQLite, with or without planner statistics
(a page is one index range scan in keyset order, never "read every match, then sort")."""

from __future__ import annotations

import pytest
from django.db import connection

from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import for_rows, message_list

pytestmark = [pytest.mark.django_db, pytest.mark.skipif("connection.vendor != 'sqlite'")]

EXPECTED = [
    (InboxFilters(), "msg_newest"),
    (InboxFilters(account=5), "msg_account_newest"),
    (InboxFilters(account="none"), "msg_account_newest"),
    (InboxFilters(account=5, direction="incoming"), "msg_account_received_newest"),
    (InboxFilters(customer=3), "msg_customer_newest"),
    (InboxFilters(awaiting=True), "msg_awaiting_newest"),
    (InboxFilters(awaiting=True, account=5), "msg_awaiting_account_newest"),
]


def plan(user, filters: InboxFilters) -> list[str]:
    sql, params = for_rows(message_list(user=user, filters=filters))[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [row[-1] for row in cursor.fetchall()]


@pytest.mark.parametrize("analysed", [False, True], ids=["no statistics", "after ANALYZE"])
def test_each_filter_walks_its_index(staff_user, analysed):
    if analysed:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    for filters, index in EXPECTED:
        steps = plan(staff_user, filters)
        assert f"USING INDEX {index}" in steps[0], (filters, steps)
        assert not any("TEMP B-TREE FOR ORDER BY" in step for step in steps), (filters, steps)


def test_the_statistics_migration_refreshes_stale_statistics(staff_user):
    """Statistics from before an index existed (here: as a million-row database analysed before
    migration 0005 had them) made SQLite prefer the unanalysed index and sort; 0008 refreshes them."""
    import importlib

    migration = importlib.import_module("inbox.migrations.0008_refresh_sqlite_statistics")
    stale_rows = [("msg_newest", "1000000 1 1"), ("msg_account_newest", "1000000 19608 1 1"),
                  ("msg_customer_newest", "1000000 50 1 1"), ("msg_dir_newest", "1000000 500000 1 1"),
                  ("sqlite_autoindex_inbox_coworkermessage_1", "1000000 1")]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'inbox_coworkermessage'")
        for index, stat in stale_rows:
            cursor.execute("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('inbox_coworkermessage', %s, %s)", [index, stat])
        cursor.execute("ANALYZE sqlite_schema")  # the planner reloads the statistics
    stale = plan(staff_user, InboxFilters(account=5))
    assert "msg_account_newest" not in stale[0] and any("TEMP B-TREE FOR ORDER BY" in s for s in stale), stale

    editor = type("Editor", (), {"connection": connection})()
    migration.refresh(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sqlite_schema")
    fresh = plan(staff_user, InboxFilters(account=5))
    assert "msg_account_newest" in fresh[0] and not any("TEMP B-TREE" in s for s in fresh), fresh
