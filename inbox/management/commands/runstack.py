"""Run the whole product in the foreground: web, Celery worker and beat, and (by default) the sandbox.

``make run`` calls this. On the embedded default it starts an embedded Redis, migrates both
databases, seeds the sandbox, creates the demo accounts and prints their logins, queues a first
sync, and keeps every process running until Ctrl-C (or until one of them dies, which stops all).

Not honcho with a Procfile.dev: measured, ``honcho start`` exits with status 130 on Ctrl-C (not 0),
prints its own start/stop lines and prefixes every line, and gives each process a PORT of its own.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from helpdesk import embedded_redis


class Command(BaseCommand):
    help = "Run the dashboard with its Celery worker and beat (and the sandbox, when it is the source)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--worker-concurrency", type=int, default=2)
        parser.add_argument(
            "--no-live", action="store_true", help="Don't let the sandbox add messages by itself."
        )
        parser.add_argument(
            "--sandbox-messages", type=int, default=5000, help="Messages to seed an empty sandbox with."
        )

    def handle(self, *args, host, port, web_workers, worker_concurrency, no_live, sandbox_messages, **options):
        if port != settings.PORT:
            # Children read PORT, and the sandbox's default URL is this server's own address.
            raise CommandError("Set the PORT environment variable rather than --port (e.g. PORT=8001 make run).")
        # Files this command and its children make (databases, logs, the beat schedule) are the
        # owner's alone.
        os.umask(0o077)
        self.check_port_free(host, port)
        self.prepare(sandbox_messages=sandbox_messages)
        demo_logins = self.ensure_demo_users()
        processes = self.start(
            host=host, port=port, web_workers=web_workers, concurrency=worker_concurrency, live=not no_live
        )
        self.queue_first_sync()
        self.banner(host=host, port=port, logins=demo_logins)
        self.supervise(processes)

    # --- set-up -----------------------------------------------------------------------------

    def check_port_free(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CommandError(
                    f"Cannot listen on {host}:{port} ({exc.strerror}): another program (or another run "
                    f"of this command) uses it. Stop it, or choose another port: PORT=8001 scripts/run"
                ) from None

    def prepare(self, *, sandbox_messages: int) -> None:
        if settings.EMBEDDED_REDIS:
            self.stdout.write(f"Starting the embedded Redis on 127.0.0.1:{settings.EMBEDDED_REDIS_PORT} ...")
        embedded_redis.ensure_from_settings()
        # DEBUG is off here too, so the web server serves the collected files (WhiteNoise).
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("migrate", interactive=False, verbosity=0)
        if settings.NEXUDUS_USES_SANDBOX:
            call_command("migrate", database="sandbox", interactive=False, verbosity=0)
            call_command("sandbox_seed", if_empty=True, messages=sandbox_messages, verbosity=1)

    def ensure_demo_users(self) -> list[tuple[str, str, str]]:
        """The demo admin and a staff member, made once; their passwords are kept in var/.

        A user of that name that this command did not create is left alone (its password is
        never reset). Only for the sandbox: a real tenant's customer mail is not put behind
        well-known usernames whose passwords sit in a console's scroll-back (the banner says how
        to make the first admin instead).
        """
        if not settings.NEXUDUS_USES_SANDBOX:
            return []
        User = get_user_model()
        logins = []
        for username, is_admin in (("admin", True), ("staff", False)):
            role = "admin" if is_admin else "staff"
            secret_file = Path(settings.VAR_DIR) / f"demo-{username}-password"
            if not User.objects.filter(username=username).exists():
                password = secrets.token_urlsafe(9)
                User.objects.create_user(
                    username=username, email=f"{username}@example.com", password=password,
                    is_superuser=is_admin, is_staff=is_admin,
                )
                secret_file.write_text(password)
                secret_file.chmod(0o600)
            if secret_file.exists():
                logins.append((role, username, secret_file.read_text().strip()))
            else:
                logins.append((role, username, "(an existing account: its password is unchanged)"))
        return logins

    def queue_first_sync(self) -> None:
        from inbox.models import CoworkerMessage
        from inbox.sync.services import request_sync

        request_sync(resource="accounts", mode="full", trigger="startup")
        mode = "incremental" if CoworkerMessage.objects.exists() else "full"
        request_sync(resource="messages", mode=mode, trigger="startup")

    # --- processes --------------------------------------------------------------------------

    def start(self, *, host: str, port: int, web_workers: int, concurrency: int, live: bool):
        python = sys.executable
        bindir = Path(python).parent
        env = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
        # A quiet console: no access log (every page, poll and sandbox request), no Celery banners
        # or per-task lines; the sync itself logs one line per run (LOGGING in the settings).
        commands = {
            "web": [
                str(bindir / "gunicorn"), "-c", "python:helpdesk.gunicorn_conf", "helpdesk.wsgi",
                "--bind", f"{host}:{port}", "--workers", str(web_workers),
            ],
            "worker": [
                str(bindir / "celery"), "-A", "helpdesk", "--quiet", "worker", "--loglevel", "INFO",
                "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
            ],
            "beat": [
                str(bindir / "celery"), "-A", "helpdesk", "--quiet", "beat", "--loglevel", "INFO",
                "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        if settings.NEXUDUS_USES_SANDBOX and live:
            commands["sandbox-live"] = [python, "manage.py", "sandbox_live", "--verbosity", "1"]
        processes = {}
        for name, argv in commands.items():
            processes[name] = subprocess.Popen(argv, env=env, cwd=settings.BASE_DIR, start_new_session=True)
        return processes

    def banner(self, *, host: str, port: int, logins) -> None:
        source = "the sandbox (generated data, live mode)" if settings.NEXUDUS_USES_SANDBOX else settings.NEXUDUS_API_URL
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        lines = [
            "",
            f"  Help-desk inbox: open http://{shown_host}:{port}/ in your browser",
            f"  Nexudus source: {source}",
            *[f"  Sign in as {role}: username {u!r}, password {p!r}" for role, u, p in logins],
            *self.real_tenant_lines(),
            "  Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def real_tenant_lines(self) -> list[str]:
        """Against a real tenant: who can sign in, and who gets the alerts of failing mail accounts."""
        if settings.NEXUDUS_USES_SANDBOX:
            return []
        from django.db.models import Q

        from inbox.accounts.services.alerts import alert_recipients

        lines = []
        admins = get_user_model().objects.filter(
            Q(is_superuser=True) | Q(groups__name=settings.HELPDESK_ADMIN_GROUP), is_active=True
        )
        if not admins.exists():
            lines.append(
                "  No one can sign in yet: make the first admin in another terminal, with the same "
                "environment: .venv/bin/python manage.py createsuperuser"
            )
        recipients = alert_recipients()
        lines.append(
            f"  Alerts of failing mail accounts go to: {', '.join(recipients)}" if recipients else
            "  Alerts of failing mail accounts go to no one yet: set HELPDESK_ALERT_EMAILS, or give an admin an e-mail."
        )
        return lines

    def supervise(self, processes: dict[str, subprocess.Popen]) -> None:
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        failed = None
        while not stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    failed = f"{name} exited with status {proc.returncode}"
                    stopping = True
                    break
            time.sleep(0.5)
        self.stdout.write("Stopping ..." if failed is None else f"Stopping: the {failed}.")
        for proc in processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if settings.EMBEDDED_REDIS:
            embedded_redis.stop_from_settings()
        if failed:
            raise CommandError(failed)
        self.stdout.write("Stopped.")
