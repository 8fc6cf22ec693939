"""``/lockouts/``: the sign-ins locked out now, and Unlock (recorded in the audit trail)."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from inbox.models import AdminAction
from tests.auth.fixtures import ELSEWHERE, HOME, cool_off_passes, fail, sign_in

pytestmark = pytest.mark.django_db

URL = "/lockouts/"


def test_url_names_are_the_contract():
    assert reverse("lockouts-index") == URL
    assert reverse("lockouts-unlock") == "/lockouts/unlock/"


def rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-username="([^"]*)" data-address="([^"]*)">', html)


class TestPage:
    def test_lists_what_is_locked_out_now(self, admin_client_, staff_user):
        fail(Client(), "staff", 5)  # locked: staff from HOME
        fail(Client(), "staff", 3, ip=ELSEWHERE)  # below the limit: not listed
        for name in ("ann", "bob", "cat", "dan", "eve"):
            fail(Client(), name, 4, ip="192.0.2.30")  # the address is locked
        response = admin_client_.get(URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert set(rows(html)) == {("staff", HOME), ("", "192.0.2.30")}
        assert "<em>every username</em>" in html
        assert 'aria-label="Unlock staff from 203.0.113.10"' in html
        assert "After 5 failed sign-ins of one username from one address, or 20 from one address" in html

    def test_a_lockout_past_its_cool_off_is_gone(self, admin_client_, staff_user):
        fail(Client(), "staff", 5)
        cool_off_passes()
        assert "No sign-in is locked out." in admin_client_.get(URL).content.decode()

    def test_the_nav_links_it_for_admins_only(self, admin_client_, staff_user):
        assert 'href="/lockouts/"' in admin_client_.get(reverse("inbox-index")).content.decode()
        staff = Client()
        staff.force_login(staff_user)
        assert 'href="/lockouts/"' not in staff.get(reverse("inbox-index")).content.decode()


class TestUnlock:
    def test_an_admin_unlocks_and_the_person_signs_in_at_once(self, admin_client_, admin_user, staff_user):
        person = Client()
        fail(person, "staff", 5)
        assert sign_in(person, "staff", "staff-pass-123").status_code == 429

        response = admin_client_.post(reverse("lockouts-unlock"), {"username": "staff", "ip_address": HOME})
        assert response.status_code == 302 and response["Location"] == URL
        page = admin_client_.get(URL).content.decode()
        assert "Unlocked sign-ins of staff from 203.0.113.10" in page and "No sign-in is locked out." in page

        assert sign_in(person, "staff", "staff-pass-123").status_code == 302
        entry = AdminAction.objects.get()
        assert (entry.user, entry.action, entry.detail) == (admin_user, "unlock", "Sign-ins of staff from 203.0.113.10")
        assert "Sign-ins of staff from 203.0.113.10" in admin_client_.get(reverse("sync-index")).content.decode()

    def test_unlocking_one_username_leaves_the_others(self, admin_client_, staff_user):
        fail(Client(), "staff", 5)
        fail(Client(), "ann", 5)
        admin_client_.post(reverse("lockouts-unlock"), {"username": "staff", "ip_address": HOME})
        assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"ann"}

    def test_unlocking_an_address(self, admin_client_, staff_user):
        for name in ("ann", "bob", "cat", "dan", "eve"):
            fail(Client(), name, 4)
        assert sign_in(Client(), "staff", "staff-pass-123").status_code == 429
        admin_client_.post(reverse("lockouts-unlock"), {"username": "", "ip_address": HOME})
        assert sign_in(Client(), "staff", "staff-pass-123").status_code == 302
        assert AdminAction.objects.get().detail == "Sign-ins of every username from 203.0.113.10"

    @pytest.mark.parametrize("data", [{}, {"username": "staff"}, {"username": "staff", "ip_address": "nowhere"}])
    def test_a_bad_post_is_400_and_unlocks_nothing(self, admin_client_, staff_user, data):
        fail(Client(), "staff", 5)
        response = admin_client_.post(reverse("lockouts-unlock"), data)
        assert response.status_code == 400 and response.content
        assert AccessAttempt.objects.exists() and not AdminAction.objects.exists()

    def test_get_is_not_allowed(self, admin_client_):
        assert admin_client_.get(reverse("lockouts-unlock")).status_code == 405


class TestPermissions:
    def test_staff_who_are_not_admins_get_403_and_unlock_nothing(self, staff_client, staff_user):
        fail(Client(), "staff", 5)
        assert staff_client.get(URL).status_code == 403
        response = staff_client.post(reverse("lockouts-unlock"), {"username": "staff", "ip_address": HOME})
        assert response.status_code == 403
        assert AccessAttempt.objects.exists() and not AdminAction.objects.exists()

    def test_anonymous_are_sent_to_sign_in(self, client):
        for response in (client.get(URL), client.post(reverse("lockouts-unlock"), {"ip_address": HOME})):
            assert response.status_code == 302 and response["Location"].startswith("/login/")
