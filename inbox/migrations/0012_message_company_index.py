"""An index for the inbox's company filter (``company=<CoworkerCompanyName>``), newest first.

The filter matches the whole name in any letter case, ``lower(coworker_company_name) = lower(?)``,
so the index is on that expression; like 0003's filter indexes it is partial on live rows and ends
with (created_on DESC, id DESC), so a page of one company is one range scan in keyset order, and
its counts read only that company's rows. Measured at a million messages on SQLite (bench/
inbox_bench.py's data): without it a company with no messages took 3.8 s (every live row read)
and the counts of a company with a tenth of them 590 ms.

Plain SQL, the same on SQLite (expression indexes: https://www.sqlite.org/expridx.html) and
PostgreSQL (https://www.postgresql.org/docs/current/indexes-expressional.html), like 0003: the
model's state stays as models.py has it. A new index does not rebuild the table, so the raw-SQL
objects of 0002-0006 are untouched. SQLite's statistics are refreshed after it, as 0008 does:
without a row in ``sqlite_stat1`` SQLite guessed the new index the most selective, and read one
customer's messages of a company through it (1.1 s) instead of through the customer's (55 ms).
"""

import importlib

from django.db import migrations

NAME = "msg_company_newest"
refresh_statistics = importlib.import_module("inbox.migrations.0008_refresh_sqlite_statistics").refresh


class Migration(migrations.Migration):
    dependencies = [("inbox", "0011_syncrun_heartbeat")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON inbox_coworkermessage "
            "(lower(coworker_company_name), created_on DESC, id DESC) WHERE deleted_at IS NULL",
            f"DROP INDEX IF EXISTS {NAME}",
        ),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop),
    ]
