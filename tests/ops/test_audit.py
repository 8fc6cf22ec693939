"""The audit trail: Sync now / Full resync presses are recorded, listed on /sync/, read-only in admin."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.models import AdminAction, SyncRun
from inbox.ops.audit import admin_action_record

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def press(admin_client_, django_capture_on_commit_callbacks):
    """Post a sync button as the page does; no worker here, so the task is not queued."""

    def post(resource: str, mode: str = "", *, htmx: bool = True):
        data = {"resource": resource, **({"mode": mode} if mode else {})}
        with django_capture_on_commit_callbacks(execute=False):
            return admin_client_.post(reverse("sync-start"), data, headers=HX if htmx else {})

    return post


class TestRecord:
    def test_keeps_the_username_when_the_user_goes(self, admin_user):
        entry = admin_action_record(user=admin_user, action=AdminAction.Action.SYNC_NOW, detail="Messages")
        admin_user.delete()
        entry.refresh_from_db()
        assert entry.user is None and entry.username == "admin" and entry.detail == "Messages"
        assert entry.created_at <= timezone.now()

    def test_an_unknown_action_is_refused(self, admin_user):
        with pytest.raises(ValueError):
            admin_action_record(user=admin_user, action="reboot")


class TestSyncButtons:
    def test_sync_now_records_who_and_what(self, press, admin_user):
        response = press("messages", "incremental")
        assert response.status_code == 200
        run = SyncRun.objects.get()
        entry = AdminAction.objects.get()
        assert (entry.user, entry.username, entry.action) == (admin_user, "admin", "sync_now")
        assert entry.detail == f"Messages: queued run #{run.pk}"
        assert json.loads(response["HX-Trigger"]) == {"admin-action": {}}  # the list reloads

    def test_full_resync_records_a_full_resync(self, press, admin_user):
        press("messages", "full")
        entry = AdminAction.objects.get()
        assert entry.action == "full_resync" and entry.user == admin_user

    def test_the_accounts_button_and_the_page_without_htmx(self, press):
        response = press("accounts", htmx=False)
        assert response.status_code == 302
        assert AdminAction.objects.get().detail.startswith("Mail accounts: queued run #")

    def test_pressing_while_a_run_is_queued_says_so(self, press):
        press("messages")
        press("messages")
        run = SyncRun.objects.get()
        assert [e.detail for e in AdminAction.objects.all()] == [
            f"Messages: run #{run.pk} was already queued or running",
            f"Messages: queued run #{run.pk}",
        ]

    def test_a_full_resync_pressed_behind_a_queued_sync_is_queued_after_it(self, press):
        press("messages")
        press("messages", "full")
        incremental, full = SyncRun.objects.order_by("pk")
        assert (incremental.mode, full.mode) == ("incremental", "full")
        assert [e.detail for e in AdminAction.objects.all()] == [
            f"Messages: queued run #{full.pk}",
            f"Messages: queued run #{incremental.pk}",
        ]

    def test_a_refused_post_records_nothing(self, admin_client_):
        assert admin_client_.post(reverse("sync-start"), {"resource": "coworkers"}, headers=HX).status_code == 400
        assert not AdminAction.objects.exists()


class TestList:
    def test_sync_page_lists_the_last_twenty_newest_first_with_times(self, admin_client_, admin_user):
        now = timezone.now()
        for n in range(25):
            entry = admin_action_record(user=admin_user, action=AdminAction.Action.SYNC_NOW, detail=f"press {n}")
            AdminAction.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=25 - n))
        html = admin_client_.get(reverse("sync-index")).content.decode()
        section = html.split('id="admin-actions"')[1].split("</section>")[0]
        assert "Recent admin actions" in section
        assert re.findall(r"press (\d+)", section) == [str(n) for n in range(24, 4, -1)]
        assert section.count("<time datetime=") == 20 and ">admin<" in section and "Sync now" in section

    def test_nothing_yet(self, admin_client_):
        html = admin_client_.get(reverse("sync-index")).content.decode()
        assert "No admin has pressed Sync now, Full resync or Unlock yet." in html

    def test_the_list_reloads_as_a_fragment(self, admin_client_, press):
        press("messages")
        response = admin_client_.get(reverse("sync-index"), headers={**HX, "HX-Target": "admin-actions"})
        html = response.content.decode()
        assert html.startswith('<section id="admin-actions"') and "<html" not in html
        assert 'hx-trigger="admin-action from:body"' in html and "Messages: queued run #" in html

    def test_detail_is_escaped(self, admin_client_, admin_user):
        admin_action_record(user=admin_user, action=AdminAction.Action.UNLOCK, detail="<b>x</b>")
        html = admin_client_.get(reverse("sync-index")).content.decode()
        assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


class TestStaffWhoAreNotAdmins:
    def test_can_neither_see_nor_trigger(self, staff_client, admin_user):
        admin_action_record(user=admin_user, action=AdminAction.Action.SYNC_NOW, detail="secret detail")
        assert staff_client.get(reverse("sync-index")).status_code == 403
        fragment = staff_client.get(reverse("sync-index"), headers={**HX, "HX-Target": "admin-actions"})
        assert fragment.status_code == 403 and b"secret detail" not in fragment.content
        for data in ({"resource": "messages"}, {"resource": "messages", "mode": "full"}):
            assert staff_client.post(reverse("sync-start"), data, headers=HX).status_code == 403
        assert AdminAction.objects.count() == 1 and not SyncRun.objects.exists()


class TestDjangoAdmin:
    def test_read_only(self, admin_client_, admin_user):
        entry = admin_action_record(user=admin_user, action=AdminAction.Action.FULL_RESYNC, detail="Messages: queued")
        listing = admin_client_.get("/django-admin/inbox/adminaction/")
        assert listing.status_code == 200 and "Messages: queued" in listing.content.decode()
        change_url = f"/django-admin/inbox/adminaction/{entry.pk}/change/"
        assert admin_client_.get(change_url).status_code == 200  # viewable
        assert admin_client_.post(change_url, {"detail": "edited"}).status_code == 403
        assert admin_client_.get("/django-admin/inbox/adminaction/add/").status_code == 403
        assert admin_client_.post(f"/django-admin/inbox/adminaction/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
        entry.refresh_from_db()
        assert entry.detail == "Messages: queued"
