"""Accounts-page benchmark: the health overview at a million messages and 50 accounts.

    .venv/bin/python bench/health_bench.py                        # SQLite file var/bench/health.sqlite3
    .venv/bin/python bench/health_bench.py --database-url postgres://postgres@127.0.0.1/hd_health_bench
    options: --rows 1000000 --accounts 50 --days 30 --repeat 10 --explain

The first run generates the mirror (only the columns the page reads, bulk inserted) with every
message inside the last ``--days`` days: the worst case for the 30-day volume query, which reads
every message of the window. Another project database can be measured read-only by pointing
``--database-url`` at it with ``--no-generate``. Prints the median and worst time and the number
of queries of: the whole overview (what ``/accounts/`` computes), the badge's attention count,
and the volume query alone; with ``--explain``, the plans of the volume and last-received queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database_url: str | None) -> None:
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HELPDESK_VAR_DIR", str(var_dir))
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{var_dir / 'health.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def generate(*, rows: int, accounts: int, days: int, seed: int = 11) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from inbox.models import Business, CoworkerMessage, EmailAccount

    call_command("migrate", verbosity=0, interactive=False)
    have = CoworkerMessage.objects.count()
    if have >= rows:
        print(f"mirror has {have:,} messages: reusing it")
        return
    if have:
        sys.exit(f"mirror has {have:,} messages, fewer than {rows:,}: drop the database and rerun")
    rng = random.Random(seed)
    now = timezone.now()
    Business.objects.bulk_create([Business(id=b, name=f"Location {b}") for b in range(1, 6)])
    EmailAccount.objects.bulk_create([
        EmailAccount(
            id=5000 + a, business_id=1 + a % 5, display_name=f"Desk {a:02d}", email_address=f"desk{a:02d}@x.example",
            active=a % 17 != 0, incoming_server="imap.x.example", incoming_server_type=1, incoming_server_port=993,
            incoming_server_ssl=True, last_check_time=now - dt.timedelta(minutes=rng.randint(1, 300)),
            error_count=rng.choice([0, 0, 0, 1, 9]), created_on=now - dt.timedelta(days=400),
        )
        for a in range(accounts)
    ])
    columns = ["id", "email_account_id", "subject", "body_text", "is_new_message", "incoming", "created_on"]
    span = days * 86400
    sql = f"INSERT INTO inbox_coworkermessage ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    started, batch = time.perf_counter(), 50_000
    with connection.cursor() as cursor:
        for start in range(1, rows + 1, batch):
            chunk = []
            for i in range(start, min(start + batch, rows + 1)):
                created = now - dt.timedelta(seconds=span * (1 - i / rows))
                account = None if rng.random() < 0.05 else 5000 + rng.randrange(accounts)
                chunk.append((i, account, f"Subject {i}", "", False, rng.random() < 0.6, created))
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY inbox_coworkermessage ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    cursor.executemany(sql, chunk)
            print(f"\r{min(start + batch - 1, rows):,} rows, {time.perf_counter() - started:.0f} s", end="", flush=True)
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE inbox_coworkermessage")
    print(f"\ngenerated {rows:,} messages in {time.perf_counter() - started:.0f} s")


def timed(label: str, func, repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for i in range(repeat + 1):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            func()
            elapsed = (time.perf_counter() - started) * 1000
        queries = len(ctx.captured_queries)
        if i:  # the first warms the database's caches
            times.append(elapsed)
    print(f"{label:28s} median {statistics.median(times):8.1f} ms   worst {max(times):8.1f} ms   {queries} queries", flush=True)


def explain(queryset) -> None:
    print(queryset.explain())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--no-generate", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    setup(args.database_url)

    from django.db import connection
    from django.utils import timezone

    from inbox.accounts import overview, selectors
    from inbox.models import CoworkerMessage

    if not args.no_generate:
        generate(rows=args.rows, accounts=args.accounts, days=args.days)
    now = timezone.now()
    window = CoworkerMessage.objects.filter(created_on__gte=now - dt.timedelta(days=30), deleted_at__isnull=True)
    print(f"{connection.vendor}: {CoworkerMessage.objects.count():,} messages, {window.count():,} in the last 30 days")
    timed("overview (/accounts/)", lambda: overview.accounts_overview(now=now), args.repeat)
    timed("attention count (badge)", lambda: selectors.attention_count(now=now), args.repeat)
    timed("30-day volumes alone", lambda: selectors.daily_volumes(now=now), args.repeat)
    timed("accounts + last received", lambda: list(selectors.accounts_with_last_received()), args.repeat)
    if args.explain:
        from django.db.models import Count, Q
        from django.db.models.functions import TruncDate

        start = now - dt.timedelta(days=30)
        explain(
            CoworkerMessage.objects.filter(deleted_at__isnull=True, email_account__isnull=False, created_on__gte=start)
            .annotate(day=TruncDate("created_on")).values("email_account_id", "day")
            .annotate(received=Count("id", filter=Q(incoming=True))).order_by()
        )
        explain(selectors.accounts_with_last_received())


if __name__ == "__main__":
    main()
