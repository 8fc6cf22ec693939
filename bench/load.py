"""Load run: gunicorn (2 workers) serving the inbox, 50 people browsing and filtering for a minute.

    .venv/bin/python bench/load.py                      # the SQLite mirror of bench/inbox_bench.py
    .venv/bin/python bench/load.py --database-url postgres://postgres@127.0.0.1/hd_bench
    options: --users 50 --seconds 60 --workers 2 --port 8764

Run bench/inbox_bench.py first (it generates the million-message mirror). This script starts
gunicorn itself on 127.0.0.1 (nothing else is ever contacted), signs each simulated person in
through the real login form, and has them walk the inbox as people do: the first page, scrolling
(keyset pages), filters (unread, direction, account, dates, customer), searches, the counts, the
live poll. It prints requests/s, errors (anything but 200) and latency percentiles; every loop
is bounded in time and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load-test-password-123"
MORE = re.compile(r'<li id="more"[^>]*hx-get="([^"]+)"')
NEWEST = re.compile(r'hx-get="(/inbox/live/\?[^"]+)"')
SEARCHES = ["zeppelin", "parking", "invoice", "wifi", "refund", "ana", "locker key", "Zoë", "desk meeting"]


def prepare_user(env: dict) -> list[int]:
    """Create (or reset) the load user; return the mail account ids to filter by."""
    code = (
        "import django; django.setup();"
        "from django.contrib.auth import get_user_model;"
        "from inbox.models import EmailAccount;"
        "u, _ = get_user_model().objects.get_or_create(username='load');"
        f"u.set_password('{PASSWORD}'); u.save();"
        "print(','.join(str(i) for i in EmailAccount.objects.values_list('id', flat=True)[:50]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return [int(x) for x in out.stdout.strip().splitlines()[-1].split(",") if x]


def start_server(env: dict, port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "helpdesk.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/login/", timeout=2)
            return server
        except requests.RequestException:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not start")


class Person(threading.Thread):
    def __init__(self, base: str, accounts: list[int], until: float, seed: int):
        super().__init__(daemon=True)
        self.base, self.accounts, self.until = base, accounts, until
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def get(self, session: requests.Session, path: str, htmx: str | None = None) -> str:
        headers = {"HX-Request": "true", "HX-Target": htmx} if htmx else {}
        started = time.perf_counter()
        try:
            response = session.get(self.base + path, headers=headers, timeout=30)
        except requests.RequestException as exc:
            self.errors.append(f"{path}: {exc.__class__.__name__}")
            return ""
        elapsed = (time.perf_counter() - started) * 1000
        self.latencies.append(elapsed)
        kind = re.sub(r"=[^&]*", "", path.replace("&amp;", "&"))
        self.by_kind.setdefault(kind, []).append(elapsed)
        if response.status_code != 200:
            self.errors.append(f"{path}: HTTP {response.status_code}")
        return response.text

    def sign_in(self, session: requests.Session) -> None:
        session.get(self.base + "/login/", timeout=30)
        token = session.cookies.get("csrftoken")
        response = session.post(self.base + "/login/", data={"username": "load", "password": PASSWORD,
                                "csrfmiddlewaretoken": token}, headers={"Referer": self.base + "/login/"}, timeout=30)
        if response.status_code != 200 or "Sign out" not in response.text:
            self.errors.append(f"sign in: HTTP {response.status_code}")

    def view(self) -> str:
        rng = self.rng
        choice = rng.random()
        if choice < 0.25:
            return "/"
        if choice < 0.4:
            return "/?unread=1"
        if choice < 0.55:
            return f"/?direction={rng.choice(['incoming', 'outgoing'])}&account={rng.choice(self.accounts)}"
        if choice < 0.65:
            return f"/?unread=1&direction=incoming&account={rng.choice(self.accounts)}"
        if choice < 0.85:
            return "/?q=" + requests.utils.quote(rng.choice(SEARCHES))
        if choice < 0.93:
            month = rng.randint(1, 12)
            return f"/?since=2025-{month:02d}-01&until=2025-{month:02d}-28"
        return f"/?customer={rng.randint(1, 20000)}"

    def run(self) -> None:
        session = self.session
        while time.monotonic() < self.until:
            path = self.view()
            html = self.get(session, path, htmx="results" if self.rng.random() < 0.7 else None)
            query = path.partition("?")[2]
            self.get(session, "/inbox/counts/" + ("?" + query if query else ""), htmx="counts")
            live = NEWEST.search(html)
            if live:
                self.get(session, live.group(1).replace("&amp;", "&"), htmx="live")
            for _ in range(self.rng.randint(0, 3)):  # scroll a few pages
                more = MORE.search(html)
                if not more or time.monotonic() >= self.until:
                    break
                html = self.get(session, more.group(1).replace("&amp;", "&"), htmx="more")
            time.sleep(self.rng.uniform(0.0, 0.2))  # a person reads a little


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8764)
    args = parser.parse_args()

    var_dir = ROOT / "var" / "bench"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "HELPDESK_VAR_DIR": os.environ.get("HELPDESK_VAR_DIR", str(var_dir)),
        "DATABASE_URL": args.database_url or f"sqlite:///{var_dir / 'inbox.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    accounts = prepare_user(env)
    server = start_server(env, args.port, args.workers)
    try:
        people = [Person(f"http://127.0.0.1:{args.port}", accounts, 0.0, seed) for seed in range(args.users)]
        # Each person signs in through the form first (password hashing is deliberately slow, so
        # it is kept out of the timed minute), then everyone browses at once.
        for person in people:
            person.session = requests.Session()
            person.sign_in(person.session)
        until = time.monotonic() + args.seconds
        for person in people:
            person.until = until
        started = time.monotonic()
        for person in people:
            person.start()
        for person in people:
            person.join(timeout=args.seconds + 60)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    latencies = sorted(x for p in people for x in p.latencies)
    errors = [e for p in people for e in p.errors]
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0
    print(f"{args.users} users, {args.seconds} s, gunicorn -w {args.workers}, {env['DATABASE_URL'].split(':')[0]}")
    print(f"requests {len(latencies)}  errors {len(errors)}  {len(latencies) / elapsed:.1f} requests/s")
    if latencies:
        print(f"latency median {statistics.median(latencies):.0f} ms  p95 {p95:.0f} ms  max {latencies[-1]:.0f} ms")
    kinds: dict[str, list[float]] = {}
    for person in people:
        for kind, values in person.by_kind.items():
            kinds.setdefault(kind, []).extend(values)
    print("slowest kinds of request (median ms, count):")
    for kind, values in sorted(kinds.items(), key=lambda kv: -statistics.median(kv[1]))[:8]:
        print(f"  {statistics.median(values):7.0f} ms  {len(values):5d}  {kind}")
    for error in sorted(set(errors))[:10]:
        print("  error:", error)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
