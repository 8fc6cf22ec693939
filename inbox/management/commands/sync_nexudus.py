"""``python manage.py sync_nexudus [--full] [--resource messages|accounts|all]``

Runs the same sync services as the Celery tasks, in the foreground: a progress bar on stderr (pages
done of pages known), one summary line per resource on stdout, and exit status 0 only if every
resource synced (otherwise the error text, and status 1).
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inbox.models import SyncRun
from inbox.sync import registry
from inbox.sync.runs.lock import SyncBusy
from inbox.sync.services import sync_resource


def summary_line(run: SyncRun) -> str:
    seconds = run.duration.total_seconds() if run.duration is not None else 0.0
    return (
        f"{run.resource}: {run.records_seen} seen, {run.records_created} created, "
        f"{run.records_updated} updated, {run.records_deleted} deleted in {seconds:.1f} s, "
        f"{run.requests_made} request{'s' if run.requests_made != 1 else ''}"
    )


class _Bar:
    """A tqdm bar fed by the run's progress (pages done / pages total)."""

    def __init__(self, resource: str, stream, enabled: bool):
        self.bar = tqdm(
            total=None, desc=resource, unit="page", file=stream, disable=not enabled,
            dynamic_ncols=True, leave=True,
        )

    def __call__(self, run: SyncRun) -> None:
        if run.pages_total and self.bar.total != run.pages_total:
            self.bar.total = run.pages_total
        self.bar.n = run.pages_done
        # What was read so far and what of it was written (created or changed): one number for
        # both read as "3 records" for pages of 1,000.
        postfix = {"written": run.records_created + run.records_updated}
        if run.records_seen:
            postfix = {"seen": run.records_seen, **postfix}
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


class Command(BaseCommand):
    help = "Sync the mirror from Nexudus now, in the foreground (incremental unless --full)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--full", action="store_true",
            help="Walk every message and mark the ones gone from Nexudus as deleted.",
        )
        parser.add_argument(
            "--resource", choices=[*registry.NAMES, "all"], default="all",
            help="What to sync (default: all; accounts are always walked whole).",
        )
        bar = parser.add_mutually_exclusive_group()
        bar.add_argument("--progress", action="store_true", default=None,
                         help="Show the progress bar even when stderr is not a terminal.")
        bar.add_argument("--no-progress", dest="progress", action="store_false",
                         help="No progress bar (default when stderr is not a terminal).")
        parser.add_argument(
            "--wait", type=float, default=None, metavar="SECONDS",
            help="How long to wait for a sync that is already running (default: SYNC_LOCK_WAIT).",
        )

    def handle(self, *args, full: bool, resource: str, progress: bool | None, wait: float | None, **options) -> None:
        from helpdesk.embedded_redis import ensure_from_settings

        ensure_from_settings()
        stream = getattr(self.stderr, "_out", sys.stderr)
        show = progress if progress is not None else (hasattr(stream, "isatty") and stream.isatty())
        mode = SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL
        # Resources others refer to first (the reconcile's order): accounts, then messages.
        names = [r.name for r in registry.reconcile_order() if resource in (r.name, "all")]

        # Which Nexudus, first: run without the server's environment (NEXUDUS_USERNAME unset), the
        # command would read the built-in sandbox's address, not the tenant the server syncs.
        from django.conf import settings

        if settings.NEXUDUS_USES_SANDBOX:
            self.stdout.write(f"Nexudus source: the built-in sandbox at {settings.NEXUDUS_API_URL} (NEXUDUS_USERNAME is not set).")
        else:
            self.stdout.write(f"Nexudus source: {settings.NEXUDUS_API_URL}, as {settings.NEXUDUS_USERNAME}.")
        failures = []
        for name in names:
            bar = _Bar(name, stream, show)
            started = time.monotonic()
            try:
                run = sync_resource(resource=name, mode=mode, progress=bar, trigger="command", lock_wait=wait)
            except SyncBusy as exc:
                failures.append(f"{name}: {exc}")
                continue
            finally:
                bar.close()
            if run.status == SyncRun.Status.SUCCESS:
                self.stdout.write(summary_line(run))
            else:
                self.stdout.write(f"{summary_line(run)} (failed after {time.monotonic() - started:.1f} s)")
                failures.append(f"{name}: {run.error}")
        if failures:
            raise CommandError("Sync failed.\n" + "\n".join(failures))
