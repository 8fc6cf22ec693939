"""Export benchmark: /export.csv of 100,000 and 1,000,000 messages through a real server.

    .venv/bin/python bench/export_bench.py                      # SQLite file var/bench/inbox.sqlite3
    .venv/bin/python bench/export_bench.py --database-url postgres://postgres@127.0.0.1/hd_bench
    options: --sizes 100000,1000000 --repeat 3 --server gunicorn|runserver

The mirror is the inbox benchmark's (``bench/inbox_bench.py`` generates a million messages once
and later runs reuse them). A gunicorn server (the production setup: one gthread worker) serves
the database; this process signs in, downloads ``/export.csv`` with ``requests`` (streamed),
counts the rows, and samples the server worker's resident memory every 20 ms meanwhile.

Printed per size: rows, seconds, rows a second (goal ≥ 50,000), the server worker's CPU time (rows
per CPU-second: the figure that does not depend on what else the machine is doing, and the load
average is printed beside it) and the worker's peak memory above its idle size after a warm-up
export (goal < 100 MB, and the same at both sizes: flat). The
smaller size is the newest ~N messages of the same mirror (``since=<day>``), so both sizes run
the same query plan family on the same data.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import inbox_bench  # noqa: E402  (the shared generator of the benchmark mirror)

MB = 1024 * 1024
GOAL_ROWS_PER_SECOND = 50_000
GOAL_PEAK_MB = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in() -> str:
    """A session for a bench user, stored in the database the server reads: its cookie value."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="export-bench", defaults={"is_staff": True})
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def views(sizes: list[int]) -> list[tuple[int, str, int]]:
    """(asked size, query string, rows it selects) for each size: everything, or the newest ~N."""
    from django.contrib.auth.models import AnonymousUser

    from inbox.exports.messages import message_values
    from inbox.models import CoworkerMessage
    from inbox.mailbox.filters import InboxFilters

    live = CoworkerMessage.objects.filter(deleted_at__isnull=True)
    total = live.count()
    result = []
    for size in sizes:
        if size >= total:
            result.append((size, "", total))
            continue
        nth = live.order_by("-created_on", "-id").values_list("created_on", flat=True)[size - 1]
        since = nth.date()
        rows = message_values(user=AnonymousUser(), filters=InboxFilters(since=since)).count()
        result.append((size, f"since={since.isoformat()}", rows))
    return result


def start_server(kind: str, port: int, env: dict) -> subprocess.Popen:
    bindir = Path(sys.executable).parent
    if kind == "gunicorn":
        command = [
            str(bindir / "gunicorn"), "helpdesk.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", "4", "--log-level", "warning",
        ]  # fmt: skip
    else:
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                sys.exit(f"the server exited with status {server.returncode}")
            try:
                requests.get(f"http://127.0.0.1:{port}/export.csv", timeout=2, allow_redirects=False)
                return server
            except (requests.ConnectionError, requests.Timeout):  # under load the bound port may answer late
                time.sleep(0.2)
        sys.exit("the server did not start within 60 s")
    except BaseException:
        server.terminate()  # whatever stopped the wait, never leave the server running
        server.wait(timeout=30)
        raise


def worker_process(server: subprocess.Popen) -> psutil.Process:
    """The process that handles requests: gunicorn's worker (the master's child), or runserver."""
    master = psutil.Process(server.pid)
    children = master.children()
    return children[0] if children else master


class PeakSampler(threading.Thread):
    def __init__(self, process: psutil.Process, every: float = 0.02):
        super().__init__(daemon=True)
        self.process, self.every, self.peak = process, every, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.every)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return max(self.peak, self.process.memory_info().rss)


def download(url: str, cookie: str) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of one export, streamed and thrown away as it arrives."""
    from django.conf import settings

    started = time.perf_counter()
    size = lines = 0
    cookies = {settings.SESSION_COOKIE_NAME: cookie}
    with requests.get(url, cookies=cookies, stream=True, timeout=600, allow_redirects=False) as response:
        assert response.status_code == 200, f"{url}: {response.status_code} {response.headers.get('Location', '')}"
        assert response.headers["Content-Type"].startswith("text/csv"), response.headers
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            # The generated texts hold no line breaks, so every CRLF ends a row.
            lines += chunk.count(b"\r\n")
    return lines - 1, size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: SQLite file var/bench/inbox.sqlite3")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    # The session made here must verify in the server: the same key on both sides.
    os.environ.setdefault("SECRET_KEY", "export-bench-secret-key-not-for-production")
    inbox_bench._setup(args.database_url, var_dir)
    from django.db import connection

    inbox_bench.generate(rows=max(sizes), accounts=50)
    cookie = sign_in()
    cases = views(sizes)
    connection.close()

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DEBUG": "0",  # as in production: no query log, no debug pages
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    server = start_server(args.server, port, env)
    try:
        base = f"http://127.0.0.1:{port}/export.csv"
        worker = worker_process(server)
        download(f"{base}?customer=4242", cookie)  # warm-up: imports, connection, caches
        time.sleep(0.5)
        idle = worker.memory_info().rss
        print(
            f"{connection.vendor}, server {args.server} (pid {worker.pid}), idle {idle / MB:.1f} MB; "
            f"{args.repeat} runs a size",
            flush=True,
        )
        summary = []
        for size, query, expected in cases:
            speeds, peaks, seconds, per_cpu = [], [], [], []
            for _ in range(args.repeat):
                sampler = PeakSampler(worker)
                cpu_before = sum(worker.cpu_times()[:2])
                sampler.start()
                rows, size_bytes, elapsed = download(f"{base}?{query}", cookie)
                peak = sampler.stop()
                cpu = sum(worker.cpu_times()[:2]) - cpu_before
                assert rows == expected, f"exported {rows:,} rows, the view has {expected:,}"
                speeds.append(rows / elapsed)
                peaks.append((peak - idle) / MB)
                seconds.append(elapsed)
                per_cpu.append(rows / cpu if cpu else float("nan"))
                print(
                    f"  {rows:>9,} rows  {size_bytes / MB:7.1f} MB  {elapsed:6.1f} s  {rows / elapsed:>8,.0f} rows/s  "
                    f"(server CPU {cpu:5.1f} s: {rows / cpu if cpu else 0:>8,.0f} rows per CPU-second)  "
                    f"peak +{(peak - idle) / MB:5.1f} MB  load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            summary.append(
                (expected, statistics.median(seconds), statistics.median(speeds), statistics.median(peaks),
                 statistics.median(per_cpu))
            )  # fmt: skip
        print("\nmedians")
        for rows, secs, speed, peak, cpu_speed in summary:
            flags = []
            if speed < GOAL_ROWS_PER_SECOND:
                flags.append(f"below {GOAL_ROWS_PER_SECOND:,} rows/s")
            if peak >= GOAL_PEAK_MB:
                flags.append(f"over {GOAL_PEAK_MB} MB")
            note = f"   <-- {', '.join(flags)}" if flags else ""
            print(
                f"  {rows:>9,} rows  {secs:6.1f} s  {speed:>8,.0f} rows/s  {cpu_speed:>8,.0f} rows per server "
                f"CPU-second  peak +{peak:5.1f} MB above idle{note}"
            )
        print(f"  worker idle {idle / MB:.1f} MB, after the runs {worker.memory_info().rss / MB:.1f} MB")
    finally:
        stop_server(server)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


if __name__ == "__main__":
    main()
