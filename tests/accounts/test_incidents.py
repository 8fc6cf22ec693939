"""After each accounts sync: snapshots, incidents, and the alert e-mails (one per incident)."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.utils import timezone

from inbox.accounts.services import alerts
from inbox.accounts.services.incidents import after_accounts_sync
from inbox.models import AccountIncident, AccountSnapshot, EmailAccount
from tests.accounts.fixtures import make_state
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_sync(django_capture_on_commit_callbacks):
    """One accounts sync's bookkeeping at ``now``, with the after-commit alerts sent."""

    def run(now=None):
        with django_capture_on_commit_callbacks(execute=True):
            after_accounts_sync(run=None, now=now or timezone.now())

    return run


@pytest.fixture(autouse=True)
def _recipients(admin_user):
    return admin_user  # a superuser with an e-mail: the default recipient


def set_fields(account: EmailAccount, **fields) -> None:
    EmailAccount.objects.filter(pk=account.pk).update(**fields)


class TestAlerts:
    def test_one_mail_when_failing_none_while_failing_one_on_recovery(self, run_sync):
        now = timezone.now()
        account = make_state("healthy", now, display_name="Front desk", email_address="desk@example.com")
        run_sync(now)
        assert mail.outbox == []

        set_fields(account, error_count=9)
        run_sync(now + timedelta(minutes=5))
        assert len(mail.outbox) == 1
        alert = mail.outbox[0]
        assert alert.to == ["admin@example.com"]
        assert alert.subject == "[Help desk] Mail account failing: Front desk"
        assert "desk@example.com" in alert.body
        assert "9 errors since the last successful check (more than 5)" in alert.body
        assert "/accounts/" in alert.body

        for minutes in (10, 15, 20):
            set_fields(account, error_count=9 + minutes)
            run_sync(now + timedelta(minutes=minutes))
        assert len(mail.outbox) == 1
        assert AccountIncident.objects.filter(account=account).count() == 1

        set_fields(account, error_count=0)
        run_sync(now + timedelta(minutes=25))
        assert len(mail.outbox) == 2
        recovery = mail.outbox[1]
        assert recovery.subject == "[Help desk] Mail account recovered: Front desk"
        assert "it is healthy again" in recovery.body
        incident = AccountIncident.objects.get(account=account)
        assert incident.closed_at == now + timedelta(minutes=25)
        assert incident.opened_alert_sent_at and incident.closed_alert_sent_at

        run_sync(now + timedelta(minutes=30))
        assert len(mail.outbox) == 2

    def test_an_account_failing_at_the_first_look_is_failing_since_then_at_least(self, run_sync):
        """Its incident opens when the help desk first looks: not when it began to fail."""
        now = timezone.now()
        already = make_state("failing", now, display_name="Canal Members")
        run_sync(now)
        incident = AccountIncident.objects.get(account=already)
        assert incident.at_first_look and incident.opened_at == now
        assert "Failing since: at least " in mail.outbox[0].body  # was "since: 12:24 at least"
        assert "(already failing when the help desk first looked)" in mail.outbox[0].body
        # One the help desk saw healthy first turns failing: that moment is when it began.
        later = make_state("healthy", now, display_name="Front desk")
        run_sync(now + timedelta(minutes=5))
        set_fields(later, error_count=9)
        run_sync(now + timedelta(minutes=10))
        turned = AccountIncident.objects.get(account=later)
        assert not turned.at_first_look and turned.opened_at == now + timedelta(minutes=10)
        assert "at least" not in mail.outbox[-1].body

    def test_failing_again_later_is_a_new_incident_with_its_own_alerts(self, run_sync):
        now = timezone.now()
        account = make_state("failing", now)
        run_sync(now)
        set_fields(account, error_count=0)
        run_sync(now + timedelta(minutes=5))
        set_fields(account, error_count=30)
        run_sync(now + timedelta(minutes=10))
        assert [m.subject.split(":")[0] for m in mail.outbox] == [
            "[Help desk] Mail account failing",
            "[Help desk] Mail account recovered",
            "[Help desk] Mail account failing",
        ]
        assert AccountIncident.objects.filter(account=account).count() == 2

    def test_many_accounts_failing_at_once_make_one_mail(self, run_sync):
        now = timezone.now()
        names = [make_state("failing", now, display_name=f"Desk {n}").display_name for n in range(4)]
        make_state("healthy", now)
        run_sync(now)
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject.startswith("[Help desk] 4 mail accounts failing:")
        assert mail.outbox[0].subject.endswith("and 1 more")
        for name in names:
            assert name in mail.outbox[0].body
        assert AccountIncident.objects.filter(closed_at__isnull=True).count() == 4

    def test_a_warning_is_not_an_incident(self, run_sync):
        make_state("erroring", timezone.now())
        run_sync()
        assert mail.outbox == [] and not AccountIncident.objects.exists()

    def test_deactivating_or_removing_a_failing_account_ends_its_incident(self, run_sync):
        now = timezone.now()
        off = make_state("failing", now, display_name="Switched off")
        gone = make_state("failing", now, display_name="Gone")
        run_sync(now)
        set_fields(off, active=False)
        set_fields(gone, deleted_at=now)
        run_sync(now + timedelta(minutes=5))
        assert len(mail.outbox) == 2
        body = mail.outbox[1].body
        assert "the account was deactivated in Nexudus" in body
        assert "the account was removed from Nexudus" in body
        assert not AccountIncident.objects.filter(closed_at__isnull=True).exists()

    def test_recovering_to_a_warning_says_what_is_left(self, run_sync):
        now = timezone.now()
        account = make_state("failing", now)
        run_sync(now)
        set_fields(account, error_count=2)
        run_sync(now + timedelta(minutes=5))
        assert "still needs attention: 2 errors since the last successful check" in mail.outbox[1].body

    def test_recipients_from_the_setting_win(self, run_sync, settings):
        settings.HELPDESK_ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
        make_state("failing", timezone.now())
        run_sync()
        assert mail.outbox[0].to == ["ops@example.com", "oncall@example.com"]

    def test_recipients_are_superusers_and_the_admin_group(self, django_user_model, settings):
        group = Group.objects.create(name=settings.HELPDESK_ADMIN_GROUP)
        lead = django_user_model.objects.create_user("lead", email="lead@example.com")
        lead.groups.add(group)
        django_user_model.objects.create_user("staff", email="staff@example.com")
        django_user_model.objects.create_user("gone", email="gone@example.com", is_active=False).groups.add(group)
        django_user_model.objects.create_superuser("root", email="")  # no address: skipped
        assert alerts.alert_recipients() == ["admin@example.com", "lead@example.com"]

    def test_no_one_to_tell_is_not_an_error(self, run_sync, admin_user):
        admin_user.email = ""
        admin_user.save()
        make_state("failing", timezone.now())
        run_sync()
        assert mail.outbox == []

    def test_a_failed_send_is_retried_by_the_next_sync(self, run_sync):
        now = timezone.now()
        make_state("failing", now)
        with mock.patch("inbox.accounts.services.alerts.send_mail", side_effect=ConnectionRefusedError("SMTP down")):
            run_sync(now)
        assert mail.outbox == []
        assert AccountIncident.objects.get().opened_alert_sent_at is None
        run_sync(now + timedelta(minutes=5))
        assert len(mail.outbox) == 1
        run_sync(now + timedelta(minutes=10))
        assert len(mail.outbox) == 1

    def test_account_names_cannot_inject_headers(self, run_sync):
        make_state("failing", timezone.now(), display_name="Desk\r\nBcc: evil@example.com")
        run_sync()
        (alert,) = mail.outbox
        assert alert.subject == "[Help desk] Mail account failing: Desk Bcc: evil@example.com"
        assert alert.bcc == []


class TestSnapshots:
    def test_a_snapshot_per_account_when_something_changed_else_hourly(self, run_sync):
        now = timezone.now()
        a = make_state("healthy", now)
        b = make_state("erroring", now)
        run_sync(now)
        assert AccountSnapshot.objects.count() == 2
        snap = AccountSnapshot.objects.get(account=b)
        assert (snap.status, snap.error_count, snap.active) == ("warning", 2, True)

        run_sync(now + timedelta(minutes=5))  # nothing changed
        assert AccountSnapshot.objects.count() == 2
        set_fields(b, error_count=3)
        run_sync(now + timedelta(minutes=10))  # b changed
        assert AccountSnapshot.objects.filter(account=b).count() == 2
        assert AccountSnapshot.objects.filter(account=a).count() == 1
        run_sync(now + timedelta(minutes=61))  # a's heartbeat is due, b's (at +10) is not
        assert AccountSnapshot.objects.filter(account=a).count() == 2
        assert AccountSnapshot.objects.filter(account=b).count() == 2

    def test_removed_accounts_get_no_snapshots(self, run_sync):
        make_state("healthy", timezone.now(), deleted_at=timezone.now())
        run_sync()
        assert not AccountSnapshot.objects.exists()

    def test_old_snapshots_are_pruned(self, run_sync, settings):
        settings.HEALTH_SNAPSHOT_DAYS = 30
        now = timezone.now()
        account = make_state("healthy", now)
        AccountSnapshot.objects.create(account=account, taken_at=now - timedelta(days=31), status="healthy")
        kept = AccountSnapshot.objects.create(account=account, taken_at=now - timedelta(days=29), status="healthy")
        run_sync(now)
        assert set(AccountSnapshot.objects.values_list("taken_at", flat=True)) == {kept.taken_at, now}

    def test_nulls_everywhere_are_snapshotted(self, run_sync):
        make_account(active=None, error_count=None, last_check_time=None, incoming_server=None, created_on=None)
        run_sync()
        snap = AccountSnapshot.objects.get()
        assert snap.status == "failing" and snap.error_count is None


@pytest.mark.django_db(transaction=True)
def test_overlapping_syncs_open_one_incident_and_send_one_mail(admin_user):
    account = make_state("failing", timezone.now())
    now = timezone.now()
    errors, barrier = [], threading.Barrier(4)

    def one_sync():
        try:
            barrier.wait()
            after_accounts_sync(run=None, now=now)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_sync) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert AccountIncident.objects.filter(account=account).count() == 1
    assert len(mail.outbox) == 1
