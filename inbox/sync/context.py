"""A running sync: each page applied and recorded, the lock kept, and the rows not seen handled.

``SyncRun`` records each run and its progress after every page (in the page's own transaction),
for the /sync/ page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import reset_queries, transaction
from django.utils import timezone

from inbox.models import SyncRun
from inbox.nexudus.paging import Page
from inbox.platform.locks import RedisLock

from .rows import Mirror, Prepared, chunks, prepare_rows
from .runs.lease import LeaseKeeper
from .upsert import apply_prepared, apply_records
from .walk import SeenIds, prefetched

logger = logging.getLogger(__name__)

Progress = Callable[[SyncRun], None]

#: Ids per batch request when checking candidates for deletion.
VERIFY_BATCH = 100


class LockLost(Exception):
    """The run's Redis lock expired or was removed: it stops rather than run alongside another."""


class RunContext:
    """A running sync: its client, lock and ``SyncRun``, and the counters it writes after each page."""

    def __init__(self, run: SyncRun, client: Any, lock: RedisLock, progress: Progress | None,
                 lease: LeaseKeeper | None = None):
        self.run = run
        self.client = client
        self.lock = lock
        self.progress = progress
        self.lease = lease
        self.requests_base = getattr(client, "requests_made", 0)
        self.pages_before_walk = 0
        self.max_updated_on: datetime | None = None

    def requests(self) -> int:
        return max(0, getattr(self.client, "requests_made", 0) - self.requests_base)

    def save_progress(self, **changes: Any) -> None:
        """Write counters and the heartbeat (inside the caller's page transaction, if any)."""
        run = self.run
        changes["requests_made"] = self.requests()
        changes["heartbeat_at"] = timezone.now()
        SyncRun.objects.filter(pk=run.pk).update(**changes)
        for name, value in changes.items():
            setattr(run, name, value)

    def page_applied(self, mirror: Mirror, page_records: Sequence[Any], *, total_pages: int | None,
                     has_next: bool, count: bool = True, prepared: Prepared | None = None,
                     records_seen: int | None = None) -> None:
        """Apply one page and record it, in one transaction; then extend the lock and report.
        ``records_seen``: the records the walk has read so far (the run's card shows them)."""
        run = self.run
        now = timezone.now()
        if prepared is None:
            prepared = prepare_rows(mirror, page_records)
        with transaction.atomic():
            created, updated = apply_prepared(mirror, prepared, now=now)
            pages_done = run.pages_done + 1
            if total_pages is not None:
                pages_total = max(pages_done, self.pages_before_walk + total_pages)
            else:
                pages_total = pages_done + (1 if has_next else 0)
            changes: dict[str, Any] = {"pages_done": pages_done, "pages_total": pages_total}
            if records_seen is not None:
                changes["records_seen"] = records_seen
            if count:
                changes.update(
                    records_created=run.records_created + created,
                    records_updated=run.records_updated + updated,
                )
            self.save_progress(**changes)
        if settings.DEBUG:
            reset_queries()  # with DEBUG on, Django keeps every query: a page's SQL is megabytes
        for record in page_records:
            updated_on = getattr(record, "updated_on", None)
            if updated_on is not None and (self.max_updated_on is None or updated_on > self.max_updated_on):
                self.max_updated_on = updated_on
        self.heartbeat()

    def heartbeat(self) -> None:
        """Renew the lease after a page (the timer thread renews it during one); stop if it was lost."""
        if not self.lock.extend() or (self.lease is not None and self.lease.lost):
            raise LockLost(
                f"The sync lost its lock on {self.run.resource} (it expired or was removed), so it "
                "stopped rather than run alongside another sync."
            )
        if self.progress is not None:
            self.progress(self.run)

    def walk(self, mirror: Mirror, make_pages: Callable[[], Iterator[Page]]) -> SeenIds:
        """Walk every page ``make_pages`` gives, applying each; walk again if the list shifted.

        Page-number paging skips a record when one before it is deleted mid-walk (the list moves
        left under us). That shows as a TotalItems that shrinks between pages, or as fewer unique
        ids than the last TotalItems; either way the walk is repeated, at most
        ``NEXUDUS_SYNC_MAX_WALKS`` times in all (a deletion exactly offset by an insertion between
        two pages cannot be seen in the counts: the full sync's batch check, and the next
        incremental's overlap, are the safety nets for that).

        Returns the ids the *last* walk saw: a complete picture of one moment, so a record deleted
        after an earlier walk saw it is still a candidate for deletion.
        """
        seen_all: SeenIds | None = None
        max_walks = max(1, settings.NEXUDUS_SYNC_MAX_WALKS)
        for walk_number in range(1, max_walks + 1):
            seen = SeenIds()
            totals: list[int] = []
            pages = skipped = 0
            self.pages_before_walk = self.run.pages_done
            # The fetching thread also prepares each page's rows (CPU), while this one waits for
            # the database to write the page before: on PostgreSQL the two then overlap.
            pages_and_rows = ((page, prepare_rows(mirror, page.records)) for page in make_pages())
            for page, prepared in prefetched(pages_and_rows):
                pages += 1
                skipped += getattr(page, "skipped", 0) or 0
                for record in page.records:
                    seen.add(record.id)
                # So far, as a lower bound (a walk again after the list moved starts from the
                # first's count); exact once the walk ends. A run that fails midway keeps it.
                so_far = max(len(seen), len(seen_all) if seen_all is not None else 0)
                self.page_applied(mirror, page.records, total_pages=page.total_pages, has_next=page.has_next,
                                  prepared=prepared, records_seen=so_far)
                if page.total_items is not None:
                    totals.append(page.total_items)
            seen.finish()
            seen_all = seen if seen_all is None else seen_all.union(seen)
            self.save_progress(records_seen=len(seen_all))
            shrank = any(later < earlier for earlier, later in zip(totals, totals[1:]))
            short = bool(totals) and len(seen) + skipped < totals[-1]
            if pages <= 1 or not (shrank or short):
                break
            reason = "TotalItems shrank between pages" if shrank else (
                f"{len(seen)} unique records seen of {totals[-1]} listed"
            )
            if walk_number == max_walks:
                logger.warning(
                    "%s sync #%s: the list still moved during walk %d (%s); keeping what was seen.",
                    self.run.resource, self.run.pk, walk_number, reason,
                )
                break
            logger.info(
                "%s sync #%s: the list moved during walk %d (%s); walking it again.",
                self.run.resource, self.run.pk, walk_number, reason,
            )
        return seen

    def soft_delete_unseen(self, mirror: Mirror, seen: SeenIds,
                           verify: Callable[[Sequence[int]], list]) -> None:
        """Mark deleted the live rows not ``seen``, after asking Nexudus about each one.

        ``verify(ids)`` returns the records that still exist (batch endpoint); those were skipped
        by a shifting page, and are applied instead of deleted.
        """
        model = mirror.model
        live = model.objects.live().order_by("pk").values_list("pk", flat=True)
        candidates = [pk for pk in live.iterator(chunk_size=5000) if pk not in seen]
        if not candidates:
            return
        logger.info("%s sync #%s: checking %d records not seen in the walk.",
                    self.run.resource, self.run.pk, len(candidates))
        for batch in chunks(candidates, VERIFY_BATCH):
            found = verify(batch)
            found_ids = {record.id for record in found}
            missing = [pk for pk in batch if pk not in found_ids]
            with transaction.atomic():
                created, updated = apply_records(mirror, found)
                deleted = 0
                if missing:
                    after = mirror.deleting(missing)
                    deleted = model.objects.live().filter(pk__in=missing).update(
                        deleted_at=timezone.now()
                    )
                    after()
                self.save_progress(
                    records_seen=self.run.records_seen + len(found),
                    records_created=self.run.records_created + created,
                    records_updated=self.run.records_updated + updated,
                    records_deleted=self.run.records_deleted + deleted,
                )
            self.heartbeat()
