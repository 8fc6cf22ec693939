"""Applying pages to the mirror, the watermark rule, seen-id bookkeeping and the Redis lock.

Real database, real Redis; records come from the client's own parser.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone as dj_timezone

from inbox.platform.locks import RedisLock, holder_label
from inbox.models import CoworkerMessage, EmailAccount, MessageMark, SyncRun
from inbox.nexudus.records import parse_account, parse_message
from inbox.services import sync
from inbox.services.sync import services as sync_services
from inbox.services.sync import SeenIds, _next_watermark, apply_account_page, apply_message_page

UTC = timezone.utc


def raw_message(i: int, **overrides) -> dict:
    raw = {
        "Id": 1000 + i,
        "UniqueId": f"00000000-0000-4000-8000-{i:012d}",
        "CoworkerId": 500 + i % 7,
        "CoworkerFullName": f"Customer {i}",
        "CoworkerEmail": f"c{i}@example.com",
        "CoworkerBillingName": None,
        "CoworkerCompanyName": "Acme",
        "EmailAccountId": 7 if i % 3 else None,
        "EmailAccountDisplayName": "Hello" if i % 3 else None,
        "EmailAccountEmailAddress": "hello@space.example" if i % 3 else None,
        "Subject": f"Subject {i}",
        "Body": f"<p>Hello <b>{i}</b></p><script>x()</script>",
        "IsNewMessage": i % 2 == 0,
        "Incoming": True,
        "MessageId": None,
        "ReminderUniqueId": None,
        "CreatedOn": "2025-05-01T10:00:00Z",
        "UpdatedOn": "2025-05-02T10:00:00Z",
        "UpdatedBy": "staff@space.example",
        "IsNew": False,
        "SystemId": None,
        "ToStringText": f"Subject {i}",
    }
    raw.update(overrides)
    return raw


def page(n: int, start: int = 0, **overrides):
    return [parse_message(raw_message(i, **overrides)) for i in range(start, start + n)]


def snapshot() -> list[tuple]:
    return list(CoworkerMessage.objects.order_by("pk").values_list())


@pytest.mark.django_db
class TestApplyPage:
    def test_creates_rows_with_every_field_and_the_text(self):
        created, updated = apply_message_page(page(5))
        assert (created, updated) == (5, 0)
        row = CoworkerMessage.objects.get(pk=1001)
        assert row.subject == "Subject 1"
        assert row.body == "<p>Hello <b>1</b></p><script>x()</script>"
        assert row.body_text == "Hello 1"
        assert row.email_account_id == 7 and row.email_account_display_name == "Hello"
        assert row.created_on == datetime(2025, 5, 1, 10, tzinfo=UTC)
        assert row.updated_on == datetime(2025, 5, 2, 10, tzinfo=UTC)
        assert row.is_new_message is False and row.incoming is True
        assert row.to_string_text == "Subject 1"
        assert row.deleted_at is None and row.synced_at is not None
        assert CoworkerMessage.objects.get(pk=1003).email_account_id is None

    def test_a_page_applied_twice_changes_nothing(self):
        records = page(30)
        assert apply_message_page(records) == (30, 0)
        before = snapshot()
        assert apply_message_page(records) == (0, 0)
        assert snapshot() == before  # synced_at included: unchanged rows are not even written

    def test_counts_only_real_changes(self):
        apply_message_page(page(10))
        changed = page(10, UpdatedOn="2025-05-03T10:00:00Z")[:3] + page(10)[3:]
        assert apply_message_page(changed) == (0, 3)
        assert apply_message_page(page(12)) == (2, 3)  # 2 new; the 3 go back to the old UpdatedOn

    def test_a_field_changing_without_updatedon_is_still_applied(self):
        apply_message_page(page(3))
        assert apply_message_page(page(3, IsNewMessage=True)) == (0, 1)  # 1001 was read, now unread
        assert CoworkerMessage.objects.filter(is_new_message=True).count() == 3

    def test_duplicate_ids_within_a_page_keep_the_last(self):
        records = page(2) + [parse_message(raw_message(0, Subject="Second copy"))]
        assert apply_message_page(records) == (2, 0)
        assert CoworkerMessage.objects.get(pk=1000).subject == "Second copy"

    def test_a_record_that_reappears_is_live_again(self):
        apply_message_page(page(3))
        CoworkerMessage.objects.filter(pk=1001).update(deleted_at=dj_timezone.now())
        assert apply_message_page(page(3)) == (0, 1)
        assert CoworkerMessage.objects.get(pk=1001).deleted_at is None

    def test_local_marks_are_never_touched(self):
        user = get_user_model().objects.create_user("ana", password="x-123-secret")
        apply_message_page(page(3))
        MessageMark.objects.create(user=user, message_id=1000, is_read=True)
        MessageMark.objects.create(user=user, message_id=1001, is_read=False)
        marks = list(MessageMark.objects.order_by("pk").values_list("message_id", "is_read", "marked_at"))
        apply_message_page(page(3, IsNewMessage=True, Subject="Changed", UpdatedOn="2025-06-01T00:00:00Z"))
        assert list(MessageMark.objects.order_by("pk").values_list("message_id", "is_read", "marked_at")) == marks

    def test_values_a_database_would_refuse_are_cleaned(self):
        records = [
            parse_message(raw_message(0, Subject="nul\x00byte", CoworkerFullName="x" * 600)),
            parse_message(raw_message(1, MessageId=2**40, Body="bad \ud800 surrogate")),
            parse_message(raw_message(2, CreatedOn=None, IsNewMessage=None, Incoming=None)),
            parse_message(raw_message(3, CreatedOn=None, UpdatedOn=None)),
        ]
        before = dj_timezone.now()
        assert apply_message_page(records) == (4, 0)
        rows = {m.pk: m for m in CoworkerMessage.objects.all()}
        assert rows[1000].subject == "nulbyte"
        assert rows[1000].coworker_full_name == "x" * 255
        assert rows[1001].message_id is None  # does not fit the column: unknown
        assert rows[1001].body == "bad \ufffd surrogate"
        assert rows[1002].created_on == rows[1002].updated_on  # no CreatedOn: the best date known
        assert rows[1002].is_new_message is False and rows[1002].incoming is False
        assert rows[1003].created_on >= before
        # ... and applying them again still changes nothing.
        assert apply_message_page(records) == (0, 0)

    def test_accounts_keep_only_whether_a_token_is_set(self):
        raw = {
            "Id": 9, "DisplayName": "Hello", "EmailAddress": "hello@x.example", "Active": True,
            "GoogleAccessToken": "ya29.SECRET", "Office365AccessToken": None, "ErrorCount": 3,
            "LastCheckTime": "2025-06-01T09:00:00Z", "UpdatedOn": "2025-06-01T09:00:00Z",
        }
        assert apply_account_page([parse_account(raw)]) == (1, 0)
        account = EmailAccount.objects.get(pk=9)
        assert account.has_google_token is True and account.has_office365_token is False
        assert account.error_count == 3
        assert apply_account_page([parse_account(raw)]) == (0, 0)
        assert apply_account_page([parse_account({**raw, "ErrorCount": 4})]) == (0, 1)

    def test_rows_are_stored_as_django_itself_stores_them(self):
        """The upsert bypasses ``bulk_create``: what it writes must be what Django's own ``save``
        writes, value for value (SQLite keeps datetimes as text, so even the format counts)."""
        apply_message_page(page(3, MessageId=12) + [parse_message(raw_message(3, CreatedOn=None))])
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in CoworkerMessage._meta.concrete_fields)

        def stored() -> list[tuple]:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {qn(CoworkerMessage._meta.db_table)} ORDER BY 1")
                return cursor.fetchall()

        written = stored()
        for message in CoworkerMessage.objects.all():
            message.save()
        assert stored() == written and len(written) == 4

    def test_pages_applied_inside_one_transaction_do_not_mix(self):
        """A caller (or a test) may hold several pages in one transaction: each page writes only its
        own rows (PostgreSQL stages them in a temporary table that only commits would empty)."""
        with transaction.atomic():
            apply_message_page(page(2))
            apply_message_page(page(1, start=5))
            assert apply_message_page(page(2, Subject="Again")) == (0, 2)
        assert sorted(CoworkerMessage.objects.values_list("pk", "subject")) == [
            (1000, "Again"), (1001, "Again"), (1005, "Subject 5")
        ]

    def test_one_transaction_per_page(self, django_assert_max_num_queries):
        records = page(1000)
        # SAVEPOINT/BEGIN + one IN query per 900 ids + the upsert (SQLite: one executemany;
        # PostgreSQL: the staging table, its COPY (not counted here) and one INSERT).
        with django_assert_max_num_queries(10):
            apply_message_page(records)
        assert CoworkerMessage.objects.count() == 1000


class TestWatermark:
    start = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)

    def test_never_later_than_the_start_of_the_run(self):
        # A record updated at start+2min was seen; one on an earlier page updated at start+5s was
        # not. The next run must ask from no later than the start.
        mark = _next_watermark(local_start=self.start, server_start=None,
                               max_seen=self.start + timedelta(minutes=2), previous=None)
        assert mark == self.start

    def test_the_earlier_clock_wins(self):
        server = self.start - timedelta(seconds=40)
        assert _next_watermark(local_start=self.start, server_start=server,
                               max_seen=self.start + timedelta(minutes=1), previous=None) == server

    def test_never_later_than_the_newest_change_seen(self):
        # UpdatedOn in a frame running behind the clocks (local time marked "Z", west of UTC).
        seen = self.start - timedelta(hours=5)
        assert _next_watermark(local_start=self.start, server_start=self.start,
                               max_seen=seen, previous=seen - timedelta(hours=1)) == seen

    def test_nothing_seen_keeps_the_previous_watermark(self):
        previous = self.start - timedelta(hours=2)
        assert _next_watermark(local_start=self.start, server_start=None, max_seen=None,
                               previous=previous) == previous

    def test_does_not_go_back_when_only_the_overlap_was_reread(self):
        previous = self.start - timedelta(minutes=1)
        assert _next_watermark(local_start=self.start, server_start=None,
                               max_seen=previous - timedelta(minutes=10), previous=previous) == previous

    def test_first_run_with_nothing_at_all(self):
        assert _next_watermark(local_start=self.start, server_start=None, max_seen=None, previous=None) == self.start


class TestSeenIds:
    def test_ascending_ids_with_repeats_from_shifted_pages(self):
        seen = SeenIds()
        for pk in [1, 2, 3, 3, 4, 10, 10, 11]:
            seen.add(pk)
        seen.finish()
        assert list(seen.ids) == [1, 2, 3, 4, 10, 11]
        assert 10 in seen and 5 not in seen and 12 not in seen and 0 not in seen

    def test_unsorted_server_is_sorted_at_the_end(self):
        seen = SeenIds()
        for pk in [5, 3, 9, 3, 1, 5]:
            seen.add(pk)
        assert list(seen.finish().ids) == [1, 3, 5, 9]
        assert len(seen) == 4

    def test_union(self):
        a, b = SeenIds(), SeenIds()
        for pk in (1, 2, 5):
            a.add(pk)
        for pk in (2, 3, 6):
            b.add(pk)
        assert list(a.union(b).ids) == [1, 2, 3, 5, 6]

    def test_eight_bytes_an_id(self):
        seen = SeenIds()
        for pk in range(100_000):
            seen.add(10**9 + pk)
        assert seen.ids.itemsize == 8 and len(seen) == 100_000


class TestLock:
    def test_only_one_holder(self, redis_client):
        first = RedisLock("test:one", timeout=10, label="a")
        second = RedisLock("test:one", timeout=10, label="b")
        try:
            assert first.acquire()
            assert not second.acquire()
            assert holder_label("test:one") == "a"
            assert first.relabel("42") and holder_label("test:one") == "42"
        finally:
            first.release()
        assert second.acquire()
        second.release()
        assert holder_label("test:one") is None

    def test_only_the_owner_releases_or_extends(self, redis_client):
        lock = RedisLock("test:owner", timeout=0.2, label="a")
        assert lock.acquire()
        time.sleep(0.3)  # expired: someone else takes it
        other = RedisLock("test:owner", timeout=10, label="b")
        assert other.acquire()
        assert lock.extend() is False
        assert lock.release() is False
        assert holder_label("test:owner") == "b"  # the other's lock is intact
        other.release()

    def test_extend_pushes_the_expiry_back(self, redis_client):
        lock = RedisLock("test:extend", timeout=0.5, label="a")
        assert lock.acquire()
        try:
            time.sleep(0.3)
            assert lock.extend()
            time.sleep(0.3)
            assert holder_label("test:extend") == "a"
        finally:
            lock.release()

    def test_the_default_expiry_is_the_short_lease(self, settings):
        assert 30 <= settings.SYNC_LOCK_LEASE <= 120
        assert RedisLock("test:default").timeout_ms == settings.SYNC_LOCK_LEASE * 1000
        assert settings.SYNC_HEARTBEAT_INTERVAL * 3 <= settings.SYNC_LOCK_LEASE  # three beats may fail

    def test_waiting_for_the_holder(self, redis_client):
        holder = RedisLock("test:wait", timeout=10, label="a")
        assert holder.acquire()
        threading.Timer(0.3, holder.release).start()
        waiter = RedisLock("test:wait", timeout=10, label="b")
        started = time.monotonic()
        assert waiter.acquire(wait=5)
        assert 0.2 < time.monotonic() - started < 3
        waiter.release()


@pytest.mark.django_db
class TestRunBookkeeping:
    def test_a_busy_resource_without_a_run_raises_busy(self, settings):
        lock = RedisLock("sync:messages", timeout=10, label="999")
        assert lock.acquire()
        try:
            with pytest.raises(sync.SyncBusy, match="run #999"):
                sync.sync_messages(lock_wait=0.2, client=object())
            run = SyncRun.objects.create(resource="messages", mode="incremental", status="queued")
            result = sync.sync_messages(run=run, lock_wait=0.2, client=object())
            assert result.status == "failed" and "still running" in result.error
        finally:
            lock.release()

    def test_dead_running_runs_and_forgotten_queued_runs_are_closed(self, settings):
        long_ago = dj_timezone.now() - timedelta(seconds=settings.SYNC_LOCK_LEASE + 5)
        dead = SyncRun.objects.create(resource="messages", mode="full", status="running",
                                      started_at=long_ago, heartbeat_at=long_ago)
        stale = SyncRun.objects.create(resource="messages", mode="full", status="queued")
        SyncRun.objects.filter(pk=stale.pk).update(
            created_at=dj_timezone.now() - timedelta(seconds=settings.SYNC_LOCK_TIMEOUT + 60)
        )
        fresh = SyncRun.objects.create(resource="messages", mode="full", status="queued")
        assert sync.reap_dead_runs("messages") == 2
        dead.refresh_from_db(), stale.refresh_from_db(), fresh.refresh_from_db()
        assert dead.status == "failed" and dead.error_kind == "worker"
        assert "the worker stopped (killed or restarted) while this sync ran" in dead.error.lower()
        assert stale.status == "failed" and "Celery worker" in stale.error
        assert fresh.status == "queued"

    def test_the_running_run_that_holds_the_lock_is_alive(self):
        alive = SyncRun.objects.create(resource="accounts", mode="full", status="running")
        lock = RedisLock("sync:accounts", timeout=10, label=str(alive.pk))
        assert lock.acquire()
        try:
            assert sync.reap_dead_runs("accounts") == 0
        finally:
            lock.release()

    def test_request_sync_validates_its_arguments(self):
        with pytest.raises(ValueError, match="messages"):
            sync.request_sync(resource="coworkers", mode="full", trigger="admin")
        with pytest.raises(ValueError, match="incremental"):
            sync.request_sync(resource="messages", mode="partial", trigger="admin")

    def test_request_sync_does_not_queue_twice(self, django_capture_on_commit_callbacks, monkeypatch):
        sent = []
        monkeypatch.setattr(sync_services, "_enqueue", lambda *args: sent.append(args))
        with django_capture_on_commit_callbacks(execute=True):
            run, created = sync.request_sync(resource="messages", mode="full", trigger="admin")
        assert created and run.status == "queued" and run.trigger == "admin"
        again, created_again = sync.request_sync(resource="messages", mode="incremental", trigger="admin")
        assert again.pk == run.pk and not created_again
        assert sent == [(run.pk, "messages", "full", "admin")]
        accounts, created = sync.request_sync(resource="accounts", mode="incremental", trigger="admin")
        assert created and accounts.mode == "full"  # accounts are always walked whole


@pytest.mark.django_db
def test_a_page_of_1000_applies_in_a_fraction_of_a_second():
    records = page(1000)
    started = time.perf_counter()
    apply_message_page(records)
    elapsed = time.perf_counter() - started
    # ~0.15 s here (most of it SQLite's full-text index); an update_or_create loop takes seconds.
    # A loose bound, for a shared machine.
    assert elapsed < 1.0, f"{elapsed:.2f} s for 1,000 records ({connection.vendor})"


@pytest.mark.django_db
def test_a_redelivered_run_takes_its_own_dead_lock_back(monkeypatch):
    """acks_late redelivers a task whose worker died: the lock still names that run, so it goes on."""
    run = SyncRun.objects.create(resource="messages", mode="full", status="running")
    dead = RedisLock("sync:messages", timeout=60, label=str(run.pk))
    assert dead.acquire()
    calls = []
    monkeypatch.setattr(sync_services, "messages_work", lambda ctx, mode: calls.append(ctx.run.pk))
    result = sync.sync_messages(mode="full", run=run, lock_wait=0.2, client=object())
    assert result.status == "success" and calls == [run.pk]
    assert holder_label("sync:messages") is None
    # Another run's lock is never taken over.
    other = RedisLock("sync:messages", timeout=60, label="999999")
    assert other.acquire()
    try:
        second = SyncRun.objects.create(resource="messages", mode="full", status="running")
        assert sync.sync_messages(mode="full", run=second, lock_wait=0.2, client=object()).status == "failed"
        assert holder_label("sync:messages") == "999999"
    finally:
        other.release()
