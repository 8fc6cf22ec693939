"""Resilience of the sync with the production defaults, in real time, against the sandbox.

    .venv/bin/python bench/resilience_bench.py kill      [--interval 60] [--database-url URL]
    .venv/bin/python bench/resilience_bench.py outage    [--interval 60] [--minutes 5]

Everything runs as in production, each part in its own processes, under its own var directory
(``var/bench-resilience`` unless ``--var-dir``) with a Redis of its own: the sandbox served by
gunicorn, ``celery -A helpdesk worker`` (prefork) and ``celery -A helpdesk beat`` with the default
schedule (messages every ``--interval`` s, NEXUDUS_SYNC_INTERVAL; accounts every 300 s), the default
lease (SYNC_LOCK_LEASE, 60 s) and backoff (SYNC_BACKOFF_BASE 30 s, SYNC_BACKOFF_MAX 15 minutes).

``kill``: the sandbox slowed (latency_ms) so that a full sync takes about half a minute; while one
runs, the worker and its pool processes get SIGKILL together (a process group of their own), and a
new worker starts at once, as a supervisor would restart it. Prints when the dead run was failed
and when the next run succeeded, counted from the kill; then the same with an admin's Full resync
queued behind the killed run.

``outage``: the sandbox fails every API request (failure_rate 1.0) for ``--minutes``, then answers
again. Prints the API requests that reached the sandbox in each minute (from gunicorn's access
log), the runs, and when the first success came after the outage.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SystemExit(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(interval)


class Stack:
    """The sandbox (gunicorn), workers and beat, each a process group of its own."""

    def __init__(self, env: dict, var_dir: Path):
        self.env, self.var_dir = env, var_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.var_dir / f"{name}.log", "ab")
        process = subprocess.Popen([PYTHON, "-m", *args], env=self.env, cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def sandbox(self, port: int) -> subprocess.Popen:
        return self.start(
            "gunicorn", "gunicorn", "helpdesk.wsgi", "-w", "2", "-k", "gthread", "--threads", "4",
            "-b", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning",
            "--access-logfile", str(self.var_dir / "access.log"), "--access-logformat", '%(t)s "%(r)s" %(s)s',
        )

    def worker(self, name: str = "worker") -> subprocess.Popen:
        return self.start(name, "celery", "-A", "helpdesk", "worker", "--pool", "prefork", "--concurrency", "2",
                          "--without-gossip", "--without-mingle", "--loglevel", "WARNING")

    def stop_workers(self) -> None:
        """Warm shutdown of every worker still running (their tasks finish first)."""
        for process in self.processes:
            if process.poll() is None and "worker" in process.args:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=120)

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "celery", "-A", "helpdesk", "beat", "--loglevel", "WARNING",
                          "-s", str(self.var_dir / "celerybeat-schedule"))

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(process)


def prepare(args) -> tuple[dict, Path, int, int]:
    var_dir = Path(args.var_dir).resolve()
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    port, redis_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "HELPDESK_VAR_DIR": str(var_dir),
        "EMBEDDED_REDIS_PORT": str(redis_port),
        "PORT": str(port),
        "NEXUDUS_API_URL": f"http://127.0.0.1:{port}/sandbox",
        "NEXUDUS_SYNC_INTERVAL": str(args.interval),
        "NEXUDUS_PAGE_SIZE": str(args.page_size),
        "LOG_LEVEL": "INFO",
        "DEBUG": "0",
        "SECRET_KEY": "resilience-bench-only",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SANDBOX_RATE_PER_SECOND": "100000",
        # The nightly full reconcile (not held back by the backoff) must not fall inside the bench.
        "NEXUDUS_FULL_SYNC_HOUR": str((datetime.now(dt_timezone.utc).hour + 12) % 24),
    }
    for name in ("REDIS_URL", "NEXUDUS_USERNAME", "NEXUDUS_PASSWORD", "SANDBOX_DATABASE_URL", "CELERY_LOG_LEVEL"):
        env.pop(name, None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from helpdesk.embedded_redis import ensure_from_settings

    ensure_from_settings()
    if args.database_url:
        from django.db import connection

        with connection.cursor() as cursor:  # a scratch database: start empty
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    call_command("migrate", database="sandbox", verbosity=0)
    from sandbox import services as sandbox

    sandbox.seed(messages=args.messages)
    return env, var_dir, port, redis_port


def runs_table() -> str:
    from inbox.models import SyncRun

    lines = []
    for run in SyncRun.objects.order_by("pk"):
        started = run.started_at.strftime("%H:%M:%S") if run.started_at else "-"
        finished = run.finished_at.strftime("%H:%M:%S") if run.finished_at else "-"
        lines.append(f"  #{run.pk:<3} {run.resource:<8} {run.mode:<11} {run.trigger:<8} {run.status:<8} "
                     f"{started}-{finished} {run.requests_made:>3} requests {run.error_kind} {run.error[:90]}")
    return "\n".join(lines)


def kill_case(stack: Stack, *, admin_behind: bool, latency_ms: int) -> tuple[float, float]:
    from django.utils import timezone

    from inbox.models import SyncRun
    from inbox.sync import services as sync
    from sandbox import services as sandbox

    sandbox.set_faults(latency_ms=latency_ms)
    worker = stack.worker("worker-1" if not admin_behind else "worker-3")
    if admin_behind:
        sync.request_sync(resource="messages", mode="incremental", trigger="admin")
        victim = wait_for(lambda: SyncRun.objects.filter(status="running", resource="messages", mode="incremental",
                                                         pages_done__gte=1).first(),
                          timeout=600, what="an incremental run mid-way")
        behind, created = sync.request_sync(resource="messages", mode="full", trigger="admin")
        assert created, "the Full resync was not queued behind"
        wait_for(lambda: SyncRun.objects.get(pk=behind.pk).heartbeat_at, timeout=60, what="the resync waiting")
    else:
        victim = wait_for(lambda: SyncRun.objects.filter(status="running", resource="messages",
                                                         pages_done__gte=3).first(),
                          timeout=600, what="a messages run mid-way (beat's first run comes after an interval)")
    killed_at = timezone.now()
    stack.kill(worker)
    stack.worker("worker-2" if not admin_behind else "worker-4")  # restarted at once
    sandbox.set_faults(latency_ms=100)  # the next run's own length is not what is measured
    print(f"  killed the worker group at {killed_at:%H:%M:%S} during run #{victim.pk} "
          f"({victim.trigger}, {victim.mode}, page {victim.pages_done})")
    reaped = wait_for(lambda: SyncRun.objects.filter(pk=victim.pk, status="failed").first(), timeout=400,
                      what="the dead run reaped")
    target = (lambda: SyncRun.objects.filter(pk=behind.pk, status="success").first()) if admin_behind else (
        lambda: SyncRun.objects.filter(resource="messages", status="success", started_at__gt=killed_at).first())
    done = wait_for(target, timeout=600, what="the next successful run")
    noticed = (reaped.finished_at - killed_at).total_seconds()
    recovered = (done.finished_at - killed_at).total_seconds()
    print(f"  run #{victim.pk} failed {noticed:.0f} s after the kill ({reaped.error_kind}: {reaped.error[:60]}...)")
    print(f"  run #{done.pk} ({done.trigger}, {done.mode}) succeeded {recovered:.0f} s after the kill")
    sandbox.set_faults()
    return noticed, recovered


def kill(args) -> None:
    env, var_dir, port, _ = prepare(args)
    stack = Stack(env, var_dir)
    try:
        stack.sandbox(port)
        wait_until_up(f"http://127.0.0.1:{port}/sandbox/api/token")
        stack.beat()
        print(f"kill bench: beat every {args.interval} s, lease {os.environ.get('SYNC_LOCK_LEASE', '60')} s, "
              f"{args.messages} messages in pages of {args.page_size}, latency {args.latency_ms} ms a page")
        print("1. a routine run killed with its worker:")
        kill_case(stack, admin_behind=False, latency_ms=args.latency_ms)
        print("2. an admin's Full resync queued behind an incremental run killed with its worker:")
        from sandbox import services as sandbox

        stack.stop_workers()  # the one that took over in case 1: the next runs must be the new one's
        sandbox.add_messages(args.page_size * 3)
        kill_case(stack, admin_behind=True, latency_ms=args.latency_ms * 4)
        print("runs:\n" + runs_table())
    finally:
        stack.stop_all()


ACCESS = re.compile(r'\[(?P<t>[^\]]+)\] "GET (?P<path>/sandbox/api/\S+?)[? ]')


def outage(args) -> None:
    env, var_dir, port, _ = prepare(args)
    from django.utils import timezone

    from inbox.models import SyncRun
    from sandbox import services as sandbox

    stack = Stack(env, var_dir)
    try:
        stack.sandbox(port)
        wait_until_up(f"http://127.0.0.1:{port}/sandbox/api/token")
        stack.worker()
        stack.beat()
        print(f"outage bench: beat every {args.interval} s (messages), 300 s (accounts); "
              f"Nexudus fails every request for {args.minutes} minutes")
        wait_for(lambda: SyncRun.objects.filter(resource="messages", status="success").exists(), timeout=args.interval + 120,
                 what="a first successful sync")
        sandbox.set_faults(failure_rate=1.0)
        started = timezone.now()
        print(f"  outage from {started:%H:%M:%S}")
        time.sleep(args.minutes * 60)
        sandbox.set_faults()
        ended = timezone.now()
        print(f"  Nexudus answers again from {ended:%H:%M:%S}")
        back = wait_for(lambda: SyncRun.objects.filter(resource="messages", status="success",
                                                       started_at__gt=ended).first(),
                        timeout=20 * 60, what="the first success after the outage", interval=1)
        print(f"  first success after the outage: run #{back.pk}, {(back.finished_at - ended).total_seconds():.0f} s "
              "after Nexudus answered again")
    finally:
        stack.stop_all()
    per_minute: Counter = Counter()
    paths: Counter = Counter()
    for line in (var_dir / "access.log").read_text().splitlines():
        found = ACCESS.search(line)
        if not found:
            continue
        moment = datetime.strptime(found["t"], "%d/%b/%Y:%H:%M:%S %z")
        minute = int((moment - started).total_seconds() // 60)
        if 0 <= minute < args.minutes:
            per_minute[minute] += 1
            paths[found["path"].rsplit("/", 1)[-1]] += 1
    counts = [per_minute[m] for m in range(args.minutes)]
    print(f"API requests a minute during the outage: {counts} (total {sum(counts)}; by resource {dict(paths)})")
    print("runs:\n" + runs_table())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=["kill", "outage"])
    parser.add_argument("--interval", type=int, default=60, help="NEXUDUS_SYNC_INTERVAL (beat's messages runs)")
    parser.add_argument("--minutes", type=int, default=5, help="outage: how long Nexudus fails")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=1000, help="kill: added to each API answer")
    parser.add_argument("--database-url", default=None,
                        help="mirror in this PostgreSQL database (its public schema is dropped!)")
    parser.add_argument("--var-dir", default=None)
    args = parser.parse_args()
    args.var_dir = args.var_dir or str(ROOT / "var" / f"bench-resilience-{args.case}")
    try:
        kill(args) if args.case == "kill" else outage(args)
    finally:
        from django.conf import settings

        if settings.configured:
            from helpdesk.embedded_redis import stop_from_settings

            stop_from_settings()


if __name__ == "__main__":
    main()
