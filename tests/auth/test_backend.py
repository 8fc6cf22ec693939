"""The signed-in user is read once a request with the admin flag and the row density
(inbox.auth.backends.HelpdeskBackend); both stay right as they change, and a page asks no more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox.auth.backends import HelpdeskBackend
from inbox.auth.permissions import is_helpdesk_admin
from inbox.mailbox.preferences import density_for
from inbox.models import Preference

pytestmark = pytest.mark.django_db


def _tables(queries) -> list[str]:
    return [q["sql"] for q in queries if "auth_user" in q["sql"] or "inbox_preference" in q["sql"]]


@pytest.mark.parametrize("admin, density", [(True, "compact"), (False, None)])
def test_get_user_reads_the_admin_flag_and_the_density_in_the_same_query(staff_user, settings, admin, density):
    if admin:
        Group.objects.create(name=settings.HELPDESK_ADMIN_GROUP).user_set.add(staff_user)
    if density:
        Preference.objects.create(user=staff_user, density=density)
    with CaptureQueriesContext(connection) as queries:
        user = HelpdeskBackend().get_user(staff_user.pk)
        assert is_helpdesk_admin(user) is admin
        assert density_for(user=user) == (density or "comfortable")  # never chosen: comfortable
    assert len(queries) == 1


def test_inactive_or_missing_users_are_not_signed_in(staff_user):
    staff_user.is_active = False
    staff_user.save()
    assert HelpdeskBackend().get_user(staff_user.pk) is None
    assert HelpdeskBackend().get_user(staff_user.pk + 1000) is None


def test_a_user_read_elsewhere_is_still_asked_in_the_database(staff_user, settings):
    """A user object not read by the backend (a shell, a task) carries no annotation: the answer
    comes from the database, not from a default."""
    Group.objects.create(name=settings.HELPDESK_ADMIN_GROUP).user_set.add(staff_user)
    Preference.objects.create(user=staff_user, density="compact")
    assert is_helpdesk_admin(staff_user) is True
    assert density_for(user=staff_user) == "compact"


def test_the_inbox_page_asks_nothing_more_about_the_user(staff_client, staff_user):
    with CaptureQueriesContext(connection) as queries:
        assert staff_client.get(reverse("inbox-index")).status_code == 200
    about_user = _tables(queries.captured_queries)
    assert len(about_user) == 1, about_user  # the session's user, with the flag and the density
    assert "inbox_preference" in about_user[0] and "auth_user_groups" in about_user[0]


def test_joining_or_leaving_the_admin_group_shows_on_the_next_page(staff_client, staff_user, settings):
    group = Group.objects.create(name=settings.HELPDESK_ADMIN_GROUP)
    assert 'href="/sync/"' not in staff_client.get(reverse("inbox-index")).content.decode()
    group.user_set.add(staff_user)
    assert 'href="/sync/"' in staff_client.get(reverse("inbox-index")).content.decode()
    assert staff_client.get(reverse("sync-index")).status_code == 200
    group.user_set.remove(staff_user)
    assert 'href="/sync/"' not in staff_client.get(reverse("inbox-index")).content.decode()
    assert staff_client.get(reverse("sync-index")).status_code == 403


def test_a_density_chosen_on_another_device_shows_on_the_next_page(client, staff_user):
    client.force_login(staff_user)
    assert 'data-density="comfortable"' in client.get(reverse("inbox-index")).content.decode()
    Preference.objects.update_or_create(user=staff_user, defaults={"density": "compact"})
    assert 'data-density="compact"' in client.get(reverse("inbox-index")).content.decode()


def test_signing_in_with_a_password_uses_the_backend(client, staff_user):
    response = client.post(reverse("login"), {"username": "staff", "password": "staff-pass-123"})
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "inbox.auth.backends.HelpdeskBackend"
    assert client.get(reverse("inbox-index")).status_code == 200


def test_a_session_naming_a_user_id_of_the_wrong_shape_signs_nobody_in(staff_user):
    assert HelpdeskBackend().get_user("not-a-number") is None


def test_the_admin_group_named_in_settings_is_the_one_read(staff_user, settings):
    Group.objects.create(name="front-desk-leads").user_set.add(staff_user)
    assert is_helpdesk_admin(HelpdeskBackend().get_user(staff_user.pk)) is False
    settings.HELPDESK_ADMIN_GROUP = "front-desk-leads"
    assert is_helpdesk_admin(HelpdeskBackend().get_user(staff_user.pk)) is True
