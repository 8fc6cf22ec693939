"""Only help-desk admins reach the admin pages and their posts: anonymous → sign in, staff → 403."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from inbox import context_processors
from inbox.models import SyncRun
from tests.factories import make_success

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def run():
    return make_success("messages", timezone.now())


def pages(run):
    return [
        reverse("accounts-index"),
        reverse("accounts-index") + "?attention=1",
        reverse("sync-index"),
        reverse("sync-run", args=[run.pk]),
    ]


def test_anonymous_are_sent_to_sign_in(client, run):
    for url in pages(run):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=")
    response = client.post(reverse("sync-start"), {"resource": "messages"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert SyncRun.objects.count() == 1


def test_staff_who_are_not_admins_get_403(staff_client, run):
    for url in pages(run):
        assert staff_client.get(url).status_code == 403, url
        assert staff_client.get(url, headers=HX).status_code == 403, url
    for data in ({"resource": "messages", "mode": "incremental"}, {"resource": "accounts"}):
        assert staff_client.post(reverse("sync-start"), data).status_code == 403
    assert SyncRun.objects.count() == 1


def test_staff_see_no_admin_links(staff_client, monkeypatch):
    counted = []
    monkeypatch.setattr(context_processors, "_attention_count", lambda: counted.append(1) or 0)
    response = staff_client.get(reverse("inbox-index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/accounts/"' not in html and 'href="/sync/"' not in html
    assert counted == []  # the attention badge is not even counted for them


@pytest.mark.parametrize("who", ["superuser", "group member"])
def test_admins_get_200_and_may_post(client, run, who, django_user_model, settings, django_capture_on_commit_callbacks):
    if who == "superuser":
        user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    else:
        user = django_user_model.objects.create_user("lead", "lead@example.com", "pw")
        user.groups.add(Group.objects.create(name=settings.HELPDESK_ADMIN_GROUP))
    client.force_login(user)
    for url in pages(run):
        assert client.get(url).status_code in (200, 302), url  # sync-run without htmx → back to /sync/
        assert client.get(url, headers=HX).status_code in (200, 286), url
    with django_capture_on_commit_callbacks(execute=False):  # no worker here: do not queue the task
        response = client.post(reverse("sync-start"), {"resource": "accounts"}, headers=HX)
    assert response.status_code == 200
    assert SyncRun.objects.filter(resource="accounts", trigger="admin", status="queued").count() == 1
    # The nav shows admins both pages.
    html = client.get(reverse("accounts-index")).content.decode()
    assert 'href="/accounts/"' in html and 'href="/sync/"' in html


def test_a_deactivated_admin_is_not_an_admin(client, admin_user):
    client.force_login(admin_user)
    admin_user.is_active = False
    admin_user.save()
    response = client.get(reverse("accounts-index"))
    assert response.status_code in (302, 403)
