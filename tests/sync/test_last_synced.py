"""The top bar's "Synced N ago" is cached for a few seconds (``LAST_SYNCED_CACHE_SECONDS``); a
messages sync that succeeds forgets that value, so the next page says so at once."""

from __future__ import annotations

import pytest

from inbox.context_processors import cached_last_synced_at, forget_last_synced
from inbox.models import SyncRun
from inbox.sync import services as sync
from tests.sync.fixtures import BOTH_DBS, nexudus_sandbox, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)


def test_a_messages_sync_that_succeeds_is_read_at_once_not_after_the_cache(seeded, settings):  # noqa: F811
    settings.LAST_SYNCED_CACHE_SECONDS = 600
    forget_last_synced()
    assert cached_last_synced_at() is None  # cached: "Not synced yet" for ten minutes
    run = sync.sync_messages(mode="full", trigger="test")
    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert cached_last_synced_at() == SyncRun.objects.get(pk=run.pk).finished_at


def test_an_accounts_sync_leaves_it_alone(seeded, settings):  # noqa: F811
    settings.LAST_SYNCED_CACHE_SECONDS = 600
    forget_last_synced()
    assert cached_last_synced_at() is None
    assert sync.sync_accounts(trigger="test").status == SyncRun.Status.SUCCESS
    assert cached_last_synced_at() is None  # "Synced" is about messages: still none


def test_a_messages_sync_that_fails_is_read_at_once_and_a_success_clears_it(seeded, settings):  # noqa: F811
    from inbox.context_processors import cached_sync_status
    from inbox.nexudus import clear_shared_tokens

    settings.LAST_SYNCED_CACHE_SECONDS = 600
    good = sync.sync_messages(mode="full", trigger="test")
    assert cached_sync_status() == (SyncRun.objects.get(pk=good.pk).finished_at, "")
    password, settings.NEXUDUS_PASSWORD = settings.NEXUDUS_PASSWORD, "definitely-wrong"
    clear_shared_tokens()
    failed = sync.sync_messages(trigger="test")
    assert failed.status == SyncRun.Status.FAILED and failed.error_kind == "credentials"
    status = cached_sync_status()  # not the success cached for ten minutes
    assert status.at == SyncRun.objects.get(pk=good.pk).finished_at and status.failing == "credentials"
    assert status.failing_words == "Nexudus refused the help desk’s sign-in"
    settings.NEXUDUS_PASSWORD = password
    clear_shared_tokens()
    again = sync.sync_messages(trigger="test")
    assert again.status == SyncRun.Status.SUCCESS, again.error
    assert cached_sync_status() == (SyncRun.objects.get(pk=again.pk).finished_at, "")


def test_the_top_bar_says_sync_failing_and_marks_a_last_sync_too_old(client, admin_user, staff_user, settings):
    import datetime as dt

    from django.test import Client
    from django.utils import timezone

    from inbox.context_processors import forget_last_synced

    settings.LAST_SYNCED_CACHE_SECONDS = 0
    staff, admin = client, Client()
    staff.force_login(staff_user)
    admin.force_login(admin_user)
    now = timezone.now()

    def ended(status, minutes, kind=""):
        at = now - dt.timedelta(minutes=minutes)
        SyncRun.objects.create(resource="messages", mode="incremental", status=status, error_kind=kind,
                               started_at=at, finished_at=at)
        forget_last_synced()

    def bar(who):
        return who.get("/inbox/last-synced/", HTTP_HX_REQUEST="true").content.decode()

    ended("success", 3)
    assert 'class="last-synced"' in bar(staff) and ">Synced <time" in bar(staff)
    ended("failed", 2, "unavailable")
    assert 'class="last-synced sync-trouble"' in bar(staff)
    assert ">Sync failing · last synced <time" in bar(staff)
    assert '><a href="/sync/">Sync failing</a> · last synced <time' in bar(admin)
    ended("success", 1)  # the next run succeeded: back to normal
    assert "sync-trouble" not in bar(staff)
    SyncRun.objects.all().delete()
    ended("success", settings.HEALTHZ_MAX_SYNC_AGE // 60 + 5)  # no failure, but nothing since: new mail may be missing
    assert 'class="last-synced sync-trouble"' in bar(staff) and ">Last synced <time" in bar(staff)
