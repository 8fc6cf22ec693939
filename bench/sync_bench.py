"""Benchmark of the sync: a full sync of N messages from the sandbox, then an incremental one.

    .venv/bin/python bench/sync_bench.py [--messages 100000] [--repeat 3] [--database-url URL]

What it does, all under its own var directory (``var/bench-sync`` unless ``--var-dir``):

1. seeds a sandbox database with the messages (and the usual accounts and customers);
2. serves it with gunicorn (``helpdesk.wsgi``, 2 workers) in **a separate process** on a free port,
   with the sandbox's own rate limit raised so it never answers 409;
3. for each size of ``--sizes`` (default 20k, 50k and N) and each repetition: a fresh, migrated
   mirror database, then ``sync_messages(mode="full")`` in a fresh Python process that reports
   its time, records, requests and peak RSS (memory must not grow with the number of records:
   pages are applied one at a time); then an incremental sync with nothing changed in another
   fresh process (so it pays for its token like a worker's first run);
4. prints the medians.

CPU is reported for each side: the sync process, the sandbox's gunicorn workers and, on
PostgreSQL, the sync's own database backend (on SQLite the database works inside the sync
process). ``--profile`` also runs each full sync under cProfile (the main thread: applying pages;
the page-fetching thread is not in it), saves it in the var directory and prints its top lines.

The client's shared rate limiter defaults to 120 requests a minute (Nexudus's documented budget),
which alone would cap a sync at 120 pages a minute; the bench raises it for its own processes
(``NEXUDUS_RATE_PER_SECOND`` / ``NEXUDUS_RATE_PER_MINUTE``) and says so. Pages are 1,000 records.

``--database-url postgres://postgres@127.0.0.1:5432/hd_sync_bench`` puts the mirror in
PostgreSQL: that database is dropped and created again for every run (never point it at data you
keep). The sandbox stays in SQLite, as the stand-in for a remote system.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


# --- The child: one sync in a fresh process, reporting what it measured ----------------------


def child(mode: str, profile_to: str | None = None) -> None:
    import resource

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from helpdesk.embedded_redis import ensure_from_settings
    from inbox.models import CoworkerMessage
    from inbox.sync.services import sync_messages

    ensure_from_settings()
    database = DatabaseCpu()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    samples: list[tuple[int, float]] = []  # (pages done, RSS MB) through the run

    def progress(run) -> None:
        samples.append((run.pages_done, current_rss_mb()))

    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
    started = time.perf_counter()
    cpu_started = time.process_time()
    if profiler is not None:
        profiler.enable()
    run = sync_messages(mode=mode, trigger="bench", lock_wait=0, progress=progress)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_to)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    pages = max(run.pages_done, 1)
    rss_at = {f"{q}%": next((mb for done, mb in samples if done >= pages * q / 100), None) for q in (25, 50, 75, 100)}
    print(json.dumps({
        "status": run.status,
        "error": run.error,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "database_cpu_seconds": database.used(),
        "rss_at": rss_at,
        "seen": run.records_seen,
        "created": run.records_created,
        "updated": run.records_updated,
        "requests": run.requests_made,
        "pages": run.pages_done,
        "mirror_rows": CoworkerMessage.objects.count(),
        "rss_start_mb": rss_before / 1024,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


class DatabaseCpu:
    """CPU used by this process's PostgreSQL backend (same machine), or None on SQLite.

    On SQLite the database's work is in the sync's own CPU; on PostgreSQL it is another process,
    and without it the sync's CPU would hide half of what a page costs.
    """

    def __init__(self) -> None:
        from django.db import connection

        self.pid = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
        self.start = self.cpu()

    def cpu(self) -> float | None:
        if self.pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a server on another machine, or in a container
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def used(self) -> float | None:
        from django.db import connection

        end = self.cpu()
        if self.start is None or end is None:
            return None
        with connection.cursor() as cursor:  # the same backend all along, or the figure means nothing
            cursor.execute("SELECT pg_backend_pid()")
            if cursor.fetchone()[0] != self.pid:
                return None
        return end - self.start


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds_of_children(pid: int) -> float:
    """User + system CPU of the processes whose parent is ``pid`` (gunicorn's workers)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


# --- The parent ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def fresh_mirror(env: dict, var_dir: Path, database_url: str | None) -> None:
    if database_url:
        import psycopg
        from urllib.parse import urlparse

        url = urlparse(database_url)
        name = url.path.lstrip("/")
        admin = url._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            (var_dir / f"db.sqlite3{suffix}").unlink(missing_ok=True)
    manage(env, "migrate", "--database", "default", "-v", "0")


def run_child(env: dict, mode: str, profile_to: Path | None = None) -> dict:
    extra = ["--profile-to", str(profile_to)] if profile_to else []
    out = subprocess.run([PYTHON, __file__, "--child", mode, *extra], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != "success":
        raise SystemExit(f"The {mode} sync failed: {result['error']}\n{out.stderr[-2000:]}")
    return result


def cpu_text(seconds: float | None, unit: str = " s") -> str:
    return "in the sync's" if seconds is None else f"{seconds:.1f}{unit}"


def median_or_none(values: list) -> float | None:
    return None if any(v is None for v in values) else statistics.median(values)


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    print(f"  profile of the sync process ({path.name}), by own time:")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(top)


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answered
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--sizes", default=None,
                        help="comma-separated sizes to measure (default: 20000,50000,<messages>)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="mirror in PostgreSQL (dropped and recreated!)")
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "bench-sync"))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers serving the sandbox")
    parser.add_argument("--profile", action="store_true",
                        help="profile each full sync (cProfile) into the var dir and print its top functions")
    parser.add_argument("--child", choices=["full", "incremental"], help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile_to)
        return

    sizes = sorted({int(s) for s in args.sizes.split(",")} if args.sizes else
                   {n for n in (20_000, 50_000) if n < args.messages} | {args.messages})
    var_dir = Path(args.var_dir)
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    port = free_port()
    # A Redis of its own (locks, rate limiter, the sandbox's throttle), so a running demo or test
    # suite is neither disturbed nor disturbing.
    redis_port = free_port()
    sys.path.insert(0, str(ROOT))
    from helpdesk import embedded_redis

    embedded_redis.ensure(redis_port, var_dir / "redis")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "HELPDESK_VAR_DIR": str(var_dir),
        "EMBEDDED_REDIS_PORT": str(redis_port),
        "PORT": str(port),
        "NEXUDUS_API_URL": f"http://127.0.0.1:{port}/sandbox",
        "NEXUDUS_PAGE_SIZE": "1000",
        "SANDBOX_MAX_PAGE_SIZE": "1000",
        "SANDBOX_RATE_PER_SECOND": "100000",
        "NEXUDUS_RATE_PER_SECOND": "100000",
        "NEXUDUS_RATE_PER_MINUTE": "10000000",
        "LOG_LEVEL": "WARNING",
        # Production settings: with DEBUG on, Django also records every query's SQL.
        "DEBUG": "0",
        "SECRET_KEY": "sync-bench-only",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("REDIS_URL", None)
    env.pop("NEXUDUS_USERNAME", None)
    env.pop("NEXUDUS_PASSWORD", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
    env.pop("SANDBOX_DATABASE_URL", None)

    mirror = "PostgreSQL" if args.database_url else "SQLite"
    print(f"sync bench: mirror in {mirror}, sandbox in SQLite served by gunicorn ({args.workers} workers) "
          f"on port {port}; pages of 1000; sizes {sizes}; {args.repeat} runs each.")
    print("note: the client's shared rate limiter is raised for the bench (NEXUDUS_RATE_PER_SECOND=100000, "
          "NEXUDUS_RATE_PER_MINUTE=10000000); at Nexudus's documented 120 requests a minute a sync is "
          "capped at 120 pages (120,000 records) a minute.")
    manage(env, "migrate", "--database", "sandbox", "-v", "0")
    summary = []
    server = None
    server_log = open(var_dir / "gunicorn.log", "ab")  # the sandbox's own log, out of the way
    try:
        for size in sizes:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
            started = time.perf_counter()
            manage(env, "sandbox_seed", "--messages", str(size), "--reset")
            print(f"\n{size} messages seeded in {time.perf_counter() - started:.1f} s")
            server = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "helpdesk.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                 "--timeout", "120", "--log-level", "warning"],
                env=env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT,
            )
            wait_until_up(f"http://127.0.0.1:{port}/sandbox/api/token")
            fulls, incs = [], []
            for i in range(args.repeat):
                fresh_mirror(env, var_dir, args.database_url)
                server_cpu = cpu_seconds_of_children(server.pid)
                profile_to = var_dir / f"profile-full-{size}-{i + 1}.pstats" if args.profile else None
                full = run_child(env, "full", profile_to)
                full["server_cpu_seconds"] = cpu_seconds_of_children(server.pid) - server_cpu
                if full["mirror_rows"] != size or full["seen"] != size:
                    raise SystemExit(f"The mirror has {full['mirror_rows']} rows (saw {full['seen']}), not {size}.")
                inc = run_child(env, "incremental")
                fulls.append(full)
                incs.append(inc)
                if profile_to:
                    print_profile(profile_to)
                rss_path = " / ".join(f"{mb:.0f}" for mb in full["rss_at"].values() if mb is not None)
                print(
                    f"  run {i + 1}: full {full['seconds']:.2f} s = {size / full['seconds']:,.0f} records/s, "
                    f"{full['requests']} requests; CPU: sync {full['cpu_seconds']:.1f} s, sandbox "
                    f"{full['server_cpu_seconds']:.1f} s, database {cpu_text(full['database_cpu_seconds'])}; RSS at 25/50/75/100% of the pages {rss_path} MB, "
                    f"peak {full['rss_peak_mb']:.0f} MB (after start-up {full['rss_start_mb']:.0f} MB); "
                    f"incremental (nothing changed) {inc['seconds'] * 1000:.0f} ms, {inc['requests']} requests, "
                    f"{inc['seen']} re-read in the overlap window"
                )
            row = {
                "messages": size,
                "records_per_s": statistics.median(size / f["seconds"] for f in fulls),
                "full_s": statistics.median(f["seconds"] for f in fulls),
                "rss_mb": statistics.median(f["rss_peak_mb"] for f in fulls),
                "rss_growth_mb": statistics.median(f["rss_peak_mb"] - f["rss_start_mb"] for f in fulls),
                "sync_cpu": statistics.median(f["cpu_seconds"] for f in fulls),
                "server_cpu": statistics.median(f["server_cpu_seconds"] for f in fulls),
                "database_cpu": median_or_none([f["database_cpu_seconds"] for f in fulls]),
                "inc_ms": statistics.median(i["seconds"] * 1000 for i in incs),
                "inc_requests": statistics.median(i["requests"] for i in incs),
            }
            summary.append(row)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        embedded_redis.stop(redis_port, var_dir / "redis")  # its password is kept there
        server_log.close()

    print(f"\nmedians ({mirror} mirror, {args.repeat} runs):")
    print(f"{'messages':>9} {'records/s':>10} {'full s':>7} {'sync CPU s':>11} {'sandbox CPU s':>14} "
          f"{'database CPU s':>15} {'peak RSS MB':>12} {'RSS growth MB':>14} {'incr. ms':>9} {'incr. requests':>15}")
    for row in summary:
        print(f"{row['messages']:>9} {row['records_per_s']:>10,.0f} {row['full_s']:>7.2f} {row['sync_cpu']:>11.1f} "
              f"{row['server_cpu']:>14.1f} {cpu_text(row['database_cpu'], ''):>15} {row['rss_mb']:>12.0f} {row['rss_growth_mb']:>14.0f} "
              f"{row['inc_ms']:>9.0f} {row['inc_requests']:>15.0f}")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores "
          "(other work on the machine slows the wall-clock figures; the CPU seconds are less affected)")
    if not args.database_url:
        print("note: SQLite's page cache (PRAGMA cache_size=-64000 in settings) takes up to 64 MB of the RSS "
              "as the database grows, then stays there.")


if __name__ == "__main__":
    main()
