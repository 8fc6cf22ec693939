"""Sign-in throttling (django-axes, ``inbox.auth.throttle``): real database, real test client, real views."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.utils import timezone

from inbox.auth.throttle import client_ip
from tests.auth.fixtures import ELSEWHERE, cool_off_passes, fail, sign_in, signed_in

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins for this account; try again in 15 minutes or ask an admin to unlock it."
MISMATCH = "That username and password did not match."


class TestPerAccount:
    def test_five_wrong_passwords_lock_then_the_cool_off_frees(self, client, staff_user):
        responses = fail(client, "staff", 5)
        assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
        assert MISMATCH in responses[3].content.decode()

        refused = sign_in(client, "staff", "staff-pass-123")
        assert refused.status_code == 429
        html = refused.content.decode()
        assert LOCKED in html and MISMATCH not in html
        assert "registration/login.html" in [t.name for t in refused.templates]  # the app's own page
        assert 'value="staff"' in html  # the username stays filled in
        assert not signed_in(client)

        cool_off_passes()
        accepted = sign_in(client, "staff", "staff-pass-123")
        assert accepted.status_code == 302 and accepted["Location"] == "/"
        assert signed_in(client)

    def test_each_refused_try_starts_the_cool_off_again(self, client, staff_user):
        fail(client, "staff", 5)
        cool_off_passes(minutes=10)
        assert sign_in(client, "staff", "staff-pass-123").status_code == 429  # at minute 10
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
        assert sign_in(client, "staff", "staff-pass-123").status_code == 429  # 20 min after the 5th
        cool_off_passes()
        assert sign_in(client, "staff", "staff-pass-123").status_code == 302

    def test_the_same_username_from_another_address_still_signs_in(self, client, staff_user):
        """Someone guessing from elsewhere cannot lock the real person out."""
        fail(client, "staff", 6)
        assert sign_in(client, "staff", "staff-pass-123").status_code == 429
        assert sign_in(Client(), "staff", "staff-pass-123", ip=ELSEWHERE).status_code == 302

    def test_a_success_forgets_only_that_usernames_failures(self, client, staff_user):
        fail(client, "staff", 4)
        assert sign_in(client, "staff", "staff-pass-123").status_code == 302
        client.logout()
        assert [r.status_code for r in fail(client, "staff", 4)] == [200] * 4  # counted from zero again

    def test_limit_and_cool_off_are_settings(self, client, staff_user, settings):
        settings.AXES_FAILURE_LIMIT = 2
        settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
        assert [r.status_code for r in fail(client, "staff", 2)] == [200, 429]
        refused = sign_in(client, "staff", "staff-pass-123")
        assert "try again in 1 minute or ask an admin" in refused.content.decode()
        cool_off_passes(minutes=1)
        assert sign_in(client, "staff", "staff-pass-123").status_code == 302


class TestPerAddress:
    def test_one_address_trying_many_usernames_is_locked_at_twenty(self, client, staff_user):
        statuses = []
        for name in ("ann", "bob", "cat", "dan", "eve"):  # 4 each: no username reaches its limit of 5
            statuses += [r.status_code for r in fail(client, name, 4)]
        assert statuses == [200] * 19 + [429]

        refused = sign_in(client, "staff", "staff-pass-123")
        assert refused.status_code == 429 and LOCKED in refused.content.decode()
        assert sign_in(Client(), "staff", "staff-pass-123", ip=ELSEWHERE).status_code == 302
        cool_off_passes()
        assert sign_in(client, "staff", "staff-pass-123").status_code == 302

    def test_a_known_password_does_not_clear_the_addresss_count(self, client, staff_user):
        for name in ("ann", "bob", "cat", "dan"):
            fail(client, name, 4)
        assert sign_in(client, "staff", "staff-pass-123").status_code == 302
        client.logout()
        assert [r.status_code for r in fail(client, "eve", 4)] == [200, 200, 200, 429]


class TestDjangoAdmin:
    URL = "/django-admin/login/?next=/django-admin/"

    def test_wrong_passwords_lock_the_admin_sign_in_too(self, client, admin_user):
        responses = fail(client, "admin", 5, url=self.URL)
        assert [r.status_code for r in responses] == [200] * 4 + [429]
        refused = sign_in(client, "admin", "admin-pass-123", url=self.URL)
        assert refused.status_code == 429
        html = refused.content.decode()
        assert LOCKED in html
        assert 'id="login-form"' in html and "admin/locked_out.html" in [t.name for t in refused.templates]
        assert client.get("/django-admin/").status_code == 302  # not signed in

        cool_off_passes()
        accepted = sign_in(client, "admin", "admin-pass-123", url=self.URL)
        assert accepted.status_code == 302 and accepted["Location"] == "/django-admin/"

    def test_failures_count_across_both_pages(self, client, admin_user):
        fail(client, "admin", 3)
        fail(client, "admin", 2, url=self.URL)
        assert sign_in(client, "admin", "admin-pass-123").status_code == 429

    def test_axes_pages_are_in_django_admin(self, client, admin_user):
        fail(client, "someone", 5)
        client.force_login(admin_user)
        response = client.get("/django-admin/axes/accessattempt/")
        assert response.status_code == 200 and "someone" in response.content.decode()


class TestLogging:
    def test_sign_ins_and_lockouts_are_logged_without_passwords(self, client, staff_user, caplog):
        caplog.set_level(logging.INFO)
        fail(client, "staff", 5)
        sign_in(client, "staff", "staff-pass-123")
        lockouts = [r for r in caplog.records if r.name == "inbox.auth.throttle" and r.levelno == logging.WARNING]
        assert len(lockouts) == 2  # the 5th failure, and the refused try after it
        assert "locked out: username 'staff' from 203.0.113.10 at /login/" in lockouts[0].getMessage()

        caplog.clear()
        cool_off_passes()
        sign_in(client, "staff", "staff-pass-123")
        assert "Signed in: staff from 203.0.113.10 at /login/" in caplog.text
        assert "staff-pass-123" not in caplog.text and "not-the-password" not in caplog.text

    def test_the_stored_attempts_hold_no_password(self, client, staff_user):
        fail(client, "staff", 2)
        attempt = AccessAttempt.objects.get()
        assert "not-the-password" not in attempt.post_data


class TestClientAddress:
    factory = RequestFactory()

    def request(self, **meta):
        return self.factory.post("/login/", REMOTE_ADDR="10.0.0.2", **meta)

    def test_remote_addr_by_default(self):
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR="1.2.3.4")) == "10.0.0.2"

    @pytest.mark.parametrize(
        ("header", "count", "value", "expected"),
        [
            ("X-Forwarded-For", 1, "203.0.113.7", "203.0.113.7"),
            ("X-Forwarded-For", 1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the left one is forgeable
            ("HTTP_X_FORWARDED_FOR", 2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
            ("X-Real-IP", 1, " 2001:db8::1 ", "2001:db8::1"),
            ("X-Forwarded-For", 2, "203.0.113.7", "10.0.0.2"),  # fewer than the proxies: not trusted
            ("X-Forwarded-For", 1, "unknown", "10.0.0.2"),
            ("X-Forwarded-For", 1, "", "10.0.0.2"),
        ],
    )
    def test_behind_a_proxy_its_header(self, settings, header, count, value, expected):
        settings.LOGIN_CLIENT_IP_HEADER, settings.LOGIN_PROXY_COUNT = header, count
        key = "HTTP_" + header.upper().replace("-", "_").removeprefix("HTTP_")
        assert client_ip(self.request(**{key: value})) == expected

    def test_a_forged_left_part_does_not_escape_the_lockout(self, client, staff_user, settings):
        settings.LOGIN_CLIENT_IP_HEADER = "X-Forwarded-For"
        for n in range(5):
            client.post(
                "/login/", {"username": "staff", "password": "wrong"},
                REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.7",
            )
        response = client.post(
            "/login/", {"username": "staff", "password": "staff-pass-123"},
            REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.99, 203.0.113.7",
        )
        assert response.status_code == 429
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_force_login_still_signs_in(client, staff_user):
    client.force_login(staff_user)
    assert client.get("/").status_code == 200
