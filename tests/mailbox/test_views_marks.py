"""Bulk marking from the inbox: selected rows, and every message matching the view."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from inbox.models import MessageMark
from inbox.mailbox.filters import InboxFilters
from tests.mailbox.inbox_fixtures import expected_ids


def _unread_ids(data, user, **filters):
    return expected_ids(data, user, InboxFilters(unread=True, **filters))


def test_mark_selected_read_without_javascript(staff_client, staff_user, inbox_data):
    unread = _unread_ids(inbox_data, staff_user)[:3]
    response = staff_client.post(reverse("inbox-mark-selected"), {"ids": unread, "action": "read", "unread": "1"})
    assert response.status_code == 302 and response.url == "/?unread=1"  # back to the same view
    page = staff_client.get(response.url).content.decode()
    assert "Marked 3 messages read." in page
    shown = [int(i) for i in re.findall(r'<li id="msg-(\d+)"', page)]
    assert not set(unread) & set(shown)
    assert set(MessageMark.objects.filter(user=staff_user, is_read=True).values_list("message_id", flat=True)) == set(unread)


def test_mark_selected_with_htmx_swaps_the_rows_in_place(staff_client, staff_user, inbox_data):
    read = [m.pk for m in inbox_data.messages if not m.is_new_message][:2]
    response = staff_client.post(reverse("inbox-mark-selected"), {"ids": read, "action": "unread"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    for pk in read:
        assert re.search(rf'<li id="msg-{pk}" class="msg unread" data-id="{pk}" data-unread="1" [^>]*hx-swap-oob="true">', html)
    assert 'id="status"' in html and "Marked 2 messages unread." in html


def test_mark_all_matching_marks_every_page_of_the_view(staff_client, staff_user, inbox_data, settings):
    settings.INBOX_PAGE_SIZE = 3  # far fewer than match: "all" is not "the visible page"
    view = {"direction": "incoming"}
    before = _unread_ids(inbox_data, staff_user, direction="incoming")
    assert len(before) > 3
    response = staff_client.post(reverse("inbox-mark-matching"), {**view, "action": "read"})
    assert response.status_code == 302
    assert _count_unread(staff_client, view) == 0
    others = _unread_ids(inbox_data, staff_user, direction="outgoing")
    assert others and _count_unread(staff_client, {"direction": "outgoing"}) == len(others)  # untouched


def _count_unread(client, view: dict) -> int:
    html = client.get("/inbox/counts/", view, HTTP_HX_REQUEST="true").content.decode()
    return int(re.search(r'data-count="unread">([\d,]+)<', html).group(1).replace(",", ""))


def test_mark_all_with_a_filter_that_does_not_parse_marks_nothing(staff_client, staff_user, inbox_data):
    response = staff_client.post(reverse("inbox-mark-matching"), {"direction": "sideways", "action": "read"}, follow=True)
    assert "Nothing was marked" in response.content.decode()
    assert not MessageMark.objects.exists()


@pytest.mark.parametrize("data", [
    {"action": "explode", "ids": ["1"]},
    {"action": "read", "ids": ["abc"]},
    {"action": "read"},
    {"action": "read", "ids": [str(2**70)]},
])
def test_bad_mark_requests_say_so(staff_client, inbox_data, data):
    response = staff_client.post(reverse("inbox-mark-selected"), data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was marked" in html or "Select messages" in html
    assert not MessageMark.objects.exists()


@pytest.mark.parametrize("data", [{"action": "read", "unread": "1"}, {"action": "read", "ids": ["abc"]}])
def test_a_bulk_mark_of_nothing_through_htmx_says_so_in_place(staff_client, inbox_data, data):
    """With htmx the view stays (its scrolled rows, the open reader): the reason is said beside
    the buttons, where a redirect reloaded the whole page."""
    response = staff_client.post(reverse("inbox-mark-selected"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Redirect" not in response and "HX-Trigger" not in response
    html = response.content.decode()
    assert '<p id="status" class="status status-problem" hx-swap-oob="true">' in html  # not in a success's green
    assert "Select messages to mark first." in html or "Nothing was marked" in html
    assert "<li" not in html
    assert not MessageMark.objects.exists()


def test_marking_needs_post_and_csrf(client, staff_user, inbox_data):
    from django.test import Client

    assert client.get(reverse("inbox-mark-selected")).status_code in (302, 405)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)
    response = strict.post(reverse("inbox-mark-selected"), {"ids": [inbox_data.messages[0].pk], "action": "read"})
    assert response.status_code == 403
    assert not MessageMark.objects.exists()
