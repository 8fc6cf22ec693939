"""What a page still open meets when the session under it changed: signed out (in another tab, or
expired), or signed in again (a new security token). htmx's requests get answers htmx acts on (the
tab goes to sign in, or reloads and says what was not done), never a sign-in page drawn into the
inbox or a bare 403 that nobody sees."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from inbox.models import MessageMark
from inbox.ops.errors import STALE_FORM
from tests.factories import make_message

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/?unread=1&direction=incoming"}


@pytest.mark.parametrize("url", ["/inbox/live/", "/inbox/last-synced/", "/inbox/counts/?unread=1", "/?unread=1"])
def test_a_poll_or_a_filter_after_signing_out_sends_the_tab_to_sign_in_and_back(client, url):
    response = client.get(url, **HTMX)
    assert response.status_code == 204 and response.content == b""
    assert response["HX-Redirect"] == "/login/?next=%2F%3Funread%3D1%26direction%3Dincoming"


def test_a_page_of_another_site_is_not_where_sign_in_leads_back(client):
    response = client.get("/inbox/live/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://elsewhere.example/?x=1")
    assert response["HX-Redirect"] == "/login/"  # not the fragment htmx asked for, not the other site


def test_without_htmx_the_redirect_is_django_s(client):
    response = client.get("/?unread=1")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/%3Funread%3D1"
    assert "HX-Redirect" not in response


def test_a_signed_in_htmx_request_is_left_alone(staff_client):
    assert staff_client.get("/inbox/live/", **HTMX).status_code in (200, 204)
    assert "HX-Redirect" not in staff_client.get("/?unread=1", **HTMX)


@pytest.fixture
def strict(staff_user):
    """A signed-in browser whose page carries a token the session no longer has."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    browser.cookies["csrftoken"] = "a" * 32
    return browser


def test_a_mark_sent_with_an_old_token_reloads_the_page_and_says_it_was_not_done(strict, staff_user):
    message = make_message()
    response = strict.post("/inbox/mark/", {"ids": [message.pk], "action": "unread"},
                           HTTP_X_CSRFTOKEN="b" * 32, **HTMX)
    assert response.status_code == 403 and response["HX-Refresh"] == "true"
    assert not MessageMark.objects.filter(user=staff_user).exists()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [STALE_FORM]
    page = strict.get("/?unread=1&direction=incoming").content.decode()
    assert 'id="flash"' in page and "the page was out of date" in page


def test_a_plain_form_with_an_old_token_goes_back_to_its_page_and_says_so(strict):
    response = strict.post("/inbox/mark/", {"action": "read"}, HTTP_REFERER="http://testserver/?unread=1")
    assert response.status_code == 302 and response["Location"] == "http://testserver/?unread=1"
    assert "the page was out of date" in strict.get("/?unread=1").content.decode()


def test_the_sign_in_form_left_open_with_an_old_token_comes_back_and_says_so(staff_user):
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = "a" * 32
    response = browser.post("/login/", {"username": "staff", "password": "staff-pass-123", "csrfmiddlewaretoken": "b" * 32},
                            HTTP_REFERER="http://testserver/login/?next=/")
    assert response.status_code == 302 and response["Location"] == "http://testserver/login/?next=/"
    page = browser.get(response["Location"]).content.decode()
    assert "the page was out of date" in page and 'id="id_username"' in page


def test_a_plain_form_from_elsewhere_gets_django_s_refusal(strict):
    response = strict.post("/inbox/mark/", {"action": "read"}, HTTP_REFERER="https://elsewhere.example/")
    assert response.status_code == 403 and "Location" not in response


def test_signed_out_with_an_old_token_goes_to_sign_in(client):
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = "a" * 32
    response = browser.post("/inbox/mark/", {"action": "read"}, HTTP_X_CSRFTOKEN="b" * 32, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/login/?next=")


@pytest.mark.parametrize("url", ["/inbox/mark/", "/inbox/mark-all/", "/inbox/density/", "/sync/start/"])
def test_a_form_s_address_opened_as_a_page_says_so(admin_client_, url):
    """It was a blank page (require_POST's empty 405)."""
    response = admin_client_.get(url)
    assert response.status_code == 405 and "POST" in response["Allow"]
    page = response.content.decode()
    assert "<h1>Not a page</h1>" in page and 'href="/"' in page


def test_a_405_to_htmx_or_to_nobody_signed_in_stays_as_django_wrote_it(admin_client_):
    assert admin_client_.get("/inbox/mark/", HTTP_HX_REQUEST="true").content == b""
    assert Client().get("/inbox/mark/").status_code == 302  # sign in first, as any page
