#!/usr/bin/env python3
"""CI's first stage: the README's run command, as a new user runs it, from the committed files.

Standard library only (it runs with the system python3, before any virtualenv exists):

  clone      a fresh `git clone` of this checkout's HEAD into a temporary folder (only committed
             files count)
  bootstrap  the clone's scripts/bootstrap makes a brand-new virtualenv from requirements.txt
             alone (no test packages)
  imports    that virtualenv imports every module of helpdesk/, inbox/ and sandbox/ (after
             django.setup()) and the Celery broker's kombu transport
  start      the run command (scripts/run) in the clone, in its own process group, on free ports,
             with no DATABASE_URL, REDIS_URL, NEXUDUS_*, SANDBOX_*, DEBUG ...: the embedded default
             (SQLite in the clone's var/, embedded Redis, the sandbox); waits for the demo login
             it prints
  sign-in    signs in with that login over HTTP at /login/ (CSRF cookie and token, as a browser)
  ready      waits until /healthz is 200 with a last successful sync for both resources, the
             signed-in inbox lists messages, and those syncs were run by the Celery worker (their
             succeeded runs in var/db.sqlite3 carry a Celery task id)
  stop       SIGINT to the process group, as Ctrl-C in a terminal: the command must exit with
             status 0 within 20 s and leave no process (cwd, executable or command line inside
             the clone) and no listening port behind

On failure it says which step failed, prints the last lines of the run command's log, and exits
1; on success it prints each step's time. It always cleans up (kills what is left, removes the
temporary folder).

  python3 scripts/check_run_command.py                      # CI
  python3 scripts/check_run_command.py --rev 2910288 \\
      --command '.venv/bin/python manage.py runstack --sandbox-messages 500'
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COMMAND = "scripts/run --sandbox-messages 500"
STRIPPED = {
    "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "HELPDESK_VAR_DIR", "PORT", "HOST",
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS",  # a new user has none: the run command's own defaults
    "EMBEDDED_REDIS_PORT", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "VENV", "PYTHON",  # bootstrap reads the last two
}
STRIPPED_PREFIXES = ("NEXUDUS_", "SANDBOX_")
LOG_TAIL = 80
IMPORT_EVERYTHING = """
import importlib, pkgutil, sys, urllib.parse
import django
django.setup()
from django.conf import settings
from kombu.transport import resolve_transport
names, failed = [], []
for top in ("helpdesk", "inbox", "sandbox"):
    for info in pkgutil.walk_packages(importlib.import_module(top).__path__, prefix=top + "."):
        names.append(info.name)
        try:
            importlib.import_module(info.name)
        except Exception as error:
            failed.append(f"{info.name}: {type(error).__name__}: {error}")
try:
    resolve_transport(urllib.parse.urlsplit(settings.CELERY_BROKER_URL).scheme)  # kombu's Redis transport
except Exception as error:
    failed.append(f"the broker's transport: {type(error).__name__}: {error}")
print(f"{len(names)} modules")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


class StepFailed(Exception):
    pass


class NotYet(str):
    """What a wait is still waiting for (a predicate's answer that is not a success)."""


def say(text: str) -> None:
    print(f"check-run: {text}", flush=True)


def free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


def port_is_free(port: int) -> bool:
    """Nobody listens there and a server could bind it again (as gunicorn / redis would)."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def processes_inside(folder: Path) -> list[tuple[int, str]]:
    """Processes whose working directory, executable or command line is inside ``folder``."""
    prefix = str(folder.resolve()) + os.sep
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone
        places = [cmdline]
        for link in ("cwd", "exe"):
            try:
                places.append(os.readlink(entry / link) + os.sep)
            except OSError:
                pass  # gone, a zombie, or not ours to read
        if any(prefix in place or place.startswith(prefix) for place in places):
            found.append((int(entry.name), cmdline or "(no command line)"))
    return found


def clean_env(web_port: int, redis_port: int) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in STRIPPED and not k.startswith(STRIPPED_PREFIXES)
    }
    # PYTHONUNBUFFERED: the log is a file, and the banner should be there when printed, as it
    # would be on a terminal.
    env.update(PORT=str(web_port), EMBEDDED_REDIS_PORT=str(redis_port), PYTHONUNBUFFERED="1")
    return env


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Sends Secure cookies to 127.0.0.1 over http, as browsers do for loopback addresses
    (so a DEBUG-off run with secure cookies still signs in)."""

    def return_ok_secure(self, cookie, request):
        host = urllib.parse.urlsplit(request.get_full_url()).hostname
        return host in ("127.0.0.1", "localhost", "::1") or super().return_ok_secure(cookie, request)


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar(LoopbackCookiePolicy())
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # never through an http_proxy of the environment
            urllib.request.HTTPCookieProcessor(self.jar),
        )

    def get(self, path: str, *, timeout: float = 10) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base + path), timeout)

    def post(self, path: str, data: dict[str, str], *, timeout: float = 10) -> tuple[int, str, str]:
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base + path, "Content-Type": "application/x-www-form-urlencoded"},
        )
        return self._open(request, timeout)

    def _open(self, request, timeout) -> tuple[int, str, str]:
        """(status, final URL after redirects, body); HTTP errors are answers too."""
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.geturl(), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode("utf-8", "replace")

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
VALUE = r"""\s*[:=]?\s*(?P<q>['"]?)(?P<v>[^\s'",;]+)(?P=q)"""


def value_after(word: str, line: str) -> str | None:
    """The value right after the first ``word`` of the line (quoted or not), if there is one."""
    at = re.search(rf"\b{word}\b", line, re.IGNORECASE)
    value = at and re.match(VALUE, line[at.end():])
    return value.group("v") if value else None


def demo_login(log_text: str) -> tuple[str, str] | None:
    """The first printed login with a username and a password (the admin's if there is one)."""
    found = []
    for line in ANSI.sub("", log_text).splitlines():
        user, password = value_after("username", line), value_after("password", line)
        if user and password and not password.startswith("("):
            found.append((("admin" not in line.lower()), user, password))
    if not found:
        return None
    found.sort(key=lambda item: item[0])  # stable: the admin's line first
    return found[0][1], found[0][2]


def message_rows(page: str) -> int:
    """Message rows of the inbox list (templates/inbox/_row.html: <li id="msg-<Id>" class="msg ...">)."""
    return len(re.findall(r"<li\b[^>]*\bid=\"msg-\d+\"", page))


def succeeded_runs(db: Path) -> dict[str, list[str]] | None:
    """Task ids of the succeeded sync runs, by resource (None while the database is not ready)."""
    if not db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute("SELECT resource, task_id FROM inbox_syncrun WHERE status = 'success'").fetchall()
    except sqlite3.Error:
        return None
    runs: dict[str, list[str]] = {}
    for resource, task_id in rows:
        runs.setdefault(resource, []).append(task_id or "")
    return runs


class Check:
    def __init__(self, args):
        self.args = args
        self.timings: list[tuple[str, float]] = []
        self.step = "set-up"
        self.tmp = Path(tempfile.mkdtemp(prefix="check-run-command-"))
        self.clone = self.tmp / "clone"
        self.log_path = self.tmp / "run.log"
        self.bootstrap_log = self.tmp / "bootstrap.log"
        self.proc: subprocess.Popen | None = None
        ports: set[int] = set()
        self.web_port, self.redis_port = free_port(ports), free_port(ports)
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.notes: list[str] = []

    # --- helpers --------------------------------------------------------------------------

    def timed(self, name: str, function):
        self.step = name
        started = time.monotonic()
        result = function()
        self.timings.append((name, time.monotonic() - started))
        return result

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def ensure_running(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise StepFailed(f"the run command exited by itself, with status {self.proc.returncode}")

    def wait_for(self, predicate, timeout: float, what: str, interval: float = 0.5):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.ensure_running()
            value = predicate()
            if value and not isinstance(value, NotYet):
                return value
            last = value
            time.sleep(interval)
        raise StepFailed(f"timed out after {timeout:.0f} s waiting for {what}" + (f"; still: {last}" if last else ""))

    # --- steps ----------------------------------------------------------------------------

    def do_clone(self) -> None:
        rev = subprocess.run(
            ["git", "-C", str(self.args.repo), "rev-parse", "--verify", f"{self.args.rev}^{{commit}}"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(self.args.repo), str(self.clone)], check=True)
        subprocess.run(["git", "-C", str(self.clone), "checkout", "--quiet", "--detach", rev], check=True)
        say(f"cloned {self.args.repo} at {rev[:12]} into {self.clone}")

    def do_bootstrap(self) -> None:
        with self.bootstrap_log.open("w") as log:
            status = subprocess.run(
                ["scripts/bootstrap"], cwd=self.clone, env=clean_env(self.web_port, self.redis_port),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=600,
            ).returncode
        if status != 0:
            raise StepFailed(f"scripts/bootstrap exited with status {status}")
        installed = subprocess.run(
            [str(self.clone / ".venv/bin/python"), "-m", "pip", "list", "--format", "freeze"],
            capture_output=True, text=True,
        ).stdout.split()
        say(f"new virtualenv {self.clone / '.venv'}: {len(installed)} packages (requirements.txt alone)")

    def do_imports(self) -> None:
        # DEBUG=1: importability does not depend on it, and the settings ask for a SECRET_KEY and
        # ALLOWED_HOSTS without it (the run command makes its own arrangements).
        env = {**clean_env(self.web_port, self.redis_port), "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DEBUG": "1"}
        result = subprocess.run(
            [str(self.clone / ".venv/bin/python"), "-c", IMPORT_EVERYTHING], cwd=self.clone, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            raise StepFailed("importing every module failed:\n" + (result.stdout + result.stderr)[-4000:])
        say(f"imported every module: {result.stdout.split(chr(10))[0]}, and the broker's kombu transport")

    def do_start(self) -> tuple[str, str]:
        argv = shlex.split(self.args.command)
        say(f"running `{self.args.command}` on web port {self.web_port}, embedded Redis port {self.redis_port}")
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            argv, cwd=self.clone, env=clean_env(self.web_port, self.redis_port), stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,  # its own process group
        )
        return self.wait_for(lambda: demo_login(self.log_text()), 150, "the demo login in the banner")

    def do_sign_in(self, login: tuple[str, str]) -> Browser:
        username, password = login
        browser = Browser(self.base)

        def login_page():
            try:
                status, _, body = browser.get("/login/")
            except OSError as error:
                return NotYet(f"GET /login/: {error}")  # not listening yet
            return body if status == 200 else NotYet(f"GET /login/ answered {status}")

        page = self.wait_for(login_page, 60, "GET /login/ to answer 200")
        token = re.search(r"""name=["']csrfmiddlewaretoken["'][^>]*value=["']([^"']+)""", page) or re.search(
            r"""value=["']([^"']+)["'][^>]*name=["']csrfmiddlewaretoken["']""", page
        )
        token = html.unescape(token.group(1)) if token else browser.cookie("csrftoken")
        if not token or not browser.cookie("csrftoken"):
            raise StepFailed("GET /login/ gave no CSRF cookie or token")
        status, url, body = browser.post(
            "/login/", {"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        path = urllib.parse.urlsplit(url).path
        if status != 200 or path.startswith("/login"):
            raise StepFailed(f"signing in as {username!r} failed: status {status}, ended at {path}")
        say(f"signed in as {username!r}, landed on {path}")
        return browser

    def do_ready(self, browser: Browser) -> None:
        state: dict = {}

        def healthz():
            try:
                status, _, body = browser.get("/healthz")
                data = json.loads(body)
            except (OSError, ValueError) as error:
                return NotYet(f"/healthz: {error}")
            sync = data.get("sync") or {}
            state["healthz"] = (status, {r: (sync.get(r) or {}).get("last_success") for r in ("messages", "accounts")})
            if status == 200 and all(state["healthz"][1].values()):
                return True
            return NotYet(f"/healthz {status}, last successful syncs {state['healthz'][1]}")

        def inbox():
            try:
                status, url, body = browser.get("/")
            except OSError as error:
                return NotYet(f"the inbox: {error}")
            if status != 200 or urllib.parse.urlsplit(url).path.startswith("/login"):
                return NotYet(f"the inbox answered {status} at {url}")
            state["rows"] = message_rows(body)
            return True if state["rows"] else NotYet("the inbox lists no message yet")

        def worker_runs():
            runs = succeeded_runs(self.clone / "var" / "db.sqlite3")
            if runs is None:
                return NotYet("var/db.sqlite3 not readable yet")
            missing = [r for r in ("messages", "accounts") if not runs.get(r)]
            if missing:
                return NotYet(f"no succeeded {' or '.join(missing)} sync run yet")
            without = {r: ids.count("") for r, ids in runs.items() if "" in ids}
            if without:
                raise StepFailed(
                    f"succeeded sync runs without a Celery task id (run in-process, not by the worker): {without}"
                )
            state["runs"] = runs
            return True

        def all_ready():
            for check in (healthz, inbox, worker_runs):
                answer = check()
                if answer is not True:
                    return answer
            return True

        self.wait_for(all_ready, self.args.ready_timeout,
                      "/healthz 200 with both syncs, messages in the inbox and the worker's sync runs", 1.0)
        say(f"/healthz 200, last successful syncs {state['healthz'][1]}")
        say(f"inbox lists {state['rows']} messages; succeeded sync runs, each by a Celery task: "
            + ", ".join(f"{r} {len(ids)} ({ids[0]})" for r, ids in state["runs"].items()))

    def do_stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground group
        try:
            status = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise StepFailed("the run command did not exit within 20 s of Ctrl-C (SIGINT)") from None
        if status != 0:
            raise StepFailed(f"the run command exited with status {status} on Ctrl-C, not 0")
        # The command has returned; what it started must be gone too (a moment to be reaped).
        deadline = time.monotonic() + 3
        while (left := processes_inside(self.clone)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if left:
            raise StepFailed("processes left behind after Ctrl-C:\n" + "\n".join(f"  {p} {c}" for p, c in left))
        busy = [port for port in (self.web_port, self.redis_port) if not port_is_free(port)]
        if busy:
            raise StepFailed(f"ports still taken after Ctrl-C: {busy}")
        say(f"exit status 0 after Ctrl-C; no process left in the clone; "
            f"ports {self.web_port} and {self.redis_port} free")

    # --- the whole ------------------------------------------------------------------------

    def run(self) -> int:
        started = time.monotonic()
        try:
            self.timed("clone", self.do_clone)
            self.timed("bootstrap", self.do_bootstrap)
            if not self.args.skip_imports:
                self.timed("imports", self.do_imports)
            login = self.timed("start", self.do_start)
            browser = self.timed("sign-in", lambda: self.do_sign_in(login))
            self.timed("ready", lambda: self.do_ready(browser))
            self.timed("stop", self.do_stop)
        except (StepFailed, subprocess.SubprocessError, OSError) as error:
            say(f"FAILED at step '{self.step}' after {time.monotonic() - started:.1f} s: {error}")
            if self.step == "bootstrap":
                self.print_tail("scripts/bootstrap's output", self.bootstrap_log)
            elif self.proc is not None:
                self.print_tail(f"the run command's log ({self.args.command})", self.log_path)
            return 1
        finally:
            self.cleanup()
        for name, seconds in self.timings:
            say(f"  {name:<10} {seconds:6.1f} s")
        say(f"PASSED in {time.monotonic() - started:.1f} s")
        return 0

    def print_tail(self, what: str, path: Path) -> None:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        print(f"---- last {min(len(lines), LOG_TAIL)} lines of {what} ----")
        print("\n".join(lines[-LOG_TAIL:]))
        print("----", flush=True)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        # runstack's children run in sessions of their own, and the embedded Redis daemonizes:
        # anything still running from inside the clone goes too.
        for _ in range(3):
            left = processes_inside(self.clone) if self.clone.exists() else []
            if not left:
                break
            for pid, _command in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.3)
        if getattr(self, "log", None):
            self.log.close()
        if self.args.keep:
            say(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout to clone (default: this one)")
    parser.add_argument("--rev", default="HEAD", help="the commit to check (default: HEAD)")
    parser.add_argument("--command", default=DEFAULT_COMMAND, help=f"the run command (default: {DEFAULT_COMMAND})")
    parser.add_argument("--ready-timeout", type=float, default=120, help="seconds to wait for the first syncs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (to look at it)")
    parser.add_argument("--skip-imports", action="store_true",
                        help="skip the imports step (to see what the run command itself does)")
    args = parser.parse_args()
    say("the README's run command, from a fresh clone")
    return Check(args).run()


if __name__ == "__main__":
    sys.exit(main())
