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
