"""Inbox benchmark: server time of the inbox at a million messages, on SQLite and PostgreSQL.

    .venv/bin/python bench/inbox_bench.py                       # SQLite file var/bench/inbox.sqlite3
    .venv/bin/python bench/inbox_bench.py --database-url postgres://postgres@127.0.0.1/hd_bench
    options: --rows 1000000 --accounts 50 --repeat 30 --generate-only --only first,deep,...
             --work (SQL queries and Python function calls per request instead of times)
             --against DIR (each case here and in another checkout DIR, request by request in turns)

The first run generates the mirror straight into the database (fast bulk insert; the full-text
index is filled by the migration's triggers on SQLite and the generated column on PostgreSQL; the
customers table as the sync fills it) and later runs reuse it. Then each case is requested
through Django's test client as a signed-in person (middleware, session, view, template: the
whole server side), with ``DEBUG`` off as in production, and the median and 95th percentile of
the handling time are printed. Goal: each ≤ 10 ms median (cases over it are marked).

Search terms are planted so their frequency is known: "invoice" in ~50% of the messages
(common), "parking" in ~1% (middling), "zeppelin" in 12 messages (rare).
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

RARE_ROWS = 12
GOAL_MS = 10  # median server time of every case
WORDS = (
    "hello thanks booking desk meeting room key card wifi printer coffee kitchen door access "
    "membership plan upgrade cancel pause renew contract deposit refund receipt payment card bank "
    "transfer direct debit late fee reminder event workshop talk community lunch friday monday "
    "question answer help please urgent soon tomorrow today week month year office private hot "
    "dedicated locker mail post package delivery visitor guest badge reception phone booth call "
    "zoom noise heating cooling window light chair monitor cable adapter charger bike shower gym"
).split()
FIRST = "Ana Ben Chloé Dmitri Eva Farid Giulia Hiro Ines Jonas Kemal Lena Mateo Nadia Oskar Priya Quinn Rosa Sven Tomás Ülkü Vera Wei Xavier Yara Zoë".split()
LAST = "García Smith Müller Rossi Dubois Kowalski Nakamura Okafor Svensson Novak O'Brien Haddad Ivanova Jensen Costa Lopez".split()
COMPANIES = [None, "Acme Ltd", "Blue Fox Studio", "Café Nord", "Data & Co", "Ēvergreen GmbH", "Kōbō KK", "Lumen SA", "Northwind", "Pixel Foundry"]


def _setup(database_url: str | None, var_dir: Path) -> None:
    os.environ.setdefault("HELPDESK_VAR_DIR", str(var_dir))
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{var_dir / 'inbox.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()


def generate(*, rows: int, accounts: int, seed: int = 7) -> None:
    """Fill the mirror with ``rows`` messages and ``accounts`` mail accounts (if not there yet)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from inbox.models import Business, CoworkerMessage, EmailAccount

    call_command("migrate", verbosity=0, interactive=False)
    have = CoworkerMessage.objects.count()
    if have >= rows:
        print(f"mirror has {have:,} messages: reusing it")
        return
    if have:
        sys.exit(f"mirror has {have:,} messages, fewer than {rows:,}: drop the database and rerun")
    rng = random.Random(seed)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    Business.objects.bulk_create([Business(id=1, name="Main location")], ignore_conflicts=True)
    EmailAccount.objects.bulk_create(
        [
            EmailAccount(id=1000 + a, business_id=1, display_name=f"Desk {a:02d}",
                         email_address=f"desk{a:02d}@spaces.example", active=True)
            for a in range(accounts)
        ],
        ignore_conflicts=True,
    )
    rare_ids = set(rng.sample(range(1, rows + 1), RARE_ROWS))
    columns = [
        "id", "coworker_id", "coworker_full_name", "coworker_email", "coworker_company_name",
        "email_account_id", "subject", "body", "body_text", "is_new_message", "incoming",
        "created_on", "updated_on", "synced_at",
    ]
    span = 3 * 365 * 86400

    def make(i: int) -> tuple:
        words = rng.choices(WORDS, k=rng.randint(15, 70))
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words)), "invoice")
        if rng.random() < 0.01:
            words.insert(rng.randrange(len(words)), "parking")
        if i in rare_ids:
            words.insert(rng.randrange(len(words)), "zeppelin")
        text = " ".join(words).capitalize() + "."
        customer = rng.randint(1, 20000)
        first, last = FIRST[customer % len(FIRST)], LAST[customer % len(LAST)]
        # Ids grow with time, with jitter, as Nexudus's do; a few arrive out of order.
        created = now - dt.timedelta(seconds=span * (1 - i / rows) + rng.randint(0, 3600))
        account = None if rng.random() < 0.05 else 1000 + rng.randrange(accounts)
        return (
            i, customer, f"{first} {last}", f"{first.lower()}.{customer}@example.com",
            COMPANIES[customer % len(COMPANIES)], account, " ".join(words[:rng.randint(3, 8)]).capitalize(),
            f"<p>{text}</p>", text, rng.random() < 0.1, rng.random() < 0.6, created, created, now,
        )

    batch = 20_000
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for start in range(1, rows + 1, batch):
                with transaction.atomic():
                    with raw.copy(f"COPY inbox_coworkermessage ({', '.join(columns)}) FROM STDIN") as copy:
                        for i in range(start, min(start + batch, rows + 1)):
                            copy.write_row(make(i))
                print(f"\r{min(start + batch - 1, rows):,} rows, {time.perf_counter() - started:.0f} s", end="")
            cursor.execute("VACUUM ANALYZE inbox_coworkermessage")
    else:
        sql = (
            f"INSERT INTO inbox_coworkermessage ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        with connection.cursor() as cursor:
            for start in range(1, rows + 1, batch):
                with transaction.atomic():
                    cursor.executemany(sql, [make(i) for i in range(start, min(start + batch, rows + 1))])
                print(f"\r{min(start + batch - 1, rows):,} rows, {time.perf_counter() - started:.0f} s", end="")
            cursor.execute("ANALYZE")
    print(f"\ngenerated {rows:,} messages in {time.perf_counter() - started:.0f} s")
    # Written straight into the table, past the sync: the awaiting-reply flags are computed once.
    from inbox.sync import awaiting

    started = time.perf_counter()
    flagged = awaiting.rebuild()
    print(f"awaiting reply: {flagged:,} messages flagged in {time.perf_counter() - started:.0f} s")


def _work(client, url: str, headers: dict) -> tuple[int, int]:
    """(SQL queries, Python function calls) of one request: the same on any machine, where the
    times are not (``--work``)."""
    import cProfile
    import pstats

    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url, **headers)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(10):
        client.get(url, **headers)
    profile.disable()
    return len(queries), pstats.Stats(profile).total_calls // 10


def _client():
    """A test client signed in as the bench's staff member."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def _cases() -> list[tuple[str, str, dict]]:
    """(name, URL, request headers) of each case; ``"cold": True`` in the headers: the view's
    cached counts are forgotten before each request."""
    from inbox.mailbox.cursor import Cursor
    from inbox.models import CoworkerMessage

    newest = CoworkerMessage.objects.order_by("-created_on", "-id")
    # The 250,000th row starts page 5,001 at 50 rows a page.
    # (On a smaller mirror, generated with --rows, its last row.)
    deep = newest.values_list("created_on", "id")[min(50 * 5000, newest.count()) - 1]
    deep_cursor = Cursor(created_on=deep[0], id=deep[1]).encode()
    account = 1000 + 7
    HX = {"HTTP_HX_REQUEST": "true"}
    return [
        ("first", "/", {}),
        ("first-rows", "/", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}),
        ("deep", f"/?after={deep_cursor}", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "more"}),
        ("unread", "/?unread=1", {}),
        ("incoming", "/?direction=incoming", {}),
        ("outgoing", "/?direction=outgoing", {}),
        ("account", f"/?account={account}", {}),
        ("no-account", "/?account=none", {}),
        ("customer", "/?customer=4242", {}),
        ("since-until", "/?since=2025-03-01&until=2025-03-31", {}),
        ("unread+incoming+account", f"/?unread=1&direction=incoming&account={account}", {}),
        ("awaiting", "/?awaiting=1", {}),
        ("awaiting-oldest", "/?awaiting=1&order=oldest", {}),
        ("awaiting+account", f"/?awaiting=1&account={account}", {}),
        ("oldest", "/?order=oldest", {}),
        ("oldest-deep", f"/?order=oldest&after={deep_cursor}", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "more"}),
        ("search-rare", "/?q=zeppelin", {}),
        ("search-middling", "/?q=parking", {}),
        ("search-common", "/?q=invoice", {}),
        ("search-two-words", "/?q=parking+invoice", {}),
        ("search-rare+filters", "/?q=zeppelin&direction=incoming&since=2024-01-01", {}),
        # The customer field's suggestions (20,000 customers): a common word start, a number (also
        # inside e-mails), nothing at all (every customer read).
        ("customer-lookup", "/customers/lookup/?q=muller", HX),
        ("customer-lookup-number", "/customers/lookup/?q=4242", HX),
        ("customer-lookup-none", "/customers/lookup/?q=zzyzx", HX),
        ("counts-cold", "/inbox/counts/", {"cold": True, **HX}),
        ("counts-cold-unread+incoming", "/inbox/counts/?unread=1&direction=incoming", {"cold": True, **HX}),
        ("counts-cold-search-common", "/inbox/counts/?q=invoice", {"cold": True, **HX}),
        ("counts-cold-search-middling", "/inbox/counts/?q=parking", {"cold": True, **HX}),
        ("counts-cold-since-until", "/inbox/counts/?since=2025-03-01&until=2025-03-31", {"cold": True, **HX}),
        ("counts-cold-awaiting+account", f"/inbox/counts/?awaiting=1&account={account}", {"cold": True, **HX}),
        ("counts-cached", "/inbox/counts/", HX),
        ("live", f"/inbox/live/?newest={deep_cursor}", HX),
    ]


def _timed(client, url: str, headers: dict) -> tuple[float, float]:
    """One request of a case: (elapsed ms, this process's CPU ms)."""
    from django.core.cache import cache
    from django.http import QueryDict

    from inbox.mailbox.counts import counts_cache_keys
    from inbox.mailbox.filters import InboxFilterForm

    headers = dict(headers)
    if headers.pop("cold", False):  # forget this view's cached counts (and nothing else)
        cache.delete_many(counts_cache_keys(InboxFilterForm(QueryDict(url.partition("?")[2])).filters))
    started, started_cpu = time.perf_counter(), time.process_time()
    response = client.get(url, **headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, (time.process_time() - started_cpu) * 1000


def measure(*, repeat: int, only: set[str] | None, work: bool = False) -> list[tuple[str, float, float]]:
    client = _client()
    results = []
    for name, url, headers in _cases():
        if only and name not in only:
            continue
        if work:
            headers = {k: v for k, v in headers.items() if k != "cold"}
            for _ in range(3):  # caches warm (a cold count is then the cached one: its queries differ)
                client.get(url, **headers)
            queries, calls = _work(client, url, headers)
            print(f"{name:32s} queries {queries:3d}   Python function calls {calls:8,d}", flush=True)
            continue
        times, cpu = [], []
        for i in range(repeat + 2):
            elapsed, used = _timed(client, url, headers)
            if i >= 2:  # the first two warm the caches of the database
                times.append(elapsed)
                cpu.append(used)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results.append((name, statistics.median(times), p95))
        flag = "" if statistics.median(times) <= GOAL_MS else "   <-- over goal"
        print(
            f"{name:32s} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
            f"(this process's CPU: median {statistics.median(cpu):6.1f} ms){flag}",
            flush=True,
        )
    return results


# --- Two versions of the code, request by request (--against) ---------------------------------
# This machine's speed moves from one minute to the next (by a third and more), so two runs made
# one after the other can differ more than the code does. --against DIR times each case in this
# checkout and in DIR (another checkout, e.g. `git worktree add /tmp/base <commit>`, sharing the
# virtualenv) in the same minute: a second process imports DIR's code, and the two take turns,
# one request each, on the same mirror and the same cache.


def serve() -> None:
    """``--serve``: read a case name a line, answer with its request's time in ms."""
    client = _client()
    cases = {name: (url, headers) for name, url, headers in _cases()}
    for line in sys.stdin:
        url, headers = cases[line.strip()]
        print(f"{_timed(client, url, headers)[0]:.4f}", flush=True)


def compare(*, other: Path, database_url: str | None, repeat: int, only: set[str] | None) -> None:
    import subprocess

    # Both on one CPU: a virtual machine's CPUs differ in speed from moment to moment, and a process
    # tends to stay on one (the other process inherits this).
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    command = [sys.executable, __file__, "--serve", "--root", str(other)]
    if database_url:
        command += ["--database-url", database_url]
    # In DIR: Celery's Django fixup puts the working directory first on sys.path.
    peer = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=other,
                            env=os.environ.copy())

    def there(name: str) -> float:
        peer.stdin.write(name + "\n")
        peer.stdin.flush()
        answer = peer.stdout.readline()
        if not answer:
            sys.exit(f"the process timing {other} stopped (see its error above)")
        return float(answer)

    client = _client()
    print(f"{'case':32s} {'here':>9s} {other.name[:12]:>12s}   medians, ms, one request each in turns")
    try:
        for name, url, headers in _cases():
            if only and name not in only:
                continue
            here, away = [], []
            for i in range(repeat + 2):
                if i % 2:  # who goes first alternates
                    a = there(name)
                    h = _timed(client, url, headers)[0]
                else:
                    h = _timed(client, url, headers)[0]
                    a = there(name)
                if i >= 2:
                    here.append(h)
                    away.append(a)
            mine, theirs = statistics.median(here), statistics.median(away)
            print(f"{name:32s} {mine:9.1f} {theirs:12.1f}   ({mine - theirs:+.1f})", flush=True)
    finally:
        peer.stdin.close()
        peer.wait(timeout=30)


def fill_customers() -> None:
    """The customers table, as the messages sync keeps it: the generator writes the messages past
    the sync (a mirror made before migration 0013 was filled by its backfill)."""
    from inbox.models import Customer
    from inbox.sync.customers import refresh_customers

    if not Customer.objects.exists():
        started = time.perf_counter()
        count = refresh_customers()
        print(f"customers table: {count:,} customers in {time.perf_counter() - started:.1f} s")


def vacuum() -> None:
    """PostgreSQL: reclaim the dead rows a bulk load leaves, as autovacuum would within minutes.

    Writing a million messages updates the tally (``inbox_message_tally``, a few hundred rows)
    a million times in one go, by its triggers, leaving its file 46 MB for 306 live rows: reading
    them walks every dead version (9 ms instead of 0.2). A server's autovacuum (PostgreSQL's
    default, which the README's deployment asks to keep) reclaims them as a sync goes; this
    machine's PostgreSQL runs with autovacuum off. Cheap when there is nothing to do."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM FULL inbox_message_tally")
            cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: SQLite file var/bench/inbox.sqlite3")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--work", action="store_true",
                        help="instead of times: SQL queries and Python function calls per request (warm)")
    parser.add_argument("--against", type=Path, default=None, metavar="DIR",
                        help="time each case here and in the checkout DIR, request by request in turns")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # --against's other process
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)  # the code it imports
    args = parser.parse_args()
    if args.root:
        sys.path.insert(0, str(args.root.resolve()))
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    # As in production: DEBUG off (no query log, no template debug data; 0.6-1.3 ms a page).
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "inbox-bench-secret-key-not-for-production-0123456789")
    _setup(args.database_url, var_dir)
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: pages name the manifest's files
    if args.serve:  # the mirror, the cache and the Redis are the other process's
        serve()
        return

    from helpdesk.embedded_redis import ensure_from_settings

    ensure_from_settings()
    generate(rows=args.rows, accounts=args.accounts)
    fill_customers()
    vacuum()
    if args.generate_only:
        return
    load = os.getloadavg()[0]
    print(f"{connection.vendor}, {args.rows:,} messages, {args.repeat} runs a case; load average {load:.1f} on {os.cpu_count()} CPUs")
    only = set(filter(None, args.only.split(","))) or None
    if args.against:
        compare(other=args.against.resolve(), database_url=args.database_url, repeat=args.repeat, only=only)
        return
    measure(repeat=args.repeat, only=only, work=args.work)


if __name__ == "__main__":
    main()
