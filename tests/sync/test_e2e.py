"""The sync end to end: the sandbox over real HTTP (a live server), the real client, real database.

Every test checks the mirror against the source field by field (``assert_mirror_equals_source``).
Deletions are invisible to an incremental sync (the API cannot show them): the full sync finds them.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Max

from inbox.models import CoworkerMessage, EmailAccount, MessageMark, SyncRun
from inbox.nexudus import clear_shared_tokens
from inbox.nexudus.configured import nexudus_client
from inbox.sync import services as sync
from inbox.sync.messages import _last_watermark
from inbox.sync.upsert import apply_message_page
from sandbox import generate
from sandbox import models as sbx
from sandbox import services as sandbox
from sandbox.fake.accounts import SECRET_MARKER
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    PAGE_SIZE,
    HookedClient,
    assert_mirror_equals_source,
    nexudus_sandbox,
    seeded,
    server_errors,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)


def full_sync() -> tuple[SyncRun, SyncRun]:
    accounts = sync.sync_accounts(trigger="test")
    messages = sync.sync_messages(mode="full", trigger="test")
    assert accounts.status == "success", accounts.error
    assert messages.status == "success", messages.error
    return accounts, messages


def test_a_run_says_how_many_records_it_has_read_as_it_goes_and_where_it_failed(seeded, monkeypatch):
    """The running card and the runs table said "0 seen" beside thousands created until a walk's
    end, and a run that failed midway kept saying it."""
    from inbox.nexudus.client import NexudusClient
    from inbox.nexudus.errors import NexudusUnavailable

    from inbox.sync.context import RunContext

    real, progress = NexudusClient.iter_message_pages, []

    def three_pages_then_an_outage(self, *args, **kwargs):
        pages = real(self, *args, **kwargs)
        for _ in range(3):
            yield next(pages)
        raise NexudusUnavailable("Nexudus went away", attempts=1, last_failure="503")

    applied = RunContext.page_applied

    def recorded(self, *args, **kwargs):
        applied(self, *args, **kwargs)
        progress.append(SyncRun.objects.get(pk=self.run.pk).records_seen)  # as the sync page reads it

    monkeypatch.setattr(NexudusClient, "iter_message_pages", three_pages_then_an_outage)
    monkeypatch.setattr(RunContext, "page_applied", recorded)
    failed = sync.sync_messages(mode="full", trigger="test")
    assert failed.status == "failed"
    assert progress == [PAGE_SIZE, 2 * PAGE_SIZE, 3 * PAGE_SIZE]
    assert (failed.records_seen, failed.records_created) == (3 * PAGE_SIZE, 3 * PAGE_SIZE)


def source_ids(queryset=None) -> list[int]:
    return list((queryset or sbx.CoworkerMessage.objects).order_by("id").values_list("id", flat=True))


def test_full_sync_equals_the_source(seeded):
    accounts, messages = full_sync()
    assert_mirror_equals_source()
    assert (messages.records_seen, messages.records_created, messages.records_updated) == (420, 420, 0)
    assert (accounts.records_seen, accounts.records_created) == (16, 16)
    # ceil(420 / 50) = 9 pages, and the token (maybe already fetched by the accounts sync).
    assert messages.pages_done == messages.pages_total == 9
    assert 9 <= messages.requests_made <= 10
    assert messages.mode == "full" and messages.started_at <= messages.finished_at
    assert messages.watermark is not None
    # Generated data ends at NOW: the watermark is the newest change seen, not the clock.
    newest = sbx.CoworkerMessage.objects.aggregate(m=Max("updated_on"))["m"]
    assert messages.watermark == newest.replace(microsecond=0)


def test_a_first_incremental_sync_walks_everything(seeded):
    run = sync.sync_messages(trigger="test")
    assert run.status == "success" and run.mode == "full" and run.since is None
    assert_mirror_equals_source(accounts=False)


def test_incremental_sync_reflects_every_change(seeded):
    full_sync()
    ids = source_ids()
    new_ids = sandbox.add_messages(7)
    sandbox.add_messages(3, incoming=False)
    read_now = ids[10:20]
    unread_now = ids[30:35]
    sandbox.set_read(read_now, True)
    sandbox.set_read(unread_now, False)
    sandbox.update_message(ids[40], subject="Re: the invoice (edited)", body="<p>New <i>body</i></p>")
    failing = sbx.EmailAccount.objects.order_by("id").first()
    sandbox.update_account(failing.id, error_count=(failing.error_count or 0) + 25, active=False)
    gone = [ids[100], ids[101], ids[-1]]
    sandbox.delete_messages(gone)
    gone_account = sbx.EmailAccount.objects.order_by("-id").first().id
    sandbox.delete_accounts([gone_account])

    accounts = sync.sync_accounts(trigger="test")
    messages = sync.sync_messages(trigger="test")
    assert messages.status == "success" and messages.mode == "incremental"
    assert messages.since is not None and messages.records_created == 10
    assert messages.records_updated >= len(read_now) + len(unread_now) + 1
    # A few hundred unchanged records are not walked again: only what changed since the watermark.
    assert messages.records_seen < 100
    assert set(CoworkerMessage.objects.filter(pk__in=new_ids).values_list("pk", flat=True)) == set(new_ids)
    assert not CoworkerMessage.objects.filter(pk__in=read_now, is_new_message=True).exists()
    assert CoworkerMessage.objects.filter(pk__in=unread_now, is_new_message=True).count() == 5
    assert CoworkerMessage.objects.get(pk=ids[40]).body_text == "New body"
    account = EmailAccount.objects.get(pk=failing.id)
    assert account.error_count == (failing.error_count or 0) + 25 and account.active is False
    # Accounts are always walked whole, so a deleted one is found at once ...
    assert accounts.records_deleted == 1
    assert EmailAccount.objects.get(pk=gone_account).deleted_at is not None
    # ... but deleted messages are invisible to an incremental sync: still live in the mirror,
    assert CoworkerMessage.objects.filter(pk__in=gone, deleted_at__isnull=True).count() == 3
    # until the full sync marks them (and keeps them, for exports of the past).
    _, full = full_sync()
    assert full.records_deleted == 3
    assert set(CoworkerMessage.objects.filter(deleted_at__isnull=False).values_list("pk", flat=True)) == set(gone)
    assert_mirror_equals_source()


def test_nothing_changed_costs_at_most_two_requests_per_resource(seeded, caplog):
    full_sync()
    clear_shared_tokens()  # as a fresh worker process: it must sign in first
    run = sync.sync_messages(trigger="test")
    assert run.status == "success" and run.mode == "incremental"
    assert run.requests_made <= 2
    assert (run.records_created, run.records_updated, run.records_deleted) == (0, 0, 0)
    with caplog.at_level(logging.INFO, logger="inbox.sync.runs.start"):
        again = sync.sync_messages(trigger="test")  # the token is reused across runs
    assert again.requests_made == 1
    assert caplog.records[-1].getMessage().endswith(", 1 request.")  # not "1 requests"
    accounts = sync.sync_accounts(trigger="test")
    assert accounts.requests_made <= 2  # one page of businesses, one of accounts
    assert (accounts.records_created, accounts.records_updated) == (0, 0)


def test_records_changed_during_a_sync_are_not_lost(seeded, settings, monkeypatch):
    """Changes made between pages of a running sync all reach the mirror by the next run.

    The overlap window is set to 0, so only the watermark rule protects them: the sandbox's clock
    moves 3 minutes on during the walk (a long sync), and a record changed at its start on a page
    already read would be lost if the next run started from the newest UpdatedOn seen.
    """
    settings.NEXUDUS_SYNC_OVERLAP = 0
    full_sync()
    ids = source_ids()
    sandbox.set_read(ids[10:210], True)  # 200 changed: the incremental walk is 4 pages of 50
    real_utcnow = generate.utcnow
    changed_early = ids[15]  # on page 1
    changed_late = ids[200]  # on page 4
    added: list[int] = []

    def between_pages(number: int) -> None:
        if number != 1:
            return
        started = real_utcnow()
        monkeypatch.setattr(generate, "utcnow", lambda: started + timedelta(seconds=5))
        sandbox.update_message(changed_early, subject="changed while page 1 was applied")
        added.extend(sandbox.add_messages(2))
        monkeypatch.setattr(generate, "utcnow", lambda: started + timedelta(minutes=3))
        sandbox.update_message(changed_late, subject="changed later, on a page still to come")

    client = nexudus_client(client_class=HookedClient)
    client.between_pages = between_pages
    first = sync.sync_messages(client=client, trigger="test")
    assert first.status == "success", first.error
    assert first.pages_done == 5  # 202 records, one walk: only the watermark can save the early change
    monkeypatch.setattr(generate, "utcnow", real_utcnow)
    assert CoworkerMessage.objects.get(pk=changed_late).subject == "changed later, on a page still to come"
    assert set(CoworkerMessage.objects.filter(pk__in=added).values_list("pk", flat=True)) == set(added)
    early = sbx.CoworkerMessage.objects.get(pk=changed_early)
    # The next run asks from no later than this change, though a later one was seen.
    assert first.watermark <= early.updated_on < CoworkerMessage.objects.get(pk=changed_late).updated_on

    second = sync.sync_messages(trigger="test")
    assert second.status == "success"
    assert CoworkerMessage.objects.get(pk=changed_early).subject == "changed while page 1 was applied"
    assert_mirror_equals_source(accounts=False)


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_deletion_that_shifts_the_pages_is_walked_again(seeded, settings, mode):
    """Deleting a record on page 1 mid-walk moves every later record one place left, so the first
    record of page 2 is never served: the sync notices the list shrank and walks it again."""
    settings.NEXUDUS_SYNC_OVERLAP = 0
    full_sync()
    ids = source_ids()
    if mode == "incremental":
        sandbox.set_read(ids[:150], True)  # the walk: 3 pages of 50 (and the seed's last minute)
        since = _last_watermark().replace(second=0)
        walked = source_ids(sbx.CoworkerMessage.objects.filter(updated_on__gte=since))
    else:
        walked = ids
    skipped = walked[PAGE_SIZE]  # first of page 2: would be skipped by the shift
    sandbox.update_message(skipped, subject="only a second walk sees this")
    victim = walked[3]

    def between_pages(number: int) -> None:
        if number == 1 and sbx.CoworkerMessage.objects.filter(pk=victim).exists():
            sandbox.delete_messages([victim])

    client = nexudus_client(client_class=HookedClient)
    client.between_pages = between_pages
    run = sync.sync_messages(mode=mode, client=client, trigger="test")
    assert run.status == "success"
    assert run.pages_done > len(walked) // PAGE_SIZE  # walked again
    assert CoworkerMessage.objects.get(pk=skipped).subject == "only a second walk sees this"
    if mode == "full":
        assert CoworkerMessage.objects.get(pk=victim).deleted_at is not None
        assert_mirror_equals_source(accounts=False)


def test_full_sync_checks_before_deleting(seeded, monkeypatch):
    """A record the walk did not see is asked for by id: if it exists, it is kept (and refreshed)."""
    full_sync()
    ids = source_ids()
    hidden = ids[77]
    sandbox.update_message(hidden, subject="hidden from the walk, not deleted")
    real_iter = HookedClient.iter_message_pages

    def walk_without_it(self, **kwargs):
        for page in real_iter(self, **kwargs):
            page.records = [r for r in page.records if r.id != hidden]
            yield page

    monkeypatch.setattr(HookedClient, "iter_message_pages", walk_without_it)
    run = sync.sync_messages(mode="full", client=nexudus_client(client_class=HookedClient), trigger="test")
    assert run.status == "success" and run.records_deleted == 0
    row = CoworkerMessage.objects.get(pk=hidden)
    assert row.deleted_at is None and row.subject == "hidden from the walk, not deleted"


def test_random_failures_still_end_equal_to_the_source(seeded):
    """20% of answers fail (500/502/503) and 10% come back cut in half: retries carry the sync."""
    # The faults are drawn from the random module (in the live server's thread, as the client's
    # jitter is): seeded, the draw is the same every run, so no run can be the rare one without
    # a fault (about 1 in 250 of ~25 requests unseeded).
    random.seed(20261130)
    sandbox.set_faults(failure_rate=0.2, truncate_rate=0.1)
    try:
        with server_errors() as errors:
            full_sync()
            ids = source_ids()
            sandbox.add_messages(20)
            sandbox.set_read(ids[::7], True)
            sandbox.delete_messages(ids[50:53])
            incremental = sync.sync_messages(trigger="test")
            full = sync.sync_messages(mode="full", trigger="test")
    finally:
        sandbox.set_faults()
    assert incremental.status == "success" and full.status == "success", (incremental.error, full.error)
    assert errors, "no fault was injected: the test proved nothing"
    assert_mirror_equals_source()
    assert CoworkerMessage.objects.count() == 420 + 20  # nothing duplicated; deleted ones kept
    assert CoworkerMessage.objects.filter(deleted_at__isnull=False).count() == 3


def test_a_page_applied_twice_changes_nothing(seeded):
    client = nexudus_client(client_class=HookedClient)
    first_page = next(iter(client.iter_message_pages(order_by="Id")))
    assert apply_message_page(first_page.records) == (PAGE_SIZE, 0)
    before = list(CoworkerMessage.objects.order_by("pk").values_list())
    assert apply_message_page(first_page.records) == (0, 0)
    assert list(CoworkerMessage.objects.order_by("pk").values_list()) == before


def test_local_marks_survive_every_sync(seeded):
    full_sync()
    ids = source_ids()
    users = [get_user_model().objects.create_user(f"staff{i}", password="pw-12345-x") for i in range(2)]
    for user in users:
        for pk in ids[:5]:
            MessageMark.objects.create(user=user, message_id=pk, is_read=pk % 2 == 0)
    marks = sorted(MessageMark.objects.values_list("user_id", "message_id", "is_read", "marked_at"))
    sandbox.set_read(ids[:5], False)
    sandbox.delete_messages([ids[0]])
    assert sync.sync_messages(trigger="test").status == "success"
    assert sync.sync_messages(mode="full", trigger="test").status == "success"
    assert sorted(MessageMark.objects.values_list("user_id", "message_id", "is_read", "marked_at")) == marks


def test_refused_credentials_fail_the_run_clearly(seeded, settings):
    full_sync()
    watermark = SyncRun.objects.filter(resource="messages").first().watermark
    settings.NEXUDUS_PASSWORD = "not-the-password"
    clear_shared_tokens()
    run = sync.sync_messages(trigger="test")
    assert run.status == "failed" and run.error_kind == "credentials"
    assert "NEXUDUS_PASSWORD" in run.error and "not-the-password" not in run.error
    assert run.finished_at is not None
    accounts = sync.sync_accounts(trigger="test")
    assert accounts.status == "failed" and accounts.error_kind == "credentials"
    # The failed run does not move the next run's starting point.
    assert _last_watermark() == watermark


def test_nexudus_unavailable_fails_the_run_with_its_kind(seeded):
    sandbox.set_faults(failure_rate=1.0)
    try:
        run = sync.sync_messages(trigger="test")
    finally:
        sandbox.set_faults()
    assert run.status == "failed" and run.error_kind == "unavailable"
    assert "attempts" in run.error
    assert run.requests_made >= 2


def test_progress_is_written_after_every_page(seeded):
    seen = []

    def progress(run):
        stored = SyncRun.objects.get(pk=run.pk)
        seen.append((stored.status, stored.pages_done, stored.pages_total, stored.records_created))

    sync.sync_messages(mode="full", progress=progress, trigger="test")
    running = [s for s in seen if s[0] == "running"]
    assert [s[1] for s in running if s[1]] == list(range(1, 10))
    assert all(total == 9 for _, done, total, _ in running if done)
    assert [s[3] for s in running if s[1]] == [50 * n for n in range(1, 9)] + [420]
    assert seen[-1][0] == "success"


def test_secrets_never_reach_the_mirror_the_logs_or_a_page(seeded, caplog, client):
    """Accounts carry OAuth tokens (generated with SANDBOX-SECRET inside): none leaves the source."""
    caplog.set_level(logging.DEBUG)
    extra = sbx.EmailAccount.objects.order_by("id")[:2]
    tokens = [
        "ya29.a0AfH6SMBx-sync-test-google-token-0123456789",
        "EwBwA8l6BAAU-sync-test-office365-token-9876543210",
    ]
    sandbox.update_account(extra[0].id, google_access_token=tokens[0])
    sandbox.update_account(extra[1].id, office365_access_token=tokens[1])
    secrets = tokens + [
        t for pair in sbx.EmailAccount.objects.values_list("google_access_token", "office365_access_token")
        for t in pair if t
    ]
    assert any(SECRET_MARKER in s for s in secrets)
    full_sync()
    assert EmailAccount.objects.get(pk=extra[0].id).has_google_token
    assert EmailAccount.objects.get(pk=extra[1].id).has_office365_token

    # Every row of every table of the mirror's database.
    connection = connections["default"]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump = repr(cursor.fetchall())
            assert SECRET_MARKER not in dump, table
            for secret in secrets:
                assert secret not in dump, table
    for secret in secrets + [SECRET_MARKER]:
        assert secret not in caplog.text

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345-root")
    client.force_login(admin)
    message = CoworkerMessage.objects.exclude(coworker_id=None).first()
    pages = ["/", "/accounts/", "/accounts/export.csv", "/sync/", "/healthz", "/export.csv",
             f"/messages/{message.pk}/", f"/customers/{message.coworker_id}/"]
    pages += [f"/accounts/{pk}/" for pk in (extra[0].id, extra[1].id)]
    for path in pages:
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        assert response.status_code < 500, path
        assert SECRET_MARKER not in text, path
        for secret in secrets:
            assert secret not in text, path


def test_a_record_that_enters_the_walk_behind_it_is_read_in_the_same_run(seeded, settings):
    """A record changed mid-walk whose Id sorts before the page being read enters the filtered list
    behind the walk: fewer unique records were seen than the list finally holds, so the walk runs
    again (the next run would catch it anyway; this run need not leave it for later)."""
    settings.NEXUDUS_SYNC_OVERLAP = 0
    full_sync()
    ids = source_ids()
    sandbox.set_read(ids[10:160], True)
    entering = ids[2]

    def between_pages(number: int) -> None:
        if number == 1 and not sbx.CoworkerMessage.objects.filter(pk=entering, subject="entered behind").exists():
            sandbox.update_message(entering, subject="entered behind")

    client = nexudus_client(client_class=HookedClient)
    client.between_pages = between_pages
    run = sync.sync_messages(client=client, trigger="test")
    assert run.status == "success"
    assert CoworkerMessage.objects.get(pk=entering).subject == "entered behind"
    assert_mirror_equals_source(accounts=False)
