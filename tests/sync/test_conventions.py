"""A sync works unchanged against either ``dir`` convention and against an API user without the
Business-List role: the sandbox serves each, over real HTTP, and the mirror ends equal to it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from inbox.models import AccountSnapshot, Business, EmailAccount, SyncRun
from inbox.platform.locks import redis_client
from inbox.sync import services as sync
from sandbox import models as sbx
from sandbox import services as sandbox
from tests.sync.fixtures import (  # noqa: F401 (fixtures)
    BOTH_DBS,
    _mirror,
    assert_mirror_equals_source,
    expected_accounts,
    nexudus_sandbox,
    seeded,
)

pytestmark = [pytest.mark.django_db(transaction=True, databases=BOTH_DBS), pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
ASCENDING_DIR = {"developers": 1, "learn": 0}


def ascending_dir_in_another_process() -> str:
    """What a new process (a web or worker process) would send first, from Redis."""
    code = (
        "import django; django.setup(); from inbox.nexudus.configured import nexudus_client; "
        "print(nexudus_client(rate_limiter=None).ascending_dir)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "NEXUDUS_API_URL": settings.NEXUDUS_API_URL}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def forget_convention():
    key = "nexudus:ascending-dir:" + settings.NEXUDUS_API_URL
    redis_client().delete(key)
    yield
    redis_client().delete(key)


@pytest.mark.parametrize("echo", ["integer", "omit"])
@pytest.mark.parametrize("convention", ["developers", "learn"])
def test_full_incremental_and_reconcile_equal_the_source(seeded, forget_convention, caplog, convention, echo):
    sandbox.configure(dir_convention=convention, sort_direction_echo=echo)

    with caplog.at_level(logging.INFO, logger="inbox.nexudus.sort"):
        assert sync.sync_accounts(trigger="test").status == "success"
        full = sync.sync_messages(mode="full", trigger="test")
        assert full.status == "success", full.error
        assert_mirror_equals_source()

        ids = sorted(sbx.CoworkerMessage.objects.values_list("id", flat=True))
        sandbox.add_messages(12)
        sandbox.set_read(ids[5:15], True)
        sandbox.update_message(ids[20], subject="Edited after the first sync")
        incremental = sync.sync_messages(trigger="test")
        assert incremental.status == "success" and incremental.mode == "incremental", incremental.error
        assert incremental.records_created == 12
        assert_mirror_equals_source()

        sandbox.delete_messages(ids[30:33])
        reconcile = sync.sync_messages(mode="full", trigger="test")
        assert reconcile.status == "success" and reconcile.records_deleted == 3, reconcile.error
        assert_mirror_equals_source()

    found = [r.getMessage() for r in caplog.records if "sorts dir=" in r.getMessage()]
    assert len(found) == 1, found  # found once, then remembered
    assert f"sorts dir={ASCENDING_DIR[convention]} ascending" in found[0]
    assert ascending_dir_in_another_process() == str(ASCENDING_DIR[convention])


@pytest.mark.parametrize("status", [401, 403, 404])
def test_accounts_without_business_list_are_synced_with_their_health(seeded, admin_client_, status):
    sandbox.configure(businesses_denied_status=status)

    run = sync.sync_accounts(trigger="test")

    assert run.status == "success", run.error
    assert "Business-List" in run.warning and f"HTTP {status}" in run.warning
    expected = expected_accounts()
    assert _mirror(EmailAccount, list(next(iter(expected.values())).keys())) == expected
    assert not Business.objects.exists()
    assert AccountSnapshot.objects.filter(account_id__in=list(expected)).count() == len(expected)
    accounts_page = admin_client_.get("/accounts/").content.decode()
    business_id = sbx.EmailAccount.objects.exclude(business_id=None).values_list("business_id", flat=True).first()
    assert f"Location {business_id}" in accounts_page
    sync_page = admin_client_.get("/sync/").content.decode()
    assert sync_page.count("lacks the Business-List role") == 1

    # With the role back, the names come and the warning goes.
    sandbox.configure(businesses_denied_status=None)
    again = sync.sync_accounts(trigger="test")
    assert again.status == "success" and again.warning == ""
    assert Business.objects.count() == sbx.Business.objects.count()
    assert "lacks the Business-List role" not in admin_client_.get("/sync/").content.decode()


def test_names_learned_earlier_stay_when_the_role_is_removed(seeded, admin_client_):
    assert sync.sync_accounts(trigger="test").status == "success"
    names = dict(Business.objects.values_list("id", "name"))
    sandbox.configure(businesses_denied_status=403)

    run = sync.sync_accounts(trigger="test")

    assert run.status == "success" and run.warning
    assert dict(Business.objects.values_list("id", "name")) == names
    page = admin_client_.get("/accounts/").content.decode()
    assert all(name in page for name in names.values() if name)
    assert SyncRun.objects.filter(resource="accounts", status="success").count() == 2
