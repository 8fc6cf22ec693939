"""The sync: Nexudus records into the local mirror (services write; tasks and the command call these).

- Pages are applied with one bulk upsert and one transaction per page (DESIGN.md, traps), keyed by
  the Nexudus Id. Rows whose mirrored content is unchanged are not written at all, so a page applied
  twice changes nothing, and ``records_updated`` counts real changes. ``MessageMark`` (the marks
  people make here) is never touched.
- Incremental (messages): ``from_CoworkerMessage_UpdatedOn = watermark - NEXUDUS_SYNC_OVERLAP``,
  ordered by Id; see ``_next_watermark`` for why a record changed while a sync runs is never lost.
- Full (messages, and accounts every time): walk everything, then soft-delete the mirror rows
  that were not seen, after checking each one with the batch endpoint (a record skipped by a page
  that shifted is not deleted). Deleted rows stay in the table, marked ``deleted_at``.
- One run at a time per resource, by a Redis lock (``inbox.locks``); ``SyncRun`` records each run
  and its progress after every page, for the /sync/ page.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import operator
import queue
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone as dt_timezone
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import models, reset_queries, transaction
from django.utils import timezone

from inbox.locks import LockError, RedisLock, holder_label
from inbox.models import Business, CoworkerMessage, EmailAccount, SyncRun
from inbox.nexudus import (
    NexudusAuthError,
    NexudusClient,
    NexudusError,
    NexudusNotFound,
    NexudusUnavailable,
)
from inbox.records import BusinessRecord, CoworkerMessageRecord, EmailAccountRecord, Page
from inbox.text import body_to_text

logger = logging.getLogger(__name__)

Resource = SyncRun.Resource
Mode = SyncRun.Mode
Status = SyncRun.Status
Progress = Callable[[SyncRun], None]

#: Ids per batch request when checking candidates for deletion.
VERIFY_BATCH = 100
#: Ids per ``IN (...)`` query (SQLite builds before 3.32 allow 999 parameters).
IN_CHUNK = 900


class SyncBusy(Exception):
    """Another run of the same resource holds the lock (only raised when no run was given)."""


class _LockLost(Exception):
    pass


# --- Records to rows -------------------------------------------------------------------------


class _Mirror:
    """How records of one kind become rows of one model: field list, cleaning, comparison."""

    def __init__(self, model: type[models.Model], record_type: type, *, derived: Sequence[str] = ()):
        self.model = model
        names = [f.name for f in dataclasses.fields(record_type) if f.name != "id"]
        self.attnames = tuple(names)  # record field names == model attnames (email_account_id)
        getter = operator.attrgetter(*names)
        # attrgetter of one name returns the value itself, not a 1-tuple.
        self.get = getter if len(names) > 1 else (lambda record: (getter(record),))
        self.cleaners = tuple(_cleaner(_model_field(model, name)) for name in names)
        self.derived = tuple(derived)
        self.soft_delete = any(f.name == "deleted_at" for f in model._meta.concrete_fields)
        tail = ("deleted_at",) if self.soft_delete else ()
        # What a row holds for a record (compared to decide whether to write), in this order.
        self.columns = self.attnames + self.derived + tail
        self.update_fields = [_model_field(model, name).name for name in self.columns]
        if any(f.name == "synced_at" for f in model._meta.concrete_fields):
            self.update_fields.append("synced_at")
        # Rows are built positionally, in the model's field order: Django's fast path for __init__
        # (about 3x cheaper than keyword arguments, as ``Model.from_db`` does).
        concrete = model._meta.concrete_fields
        self.template = [None if f.primary_key else f.get_default() for f in concrete]
        attnames = [f.attname for f in concrete]
        self.slots = [attnames.index(_model_field(model, name).attname) for name in self.columns]
        self.pk_slot = attnames.index(model._meta.pk.attname)
        self.synced_slot = attnames.index("synced_at") if "synced_at" in attnames else None
        self.not_null_datetimes = tuple(
            i for i, name in enumerate(self.attnames)
            if isinstance(_model_field(model, name), models.DateTimeField) and not _model_field(model, name).null
        )

    def row(self, record: Any, old: tuple | None, now: datetime) -> tuple:
        raw = self.get(record)
        values = [clean(value) for clean, value in zip(self.cleaners, raw)]
        for i in self.not_null_datetimes:
            if values[i] is None:
                # CreatedOn missing: keep what the row had, else the best date there is.
                values[i] = old[i] if old is not None else (getattr(record, "updated_on", None) or now)
        if self.derived:
            values.extend(self.derive(record, values))
        if self.soft_delete:
            values.append(None)  # a record that reappears is live again
        return tuple(values)

    def derive(self, record: Any, values: list) -> list:
        return []


class _MessageMirror(_Mirror):
    def __init__(self) -> None:
        super().__init__(CoworkerMessage, CoworkerMessageRecord, derived=("body_text",))
        self.body_index = self.attnames.index("body")

    def derive(self, record: Any, values: list) -> list:
        return [body_to_text(values[self.body_index])]


def _model_field(model: type[models.Model], name: str) -> models.Field:
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    raise LookupError(f"{model.__name__} has no field {name!r} for the record field of that name")


_SURROGATES = re.compile("[\ud800-\udfff]")
_INT_RANGES = {
    models.SmallIntegerField: (-(2**15), 2**15 - 1),
    models.IntegerField: (-(2**31), 2**31 - 1),
    models.BigIntegerField: (-(2**63), 2**63 - 1),
    models.PositiveIntegerField: (0, 2**31 - 1),
}


def _clean_text(value: Any, max_length: int | None = None) -> str | None:
    """A string both databases accept: no NUL (PostgreSQL refuses it), no lone surrogates, cut to length."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _SURROGATES.search(value):  # isascii() is O(1): most text skips the scan
        value = _SURROGATES.sub("\ufffd", value)
    if max_length is not None and len(value) > max_length:
        value = value[:max_length]
    return value


def _cleaner(field: models.Field) -> Callable[[Any], Any]:
    if isinstance(field, (models.CharField, models.TextField)):
        clean = partial(_clean_text, max_length=getattr(field, "max_length", None))
        if field.null:
            return clean
        return lambda value: clean(value) or ""
    if isinstance(field, models.BooleanField):
        if field.null:
            return lambda value: None if value is None else bool(value)
        return lambda value: bool(value)
    for kind, (low, high) in _INT_RANGES.items():
        if type(field) is kind or (kind is models.BigIntegerField and isinstance(field, kind)):
            # A number the column cannot hold is unknown, not a failed sync.
            return lambda value, low=low, high=high: value if value is None or low <= value <= high else None
    return lambda value: value


_MESSAGES = _MessageMirror()
_ACCOUNTS = _Mirror(EmailAccount, EmailAccountRecord)
_BUSINESSES = _Mirror(Business, BusinessRecord)


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def prefetched(pages: Iterator[Page], *, depth: int = 1) -> Iterator[Page]:
    """Yield ``pages`` while a helper thread already fetches the next one.

    The network and Nexudus's (or the sandbox's) own work then overlap with applying the page in
    hand. Only the helper thread touches the client until the walk ends; an error on its side is
    raised here, in order, and stopping early (an error while applying) stops the helper.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item: tuple) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not hand_over(("page", page)):
                    return
            hand_over(("end", done))
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(("error", exc))

    helper = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    helper.start()
    try:
        while True:
            try:
                kind, item = slots.get(timeout=1.0)  # a timeout keeps signals (time limits) deliverable
            except queue.Empty:
                if not helper.is_alive():
                    raise RuntimeError("The page-fetching thread stopped without a word.") from None
                continue
            if kind == "page":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()
        # Unblock a helper waiting to put, then let it finish its request.
        try:
            slots.get_nowait()
        except queue.Empty:
            pass
        helper.join(timeout=120)


def apply_records(mirror: _Mirror, records: Iterable[Any], *, now: datetime | None = None) -> tuple[int, int]:
    """Upsert ``records`` into ``mirror``'s table; (created, updated). Call inside a transaction.

    Existing rows are read first (one ``IN`` query per 900 ids) so unchanged rows are skipped and
    the counts are honest; everything else goes in one ``INSERT ... ON CONFLICT (id) DO UPDATE``
    (``bulk_create(update_conflicts=True)``, SQLite and PostgreSQL alike).
    """
    now = now or timezone.now()
    by_id = {record.id: record for record in records}  # the last copy of an id wins
    if not by_id:
        return 0, 0
    model = mirror.model
    existing: dict[int, tuple] = {}
    for chunk in _chunks(list(by_id), IN_CHUNK):
        for row in model.objects.filter(pk__in=chunk).values_list("pk", *mirror.columns):
            existing[row[0]] = row[1:]
    objs = []
    created = updated = 0
    for pk, record in by_id.items():
        old = existing.get(pk)
        values = mirror.row(record, old, now)
        if values == old:
            continue
        if old is None:
            created += 1
        else:
            updated += 1
        args = mirror.template.copy()
        args[mirror.pk_slot] = pk
        for slot, value in zip(mirror.slots, values):
            args[slot] = value
        if mirror.synced_slot is not None:
            args[mirror.synced_slot] = now
        objs.append(model(*args))
    if objs:
        model.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=["id"], update_fields=mirror.update_fields
        )
    return created, updated


def apply_message_page(records: Iterable[CoworkerMessageRecord], *, now: datetime | None = None) -> tuple[int, int]:
    """Apply one page of messages in one transaction; (created, updated)."""
    with transaction.atomic():
        return apply_records(_MESSAGES, records, now=now)


def apply_account_page(records: Iterable[EmailAccountRecord], *, now: datetime | None = None) -> tuple[int, int]:
    with transaction.atomic():
        return apply_records(_ACCOUNTS, records, now=now)


# --- Ids seen during a walk ------------------------------------------------------------------


class SeenIds:
    """The Ids a walk saw, 8 bytes each (an ``array``, not a set: memory stays small and flat).

    Pages come sorted by Id, so ids arrive ascending and repeats (a page boundary that shifted)
    are just not appended; should a server not sort, ``finish`` sorts and de-duplicates.
    """

    def __init__(self) -> None:
        self.ids = array("q")
        self.ascending = True

    def add(self, pk: int) -> None:
        ids = self.ids
        if not ids or pk > ids[-1]:
            ids.append(pk)
        elif pk != ids[-1]:
            if self.ascending:
                position = bisect.bisect_left(ids, pk)
                if position < len(ids) and ids[position] == pk:
                    return  # seen already (a shifted page repeated it)
            self.ascending = False
            ids.append(pk)

    def finish(self) -> SeenIds:
        if not self.ascending:
            self.ids = array("q", sorted(set(self.ids)))
            self.ascending = True
        return self

    def union(self, other: SeenIds) -> SeenIds:
        merged = SeenIds()
        merged.ids = array("q", sorted(set(self.finish().ids) | set(other.finish().ids)))
        return merged

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, pk: int) -> bool:
        position = bisect.bisect_left(self.ids, pk)
        return position < len(self.ids) and self.ids[position] == pk


# --- One run ---------------------------------------------------------------------------------


class _ServerClock:
    """The server's clock at its first answer, from the HTTP ``Date`` header (RFC 9110 §6.6.1)."""

    def __init__(self, client: Any):
        self.at: datetime | None = None
        self.session = getattr(client, "session", None)
        if self.session is not None:
            self.session.hooks.setdefault("response", []).append(self._hook)

    def _hook(self, response, *args, **kwargs):
        if self.at is None and response.headers.get("Date"):
            try:
                moment = parsedate_to_datetime(response.headers["Date"])
            except (TypeError, ValueError, IndexError):
                return response
            if moment is not None:
                self.at = moment if moment.tzinfo else moment.replace(tzinfo=dt_timezone.utc)
        return response

    def close(self) -> None:
        if self.session is not None:
            hooks = self.session.hooks.get("response", [])
            if self._hook in hooks:
                hooks.remove(self._hook)


class _RunContext:
    """A running sync: its client, lock and ``SyncRun``, and the counters it writes after each page."""

    def __init__(self, run: SyncRun, client: Any, lock: RedisLock, progress: Progress | None):
        self.run = run
        self.client = client
        self.lock = lock
        self.progress = progress
        self.requests_base = getattr(client, "requests_made", 0)
        self.pages_before_walk = 0
        self.max_updated_on: datetime | None = None

    def requests(self) -> int:
        return max(0, getattr(self.client, "requests_made", 0) - self.requests_base)

    def save_progress(self, **changes: Any) -> None:
        """Write counters (inside the caller's page transaction, if any), then tell the caller."""
        run = self.run
        changes["requests_made"] = self.requests()
        SyncRun.objects.filter(pk=run.pk).update(**changes)
        for name, value in changes.items():
            setattr(run, name, value)

    def page_applied(self, mirror: _Mirror, page_records: Sequence[Any], *, total_pages: int | None,
                     has_next: bool, count: bool = True) -> None:
        """Apply one page and record it, in one transaction; then extend the lock and report."""
        run = self.run
        now = timezone.now()
        with transaction.atomic():
            created, updated = apply_records(mirror, page_records, now=now)
            pages_done = run.pages_done + 1
            if total_pages is not None:
                pages_total = max(pages_done, self.pages_before_walk + total_pages)
            else:
                pages_total = pages_done + (1 if has_next else 0)
            changes: dict[str, Any] = {"pages_done": pages_done, "pages_total": pages_total}
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
        if not self.lock.extend():
            raise _LockLost(
                f"The sync lost its lock on {self.run.resource} (it expired or was removed), so it "
                "stopped rather than run alongside another sync."
            )
        if self.progress is not None:
            self.progress(self.run)

    def walk(self, mirror: _Mirror, make_pages: Callable[[], Iterator[Page]]) -> SeenIds:
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
            for page in prefetched(make_pages()):
                pages += 1
                skipped += getattr(page, "skipped", 0) or 0
                self.page_applied(mirror, page.records, total_pages=page.total_pages, has_next=page.has_next)
                for record in page.records:
                    seen.add(record.id)
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

    def soft_delete_unseen(self, mirror: _Mirror, seen: SeenIds,
                           verify: Callable[[Sequence[int]], list]) -> None:
        """Mark deleted the live rows not ``seen``, after asking Nexudus about each one.

        ``verify(ids)`` returns the records that still exist (batch endpoint); those were skipped
        by a shifting page, and are applied instead of deleted.
        """
        model = mirror.model
        live = model.objects.filter(deleted_at__isnull=True).order_by("pk").values_list("pk", flat=True)
        candidates = [pk for pk in live.iterator(chunk_size=5000) if pk not in seen]
        if not candidates:
            return
        logger.info("%s sync #%s: checking %d records not seen in the walk.",
                    self.run.resource, self.run.pk, len(candidates))
        for batch in _chunks(candidates, VERIFY_BATCH):
            found = verify(batch)
            found_ids = {record.id for record in found}
            missing = [pk for pk in batch if pk not in found_ids]
            with transaction.atomic():
                created, updated = apply_records(mirror, found)
                deleted = 0
                if missing:
                    deleted = model.objects.filter(pk__in=missing, deleted_at__isnull=True).update(
                        deleted_at=timezone.now()
                    )
                self.save_progress(
                    records_seen=self.run.records_seen + len(found),
                    records_created=self.run.records_created + created,
                    records_updated=self.run.records_updated + updated,
                    records_deleted=self.run.records_deleted + deleted,
                )
            self.heartbeat()


# --- Messages --------------------------------------------------------------------------------


def _last_watermark() -> datetime | None:
    """The watermark of the last successful messages run that reached one."""
    return (
        SyncRun.objects.filter(resource=Resource.MESSAGES, status=Status.SUCCESS, watermark__isnull=False)
        .order_by("-finished_at", "-id")
        .values_list("watermark", flat=True)
        .first()
    )


def _next_watermark(*, local_start: datetime, server_start: datetime | None,
                    max_seen: datetime | None, previous: datetime | None) -> datetime:
    """Where the next incremental run may start (before the overlap is taken off).

    The walk is ordered by Id, so a record updated after its page was read keeps its place and is
    not seen again in this run: the next run must ask from no later than the moment this one
    started. Hence ``start``: the earlier of the local clock and the server's ``Date`` at its first
    answer (clocks disagree; the earlier is the safe one). Every change after ``start`` has
    UpdatedOn >= start and is picked up next time; every change before it that was committed when
    its page was read was seen now; a change committed late (UpdatedOn stamped before ``start``,
    visible only after) is covered by the overlap window.

    It is also never later than the newest UpdatedOn seen (or, with nothing seen, the previous
    watermark): UpdatedOn is in the server's frame, which the API does not document (it may be local
    time marked "Z", nexudus-api.md §6). If that frame runs behind real UTC, ``start`` would jump
    ahead of it and skip hours; the newest UpdatedOn seen is in the frame itself. If the frame runs
    ahead, ``start`` is the smaller one: the next run re-reads a little more, and loses nothing.
    """
    start = min(local_start, server_start) if server_start is not None else local_start
    reached = max_seen if max_seen is not None else previous
    if reached is not None and previous is not None:
        reached = max(reached, previous)
    return min(start, reached) if reached is not None else start


def _messages_work(ctx: _RunContext, mode: str) -> None:
    run, client = ctx.run, ctx.client
    previous = _last_watermark() if mode == Mode.INCREMENTAL else None
    if mode == Mode.INCREMENTAL and previous is None:
        logger.info("messages sync #%s: no watermark yet, so this first sync walks everything.", run.pk)
        mode = Mode.FULL
        ctx.save_progress(mode=mode)
    since = previous - timedelta(seconds=settings.NEXUDUS_SYNC_OVERLAP) if previous else None
    ctx.save_progress(since=since)
    local_start = timezone.now().replace(microsecond=0)
    server_clock = _ServerClock(client)
    try:
        seen = ctx.walk(_MESSAGES, lambda: client.iter_message_pages(order_by="Id", updated_from=since))
    finally:
        server_clock.close()
    if mode == Mode.FULL:
        ctx.soft_delete_unseen(_MESSAGES, seen, client.get_messages)
    ctx.save_progress(
        watermark=_next_watermark(
            local_start=local_start, server_start=server_clock.at,
            max_seen=ctx.max_updated_on, previous=previous,
        )
    )


# --- Accounts --------------------------------------------------------------------------------


def _accounts_work(ctx: _RunContext) -> None:
    client = ctx.client
    for page in client.iter_business_pages():
        ctx.page_applied(_BUSINESSES, page.records, total_pages=None, has_next=page.has_next, count=False)
    ctx.pages_before_walk = ctx.run.pages_done
    seen = ctx.walk(_ACCOUNTS, lambda: client.iter_account_pages(order_by="Id"))

    def verify(ids: Sequence[int]) -> list[EmailAccountRecord]:
        # Batch answers are partial for accounts (nexudus-api.md §2): they only prove existence;
        # the few that exist after all are fetched whole.
        whole = []
        for record in client.get_accounts(ids):
            try:
                whole.append(client.get_account(record.id))
            except NexudusNotFound:
                pass  # deleted in between: it is missing after all
        return whole

    ctx.soft_delete_unseen(_ACCOUNTS, seen, verify)
    from inbox.services.account_health import after_accounts_sync

    try:
        after_accounts_sync(run=ctx.run)
    except Exception as exc:
        logger.exception("accounts sync #%s: the health update failed.", ctx.run.pk)
        raise _HealthFailed(
            f"The mail accounts were synced, but updating their health failed: {type(exc).__name__}: {exc}"
        ) from exc


class _HealthFailed(Exception):
    pass


# --- Running, with the lock and the bookkeeping ----------------------------------------------


def _lock_name(resource: str) -> str:
    return f"sync:{resource}"


def reap_dead_runs(resource: str) -> int:
    """Close runs that can no longer finish: the worker died running them, or none ever took them.

    A run is *running* only while it holds the resource's lock (its id is the lock's label), so a
    running run that is not the holder died with its worker. A queued run older than the lock
    timeout was never picked up (no worker, or its message was lost).
    """
    try:
        holder = holder_label(_lock_name(resource))
    except Exception as exc:  # Redis down: cannot tell, so leave them
        logger.warning("Could not ask Redis who holds the %s sync lock: %s", resource, exc)
        return 0
    now = timezone.now()
    dead_running = SyncRun.objects.filter(resource=resource, status=Status.RUNNING)
    if holder:
        dead_running = dead_running.exclude(pk=holder) if holder.isdigit() else dead_running.none()
    closed = dead_running.update(
        status=Status.FAILED, finished_at=now, error_kind="error",
        error="The worker running this sync stopped before it finished (it was killed or restarted); "
              "the next sync picks up from the last one that succeeded.",
    )
    stale_queued = SyncRun.objects.filter(
        resource=resource, status=Status.QUEUED,
        created_at__lt=now - timedelta(seconds=settings.SYNC_LOCK_TIMEOUT),
    )
    closed += stale_queued.update(
        status=Status.FAILED, finished_at=now, error_kind="unavailable",
        error="No worker started this sync within "
              f"{settings.SYNC_LOCK_TIMEOUT // 60} minutes: check that the Celery worker is running.",
    )
    return closed


def _classify(exc: BaseException) -> tuple[str, str]:
    """(error_kind, text an admin can act on) for what stopped a run."""
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, NexudusAuthError):
        return "credentials", str(exc)
    if isinstance(exc, NexudusUnavailable):
        return "unavailable", f"{exc} (Nexudus address: {settings.NEXUDUS_API_URL})"
    if isinstance(exc, NexudusError):
        return "error", str(exc)
    if isinstance(exc, LockError):
        return "unavailable", f"{exc}. Check that Redis is running."
    if isinstance(exc, (_LockLost, _HealthFailed)):
        return "error", str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return "error", (
            f"The sync was stopped after its time limit ({settings.SYNC_TASK_SOFT_TIME_LIMIT} s); "
            "what it applied is kept, and the next sync continues from the last one that succeeded."
        )
    return "error", f"The sync failed unexpectedly ({type(exc).__name__}: {exc}); see the worker's log."


def _execute(
    *,
    resource: str,
    mode: str,
    run: SyncRun | None,
    client: Any,
    progress: Progress | None,
    trigger: str,
    task_id: str,
    lock_wait: float | None,
    work: Callable[[_RunContext], None],
) -> SyncRun:
    if run is not None and run.status not in (Status.QUEUED, Status.RUNNING):
        raise ValueError(f"Sync run #{run.pk} has already finished ({run.status}).")
    wait = settings.SYNC_LOCK_WAIT if lock_wait is None else lock_wait
    lock = RedisLock(_lock_name(resource), label="starting")
    try:
        got = lock.acquire(wait=0)
        if not got and run is not None and run.status == Status.RUNNING:
            # A task redelivered after its worker died mid-run (acks_late): the lock still names
            # this very run, so its holder is dead and this run takes the lock back at once.
            got = lock.take_over(str(run.pk))
            if got:
                logger.warning("%s sync #%s: its worker died mid-run; running it again.", resource, run.pk)
        if not got:
            got = lock.acquire(wait=wait)
    except LockError as exc:
        run = run or SyncRun.objects.create(resource=resource, mode=mode, trigger=trigger, task_id=task_id)
        return _close(run, Status.FAILED, *_classify(exc))
    if not got:
        holder = holder_label(_lock_name(resource))
        text = (
            f"Another {resource} sync (run #{holder or '?'}) was still running after {wait:.0f} s of "
            "waiting, so this one did not start."
        )
        if run is None:
            raise SyncBusy(text)
        return _close(run, Status.FAILED, "error", text)
    try:
        if run is None:
            run = SyncRun.objects.create(
                resource=resource, mode=mode, status=Status.QUEUED, trigger=trigger, task_id=task_id
            )
        if not lock.relabel(str(run.pk)):
            return _close(run, Status.FAILED, "error", "The sync lost its lock before it started.")
        reap_dead_runs(resource)  # we hold the lock: any other "running" run is dead
        run.status = Status.RUNNING
        run.mode = mode
        run.started_at = timezone.now()
        run.finished_at = run.since = run.watermark = run.pages_total = None
        run.records_seen = run.records_created = run.records_updated = run.records_deleted = 0
        run.requests_made = run.pages_done = 0
        run.error = run.error_kind = ""
        if task_id:
            run.task_id = task_id
        if trigger and not run.trigger:
            run.trigger = trigger
        run.save()
        logger.info("%s sync #%s (%s, %s) started.", resource, run.pk, run.mode, run.trigger or "-")
        own_client = client is None
        ctx: _RunContext | None = None
        try:
            if own_client:
                client = NexudusClient.from_settings()
            ctx = _RunContext(run, client, lock, progress)
            if progress is not None:
                progress(run)
            work(ctx)
        except Exception as exc:
            kind, text = _classify(exc)
            if kind == "error" and not isinstance(exc, (NexudusError, _LockLost, _HealthFailed)):
                logger.exception("%s sync #%s failed.", resource, run.pk)
            else:
                logger.warning("%s sync #%s failed (%s): %s", resource, run.pk, kind, text)
            if ctx is not None:
                try:
                    ctx.save_progress()
                except Exception:  # the database itself may be what failed
                    logger.exception("%s sync #%s: could not save its last counters.", resource, run.pk)
            return _close(run, Status.FAILED, kind, text)
        finally:
            if own_client and client is not None and hasattr(client, "close"):
                client.close()
        ctx.save_progress()
        _close(run, Status.SUCCESS)
        logger.info(
            "%s sync #%s: %d seen, %d created, %d updated, %d deleted in %.1f s, %d requests.",
            resource, run.pk, run.records_seen, run.records_created, run.records_updated,
            run.records_deleted, (run.finished_at - run.started_at).total_seconds(), run.requests_made,
        )
        return run
    finally:
        lock.release()
        if progress is not None and run is not None:
            progress(run)


def _close(run: SyncRun, status: str, kind: str = "", text: str = "") -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.error_kind = kind
    run.error = text
    if run.pk is None:
        run.save()
    else:
        run.save(update_fields=["status", "finished_at", "error_kind", "error"])
    return run


# --- The public services ---------------------------------------------------------------------


def sync_messages(
    *,
    mode: str = Mode.INCREMENTAL,
    client: NexudusClient | None = None,
    run: SyncRun | None = None,
    progress: Progress | None = None,
    trigger: str = "",
    task_id: str = "",
    lock_wait: float | None = None,
) -> SyncRun:
    """Sync CoworkerMessages (``incremental`` from the last watermark, or ``full``); the run, finished.

    Failures are recorded on the run (status failed, ``error``, ``error_kind``), not raised. Waits
    up to ``lock_wait`` seconds (default ``SYNC_LOCK_WAIT``) for another run of messages to end;
    if it does not, the given ``run`` is failed, or :class:`SyncBusy` is raised when none was given.
    """
    if mode not in Mode.values:
        raise ValueError(f"Unknown sync mode {mode!r}: use 'incremental' or 'full'.")
    return _execute(
        resource=Resource.MESSAGES, mode=mode, run=run, client=client, progress=progress,
        trigger=trigger, task_id=task_id, lock_wait=lock_wait,
        work=lambda ctx: _messages_work(ctx, mode),
    )


def sync_accounts(
    *,
    client: NexudusClient | None = None,
    run: SyncRun | None = None,
    progress: Progress | None = None,
    trigger: str = "",
    task_id: str = "",
    lock_wait: float | None = None,
) -> SyncRun:
    """Sync businesses and EmailAccounts (always a full walk: there are few), then account health."""
    return _execute(
        resource=Resource.ACCOUNTS, mode=Mode.FULL, run=run, client=client, progress=progress,
        trigger=trigger, task_id=task_id, lock_wait=lock_wait, work=_accounts_work,
    )


def request_sync(*, resource: str, mode: str, trigger: str) -> tuple[SyncRun, bool]:
    """Queue a sync of ``resource`` unless one is queued or running; (the run, whether it is new).

    The task is sent after the transaction commits, so the worker always finds the run.
    """
    if resource not in Resource.values:
        raise ValueError(f"Unknown resource {resource!r}: use 'messages' or 'accounts'.")
    if mode not in Mode.values:
        raise ValueError(f"Unknown sync mode {mode!r}: use 'incremental' or 'full'.")
    if resource == Resource.ACCOUNTS:
        mode = Mode.FULL  # accounts are always walked whole
    # Two clicks at once must not queue two runs: a short lock around check-then-create.
    gate = RedisLock(f"request:{resource}", timeout=30, label="request")
    if not gate.acquire(wait=10):
        raise LockError(f"Another request to sync {resource} did not finish in time")
    try:
        reap_dead_runs(resource)
        active = (
            SyncRun.objects.filter(resource=resource, status__in=[Status.QUEUED, Status.RUNNING])
            .order_by("created_at", "id")
            .first()
        )
        if active is not None:
            return active, False
        with transaction.atomic():
            run = SyncRun.objects.create(resource=resource, mode=mode, status=Status.QUEUED, trigger=trigger)
            transaction.on_commit(partial(_enqueue, run.pk, resource, mode, trigger))
    finally:
        gate.release()
    run.refresh_from_db()
    return run, True


def _enqueue(run_id: int, resource: str, mode: str, trigger: str) -> None:
    from inbox import tasks

    try:
        if resource == Resource.MESSAGES:
            result = tasks.sync_messages.apply_async(kwargs={"mode": mode, "run_id": run_id, "trigger": trigger})
        else:
            result = tasks.sync_accounts.apply_async(kwargs={"run_id": run_id, "trigger": trigger})
    except Exception as exc:  # the broker is down or hanging
        logger.exception("Could not queue %s sync #%s.", resource, run_id)
        SyncRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
            status=Status.FAILED, finished_at=timezone.now(), error_kind="unavailable",
            error=f"The sync could not be queued: the Celery broker (Redis) did not answer "
                  f"({type(exc).__name__}). Check that Redis and the worker are running.",
        )
        return
    SyncRun.objects.filter(pk=run_id, task_id="").update(task_id=result.id or "")
