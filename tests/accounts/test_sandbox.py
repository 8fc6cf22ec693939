"""``/accounts/`` against the sandbox's accounts in every state, synced for real over HTTP.

The sandbox generator gives every health profile (``sandbox.fake.accounts.ACCOUNT_PROFILES``); the
accounts sync copies them through the Nexudus client, and the page must name each one's state
and reasons. Then the alerts and the secrets, end to end.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail

from inbox.accounts.selectors import forget_cached
from inbox.models import AccountIncident, AccountSnapshot, EmailAccount
from inbox.sync.services import sync_accounts, sync_messages
from sandbox import services as sandbox
from sandbox.fake.accounts import SECRET_MARKER
from sandbox.models import EmailAccount as SandboxAccount
from tests.accounts.fixtures import sandbox_client

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

# profile → (status, reason codes that must be there); "silent" may join any active account whose
# generated mail stopped more than HEALTH_SILENT_DAYS ago.
EXPECTED = {
    "healthy": ("healthy", set()),
    "failing": ("failing", {"errors"}),
    "warning": ("warning", {"errors"}),
    "inactive": ("inactive", {"inactive"}),
    "stale": ("failing", {"stale"}),
    "never_checked": ("failing", {"never_checked"}),
    "ssl_off": ("warning", {"insecure_incoming", "insecure_outgoing"}),
    "ssl_off_outgoing": ("warning", {"insecure_outgoing"}),
    "no_incoming_server": ("failing", {"no_incoming_server", "never_checked", "errors"}),
    "port_zero": ("failing", {"no_incoming_port", "errors"}),
    "unknown_server_type": ("failing", {"unknown_server_type"}),
    "google": ("healthy", set()),
    "office365": ("healthy", set()),
}


@pytest.fixture
def synced(sandbox_source, admin_user):
    forget_cached()
    sandbox.seed(accounts=16, customers=60, messages=1500)
    client = sandbox_client()
    assert sync_messages(mode="full", client=client).status == "success"
    assert sync_accounts(client=client).status == "success"
    yield {a.id: a.profile for a in SandboxAccount.objects.using("sandbox").all()}
    forget_cached()


def row_of(html: str, pk: int) -> str:
    return html.split(f'id="account-{pk}"')[1].split("</tr>")[0]


def test_every_sandbox_state_gets_its_status_and_reasons(admin_client_, synced):
    html = admin_client_.get("/accounts/").content.decode()
    statuses = dict(re.findall(r'<tr id="account-(\d+)"[^>]*data-status="(\w+)"', html))
    assert len(statuses) == 16
    assert set(synced.values()) == set(EXPECTED)
    for pk, profile in synced.items():
        status, required = EXPECTED[profile]
        codes = set(re.findall(r'data-code="(\w+)"', row_of(html, pk)))
        assert required <= codes, (profile, codes)
        assert codes - required <= {"silent"}, (profile, codes)
        expected_status = "warning" if status == "healthy" and "silent" in codes else status
        assert statuses[str(pk)] == expected_status, (profile, codes)
    # Plain words with numbers, as the page shows them.
    assert "12 errors since the last successful check (more than 5)" in html
    assert "Last checked 3 days ago" in html
    assert "Unknown incoming server type 7" in html
    # Several locations: grouped under their names.
    assert len(re.findall(r"<h2>", html)) >= 2


def test_the_failing_come_first_and_the_filter_keeps_those_needing_attention(admin_client_, synced):
    html = admin_client_.get("/accounts/").content.decode()
    first_group = html.split('<section class="account-group"')[1]
    assert re.search(r'data-status="(\w+)"', first_group).group(1) == "failing"
    attention = admin_client_.get("/accounts/?attention=1").content.decode()
    shown = set(re.findall(r'data-status="(\w+)"', attention))
    assert shown <= {"failing", "warning"} and "failing" in shown
    badge = re.search(r'<span class="badge badge-danger"[^>]*>(\d+)</span>', attention).group(1)
    assert int(badge) == len(re.findall(r'<tr id="account-', attention))


def test_tokens_never_reach_the_page_the_database_the_mail_or_the_logs(admin_client_, synced, caplog):
    caplog.set_level(logging.DEBUG)
    assert SandboxAccount.objects.using("sandbox").filter(google_access_token__contains=SECRET_MARKER).exists()
    html = admin_client_.get("/accounts/").content.decode()
    assert SECRET_MARKER not in html
    assert "Google connected" in html and "Office 365 connected" in html
    for row in EmailAccount.objects.values():
        assert SECRET_MARKER not in repr(row)
    assert all(SECRET_MARKER not in m.subject + m.body for m in mail.outbox)
    # Another sync with alerts going out, logged at DEBUG.
    failing = next(pk for pk, p in synced.items() if p == "failing")
    sandbox.update_account(failing, error_count=0)
    sync_accounts(client=sandbox_client())
    assert SECRET_MARKER not in caplog.text
    assert all(SECRET_MARKER not in m.subject + m.body for m in mail.outbox)


def test_alerts_one_when_failing_none_while_failing_one_on_recovery(admin_client_, synced):
    failing_ids = {pk for pk, p in synced.items() if EXPECTED[p][0] == "failing"}
    assert len(mail.outbox) == 1  # the first sync found them all failing: one mail names them all
    first = mail.outbox[0]
    assert f"{len(failing_ids)} mail accounts failing" in first.subject
    for account in EmailAccount.objects.filter(pk__in=failing_ids):
        assert account.display_name in first.body
    assert set(AccountIncident.objects.filter(closed_at__isnull=True).values_list("account_id", flat=True)) == failing_ids

    sync_accounts(client=sandbox_client())  # still failing: nothing new
    assert len(mail.outbox) == 1

    fixed = next(pk for pk, p in synced.items() if p == "failing")
    sandbox.update_account(fixed, error_count=0)
    sync_accounts(client=sandbox_client())
    assert len(mail.outbox) == 2
    recovery = mail.outbox[1]
    name = EmailAccount.objects.get(pk=fixed).display_name
    assert recovery.subject == f"[Help desk] Mail account recovered: {name}"
    html = admin_client_.get("/accounts/").content.decode()
    assert "Failing since" not in row_of(html, fixed)
    assert "Failing since" in row_of(html, next(iter(failing_ids - {fixed})))


def test_snapshots_record_the_history(synced):
    assert AccountSnapshot.objects.count() == 16
    failing = next(pk for pk, p in synced.items() if p == "failing")
    sandbox.update_account(failing, error_count=20)
    sync_accounts(client=sandbox_client())
    history = list(AccountSnapshot.objects.filter(account_id=failing).order_by("taken_at").values_list("error_count", flat=True))
    assert history == [12, 20]
