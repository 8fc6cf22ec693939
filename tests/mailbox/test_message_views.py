"""/messages/<Id>/ (page and reader-pane fragment), its body document, the read/unread endpoints."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from inbox.ops.middleware import APP_POLICY
from inbox.models import MessageMark
from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import message_list
from tests.factories import BASE_TIME, make_message

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(pk, name="message-detail"):
    return reverse(name, args=[pk])


def unread_for(user) -> set[int]:
    return set(message_list(user=user, filters=InboxFilters(unread=True)).values_list("pk", flat=True))


def marked_event(response) -> dict:
    return json.loads(response["HX-Trigger"])["messageMarked"]


@pytest.fixture
def second_client(django_user_model):
    user = django_user_model.objects.create_user(username="second", password="second-pass-123")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


class TestPage:
    def test_full_page_shows_headers_and_frames_the_body(self, staff_client):
        m = make_message(
            subject="Heating broken", message_id=7, reminder_unique_id="rem-123", incoming=True,
            coworker_id=4242, coworker_full_name="Ada Lovelace", coworker_email="ada@example.com",
            coworker_company_name="Analytical Engines Ltd", email_account_display_name="Front desk",
            email_account_email_address="frontdesk@space.example",
            body="<p>Body of message 1</p>", body_text="Body of message 1",
        )  # fmt: skip
        response = staff_client.get(url(m.pk))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html and "css/message.css" in html
        for text in ("Heating broken", "Ada Lovelace", "ada@example.com", "Analytical Engines Ltd",
                     "Front desk", "frontdesk@space.example", "Received from the customer",
                     "BookingConfirmation (7)", "rem-123", str(m.pk)):  # fmt: skip
            assert text in html, text
        assert f'src="{url(m.pk, "message-body")}"' in html
        assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in html
        assert "Body of message" not in html  # the body is never in the page itself
        assert reverse("customer-detail", args=[4242]) in html

    def test_fragment_for_htmx(self, staff_client):
        m = make_message()
        response = staff_client.get(url(m.pk), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html and 'class="message' in html
        assert "css/message.css" in html  # the pane brings its own stylesheet
        assert "HX-Request" in response["Vary"]
        assert "Open full page" in html

    @pytest.mark.parametrize("header", ["HTTP_HX_HISTORY_RESTORE_REQUEST", "HTTP_HX_BOOSTED"])
    def test_history_restore_and_boosted_get_the_page(self, staff_client, header):
        m = make_message()
        response = staff_client.get(url(m.pk), **HTMX, **{header: "true"})
        assert "<html" in response.content.decode()

    def test_outgoing_swaps_from_and_to(self, staff_client):
        m = make_message(incoming=False, email_account_id=None, email_account_display_name=None,
                         coworker_full_name="Ada Lovelace")
        html = staff_client.get(url(m.pk)).content.decode()
        assert "Sent to the customer" in html
        meta = html[html.index('<dl class="message-meta">'):]
        assert meta.index("Default location settings") < meta.index("Ada Lovelace")

    def test_template_zero_is_said_to_be_ambiguous(self, staff_client):
        m = make_message(message_id=0)
        assert "also gives 0 to messages sent by hand" in staff_client.get(url(m.pk)).content.decode()

    def test_hostile_headers_are_escaped(self, staff_client):
        evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
        m = make_message(subject=evil, coworker_full_name=evil, coworker_email=evil, coworker_company_name=evil,
                         email_account_display_name=evil, reminder_unique_id=evil, updated_by=evil)  # fmt: skip
        for page in (url(m.pk), reverse("customer-detail", args=[m.coworker_id])):
            html = staff_client.get(page).content.decode()
            assert "<script>alert" not in html and "<img src=x" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_a_message_without_customer_or_known_template(self, staff_client):
        m = make_message(coworker_id=None, coworker_full_name=None, coworker_email=None, message_id=57)
        html = staff_client.get(url(m.pk)).content.decode()
        assert "Unknown customer" in html and "Unknown template (57)" in html
        assert "/customers/" not in html

    def test_relative_and_exact_times(self, staff_client):
        m = make_message(created_on=dt.datetime(2025, 1, 15, 10, 30, tzinfo=dt.UTC))
        html = staff_client.get(url(m.pk)).content.decode()
        assert 'datetime="2025-01-15T10:30:00+00:00"' in html
        assert "Wed 15 Jan 2025, 10:30" in html and " ago)" in html

    def test_null_body_says_no_content_without_a_frame(self, staff_client):
        m = make_message(body=None, body_text="")
        html = staff_client.get(url(m.pk)).content.decode()
        assert "(no content)" in html and "<iframe" not in html

    def test_remote_images_button_only_when_there_are_some(self, staff_client):
        plain = make_message()
        assert "Show remote images" not in staff_client.get(url(plain.pk)).content.decode()
        pic = make_message(body='<p>Hi</p><img src="https://img.example/a.png">')
        html = staff_client.get(url(pic.pk)).content.decode()
        assert "1 remote image blocked" in html and "Show remote images" in html
        shown = staff_client.get(url(pic.pk) + "?images=1").content.decode()
        assert f'src="{url(pic.pk, "message-body")}?images=1"' in shown
        assert "Hide them" in shown

    def test_deleted_in_nexudus_is_shown_with_a_banner(self, staff_client):
        m = make_message(deleted_at=BASE_TIME)
        html = staff_client.get(url(m.pk)).content.decode()
        assert "Deleted in Nexudus." in html

    @pytest.mark.parametrize(
        "path",
        ["/messages/999999/", "/messages/0/", "/messages/abc/", "/messages/-1/", "/messages/1.5/",
         f"/messages/{2**63}/", "/messages/99999999999999999999999999/", "/messages/%F0%9F%92%A5/"],
    )  # fmt: skip
    def test_unknown_or_unparseable_ids_are_404(self, staff_client, path):
        response = staff_client.get(path)
        assert response.status_code == 404

    def test_unknown_id_gets_a_friendly_page(self, staff_client):
        response = staff_client.get("/messages/999999/")
        assert response.status_code == 404
        page = response.content.decode()
        assert '<h1 id="message-subject">No message 999999</h1>' in page and "Back to the inbox" in page
        # In the reader pane: a heading under the list's, and the pane's Close (not a link that
        # reloads the inbox).
        pane = staff_client.get("/messages/999999/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="reader").content.decode()
        assert '<h2 id="message-subject">No message 999999</h2>' in pane
        assert "data-close-reader" in pane and "Back to the inbox" not in pane and "<html" not in pane

    def test_signed_out_is_sent_to_sign_in(self, client):
        m = make_message()
        response = client.get(url(m.pk))
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert client.get(url(m.pk, "message-body")).status_code == 302

    def test_post_is_not_allowed(self, staff_client):
        assert staff_client.post(url(make_message().pk)).status_code == 405


class TestOpeningMarksRead:
    def test_opening_marks_read_for_that_person_only(self, staff_client, staff_user, second_client):
        m = make_message(is_new_message=True)
        assert m.pk in unread_for(staff_user) and m.pk in unread_for(second_client.user)
        response = staff_client.get(url(m.pk))
        assert marked_event(response) == {"id": m.pk, "unread": False}
        assert m.pk not in unread_for(staff_user)
        assert m.pk in unread_for(second_client.user)  # the other person still sees it unread
        second_client.get(url(m.pk), **HTMX)
        assert m.pk not in unread_for(second_client.user)
        assert MessageMark.objects.filter(message=m, is_read=True).count() == 2

    def test_the_body_document_does_not_mark(self, staff_client):
        m = make_message()
        staff_client.get(url(m.pk, "message-body"))
        assert not MessageMark.objects.exists()


class TestMarkEndpoints:
    def test_htmx_mark_unread_returns_the_buttons_and_an_event(self, staff_client):
        m = make_message()
        staff_client.get(url(m.pk))
        response = staff_client.post(url(m.pk, "message-mark-unread"), **HTMX)
        assert response.status_code == 200
        assert marked_event(response) == {"id": m.pk, "unread": True}
        html = response.content.decode()
        assert "Mark read" in html and "Unread for you" in html and "<html" not in html
        assert m.pk in unread_for(response.wsgi_request.user)

        response = staff_client.post(url(m.pk, "message-mark-read"), **HTMX)
        assert marked_event(response) == {"id": m.pk, "unread": False}
        assert "Mark unread" in response.content.decode()
        assert m.pk not in unread_for(response.wsgi_request.user)

    def test_plain_mark_unread_goes_back_to_the_inbox_view(self, staff_client):
        m = make_message()
        response = staff_client.post(url(m.pk, "message-mark-unread"), {"next": "/?unread=1&direction=incoming"})
        assert response.status_code == 302 and response["Location"] == "/?unread=1&direction=incoming"
        assert m.pk in unread_for(response.wsgi_request.user)

    def test_plain_mark_without_next_has_sensible_defaults(self, staff_client):
        m = make_message()
        assert staff_client.post(url(m.pk, "message-mark-unread"))["Location"] == reverse("inbox-index")
        assert staff_client.post(url(m.pk, "message-mark-read"))["Location"] == url(m.pk)

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "\\\\evil.example"])
    def test_offsite_next_is_ignored(self, staff_client, target):
        m = make_message()
        response = staff_client.post(url(m.pk, "message-mark-unread"), {"next": target})
        assert response["Location"] == reverse("inbox-index")

    def test_get_is_not_allowed_and_csrf_is_required(self, staff_user):
        m = make_message()
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff_user)
        assert client.get(url(m.pk, "message-mark-unread")).status_code == 405
        assert client.post(url(m.pk, "message-mark-unread")).status_code == 403
        assert not MessageMark.objects.exists()

    def test_unknown_message_is_404(self, staff_client):
        assert staff_client.post(url(123456, "message-mark-unread"), **HTMX).status_code == 404
        assert not MessageMark.objects.exists()

    def test_page_buttons_post_with_csrf(self, staff_client):
        m = make_message()
        html = staff_client.get(url(m.pk) + "?direction=incoming").content.decode()
        assert f'hx-post="{url(m.pk, "message-mark-unread")}"' in html
        assert "csrfmiddlewaretoken" in html
        assert 'name="next" value="/?direction=incoming"' in html


class TestNeighbours:
    def test_newer_and_older_within_the_view(self, staff_client):
        older = make_message(pk=10, created_on=BASE_TIME, incoming=True)
        skipped = make_message(pk=11, created_on=BASE_TIME + dt.timedelta(minutes=1), incoming=False)
        middle = make_message(pk=12, created_on=BASE_TIME + dt.timedelta(minutes=2), incoming=True)
        newer = make_message(pk=13, created_on=BASE_TIME + dt.timedelta(minutes=3), incoming=True)
        html = staff_client.get(url(middle.pk)).content.decode()
        assert f'href="{url(newer.pk)}"' in html and f'href="{url(skipped.pk)}"' in html

        html = staff_client.get(url(middle.pk) + "?direction=incoming").content.decode()
        assert f'href="{url(older.pk)}?direction=incoming"' in html
        assert f'href="{url(newer.pk)}?direction=incoming"' in html

    @pytest.mark.parametrize("order", ["", "oldest"])
    def test_the_arrows_follow_the_list_and_step_to_the_next_row(self, staff_client, order):
        """Up is the row above in the list and down the row below: newest first, ↑ Newer and
        Older ↓; oldest first, ↑ Older and Newer ↓. Oldest first, Older had stepped to the view's
        oldest message, not the one next to it."""
        for i in range(5):
            make_message(pk=40 + i, created_on=BASE_TIME + dt.timedelta(minutes=i))
        query = "?order=oldest" if order else ""
        html = staff_client.get(url(42) + query).content.decode()
        up, down = (41, 43) if order else (43, 41)
        up_word, down_word = ("Older", "Newer") if order else ("Newer", "Older")
        assert re.search(rf'<a href="{url(up)}{re.escape(query)}"[^>]* rel="prev" id="message-prev"[^>]*>↑ {up_word}</a>', html), html
        assert re.search(rf'<a href="{url(down)}{re.escape(query)}"[^>]* rel="next" id="message-next"[^>]*>{down_word} ↓</a>', html), html
        # At the list's ends, the arrow that leads nowhere is shown disabled, with its word.
        first, last = (40, 44) if order else (44, 40)
        assert f'<span class="is-disabled" aria-disabled="true">↑ {up_word}</span>' in staff_client.get(url(first) + query).content.decode()
        assert f'<span class="is-disabled" aria-disabled="true">{down_word} ↓</span>' in staff_client.get(url(last) + query).content.decode()

    def test_unread_view_still_steps_on_after_the_message_became_read(self, staff_client):
        a = make_message(pk=20, created_on=BASE_TIME, is_new_message=True)
        b = make_message(pk=21, created_on=BASE_TIME + dt.timedelta(minutes=1), is_new_message=True)
        html = staff_client.get(url(b.pk) + "?unread=1").content.decode()
        assert f'href="{url(a.pk)}?unread=1"' in html

    def test_bad_filters_are_ignored_not_a_500(self, staff_client):
        m = make_message()
        response = staff_client.get(url(m.pk) + "?direction=sideways&since=yesterday&account=abc&after=zzz")
        assert response.status_code == 200

    def test_ties_on_time_are_broken_by_id(self, staff_client):
        same = BASE_TIME + dt.timedelta(hours=5)
        make_message(pk=30, created_on=same)
        make_message(pk=31, created_on=same)
        make_message(pk=32, created_on=same)
        html = staff_client.get(url(31)).content.decode()
        assert f'href="{url(32)}"' in html and f'href="{url(30)}"' in html


class TestBodyDocument:
    def test_strict_policy_and_sanitised_html(self, staff_client):
        m = make_message(body='<p>Hello</p><script>alert(1)</script><img src="https://img.example/a.png">')
        response = staff_client.get(url(m.pk, "message-body"))
        html = response.content.decode()
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "img-src 'none'" in policy
        assert "sandbox allow-popups allow-popups-to-escape-sandbox" in policy
        assert "frame-ancestors 'self'" in policy and "script-src" not in policy
        assert response["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response["Cache-Control"]
        assert "<p>Hello</p>" in html and "alert" not in html and "img.example" not in html

    def test_images_when_asked(self, staff_client):
        m = make_message(body='<img src="https://img.example/a.png">')
        response = staff_client.get(url(m.pk, "message-body") + "?images=1")
        assert "img-src http: https:" in response["Content-Security-Policy"]
        assert 'src="https://img.example/a.png"' in response.content.decode()

    def test_plain_text_keeps_its_lines(self, staff_client):
        m = make_message(body="Hi,\n\nsee https://example.com <ada@example.com>\nBye")
        html = staff_client.get(url(m.pk, "message-body")).content.decode()
        assert '<div class="plain-text">Hi,\n\nsee <a href="https://example.com"' in html
        assert "&lt;" in html

    def test_empty_and_unknown(self, staff_client):
        m = make_message(body=None)
        assert "(no content)" in staff_client.get(url(m.pk, "message-body")).content.decode()
        assert staff_client.get(url(999_999, "message-body")).status_code == 404


class TestSecurityHeaders:
    def test_app_pages_carry_the_policy(self, staff_client, client):
        m = make_message(coworker_id=4242)
        for response in (
            staff_client.get(url(m.pk)),
            staff_client.get(reverse("customer-detail", args=[4242])),
            staff_client.get("/messages/999/"),
            client.get("/login/"),
        ):
            assert response["Content-Security-Policy"] == APP_POLICY
            assert "camera=()" in response["Permissions-Policy"]

    def test_policy_forbids_inline_script_and_framing_by_others(self):
        assert "script-src 'self'" in APP_POLICY and "unsafe-" not in APP_POLICY
        assert "frame-ancestors 'self'" in APP_POLICY and "object-src 'none'" in APP_POLICY

    def test_no_page_may_be_framed_but_the_message_body(self, staff_client, client):
        m = make_message()
        for response in (staff_client.get("/"), staff_client.get(url(m.pk)), client.get("/login/")):
            assert response["X-Frame-Options"] == "DENY"
        # The reader's iframe (same origin), also when the message is gone.
        for response in (staff_client.get(url(m.pk, "message-body")), staff_client.get(url(999_999, "message-body"))):
            assert response["X-Frame-Options"] == "SAMEORIGIN"
            assert "frame-ancestors 'self'" in response["Content-Security-Policy"]

    def test_healthz_is_still_json(self, client):
        response = client.get("/healthz")
        assert response["Content-Type"].startswith("application/json")
        json.loads(response.content)


def test_query_count_does_not_grow_with_rows(staff_client, django_assert_num_queries, settings):
    # What the layout caches for a few seconds (the last sync) must not expire between the two
    # counts on a slow machine: start from an empty cache and keep it for the test.
    settings.LAST_SYNCED_CACHE_SECONDS = 3600
    from django.core.cache import cache

    cache.clear()
    first = make_message(pk=50, created_on=BASE_TIME, is_new_message=True, body_text="A body")
    make_message(pk=51, created_on=BASE_TIME + dt.timedelta(minutes=1), is_new_message=True, body_text="A body")
    # Warm the session and the search's word-frequency probe (cached in Redis on PostgreSQL).
    staff_client.get(url(first.pk) + "?unread=1&q=body")

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url(first.pk) + "?unread=1&q=body").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(60):
        make_message(pk=100 + i, created_on=BASE_TIME + dt.timedelta(minutes=2 + i), is_new_message=True, body_text="A body")
    with django_assert_num_queries(few):
        staff_client.get(url(first.pk) + "?unread=1&q=body")
    assert few <= 10
