"""/customers/<CoworkerId>/: the customer's details and their whole thread, paged backwards."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inbox.mailbox.marks import mark_read, mark_unread
from tests.factories import BASE_TIME, make_message, make_thread

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(coworker_id: int) -> str:
    return reverse("customer-detail", args=[coworker_id])


def bubbles(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="bubble[^"]*" id="m-(\d+)"', html)]


def earlier_link(html: str) -> str | None:
    match = re.search(r'hx-get="([^"]+\?before=[^"]+)"', html)
    return match and match.group(1)


@pytest.fixture(autouse=True)
def small_pages(settings):
    settings.CONVERSATION_PAGE_SIZE = 30


def test_details_counts_and_first_last_contact(staff_client):
    make_message(coworker_id=9, incoming=True, created_on=BASE_TIME, coworker_company_name="Old Co")
    make_message(coworker_id=9, incoming=False, created_on=BASE_TIME + dt.timedelta(days=3))
    make_message(coworker_id=9, incoming=True, created_on=BASE_TIME + dt.timedelta(days=9), coworker_email="ada@example.com",
                 coworker_full_name="Ada King", coworker_company_name="New Co", coworker_billing_name="New Co BV")  # fmt: skip
    make_message(coworker_id=9, created_on=BASE_TIME + dt.timedelta(days=20), deleted_at=BASE_TIME)  # not counted
    make_message(coworker_id=10)  # someone else
    response = staff_client.get(url(9))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Ada King</h1>" in html  # the newest details win
    for text in ("ada@example.com", "New Co", "New Co BV", "2 received · 1 sent", "2 Mar 2026", "11 Mar 2026"):
        assert text in html, text
    assert 'href="/?customer=9"' in html


def test_thread_reads_oldest_to_newest_incoming_left_outgoing_right(staff_client):
    rows = make_thread(5, 4, start_pk=100)
    html = staff_client.get(url(5)).content.decode()
    assert bubbles(html) == [m.pk for m in rows]
    assert 'class="bubble bubble-in' in html and 'class="bubble bubble-out' in html
    assert "Start of the conversation" in html and "Earlier messages" not in html
    for m in rows:
        assert reverse("message-detail", args=[m.pk]) in html


def test_bodies_are_plain_text_escaped_and_linkified(staff_client):
    make_message(coworker_id=6, body_text="See https://example.com <script>alert(1)</script>\nline two")
    html = staff_client.get(url(6)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert '<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">' in html
    assert "\nline two" in html


def test_long_bodies_are_cut_with_an_open_link(staff_client):
    m = make_message(coworker_id=7, body_text="word " * 2000)
    html = staff_client.get(url(7)).content.decode()
    assert "…" in html and html.count("word") < 400
    assert reverse("message-detail", args=[m.pk]) in html


def test_unread_is_per_person(staff_client, staff_user, django_user_model):
    a = make_message(coworker_id=8, incoming=True, is_new_message=True)
    b = make_message(coworker_id=8, incoming=True, is_new_message=False)
    other = django_user_model.objects.create_user(username="o", password="o-pass-1234")
    mark_read(user=staff_user, message_ids=[a.pk])
    mark_unread(user=other, message_ids=[b.pk])
    html = staff_client.get(url(8)).content.decode()
    assert "is-unread" not in html  # a read by me, b never new
    staff_client.force_login(other)
    html = staff_client.get(url(8)).content.decode()
    assert html.count('class="bubble bubble-in is-unread"') == 2


def test_many_messages_show_the_newest_page_and_load_earlier_ones_backwards(staff_client):
    rows = make_thread(11, 75, start_pk=1000)
    pks = [m.pk for m in rows]
    html = staff_client.get(url(11)).content.decode()
    assert bubbles(html) == pks[-30:]
    link = earlier_link(html)
    assert link

    fragment = staff_client.get(link, **HTMX)
    part = fragment.content.decode()
    assert "<html" not in part and "<h1>" not in part
    assert bubbles(part) == pks[-60:-30]
    last = staff_client.get(earlier_link(part), **HTMX).content.decode()
    assert bubbles(last) == pks[:15]
    assert earlier_link(last) is None and "Start of the conversation" in last


def test_earlier_without_htmx_is_a_full_page_with_a_way_back(staff_client):
    rows = make_thread(12, 40, start_pk=2000)
    link = earlier_link(staff_client.get(url(12)).content.decode())
    response = staff_client.get(link)
    html = response.content.decode()
    assert "<html" in html and "looking at earlier messages" in html
    assert bubbles(html) == [m.pk for m in rows[:10]]


def test_a_bad_cursor_says_so_and_shows_the_latest(staff_client):
    rows = make_thread(13, 3, start_pk=3000)
    response = staff_client.get(url(13) + "?before=not-a-cursor")
    assert response.status_code == 200
    assert "is not valid" in response.content.decode()
    assert bubbles(response.content.decode()) == [m.pk for m in rows]


def test_same_time_messages_page_by_id(staff_client, settings):
    settings.CONVERSATION_PAGE_SIZE = 2
    for pk in (40, 41, 42, 43, 44):
        make_message(pk=pk, coworker_id=14, created_on=BASE_TIME)
    html = staff_client.get(url(14)).content.decode()
    assert bubbles(html) == [43, 44]
    part = staff_client.get(earlier_link(html), **HTMX).content.decode()
    assert bubbles(part) == [41, 42]


# --- Opened at a message (?at=<Id>: the reader's "Conversation with …" and the customer's name) ---


def test_the_reader_links_to_the_conversation_at_its_message(staff_client):
    rows = make_thread(15, 3, start_pk=4000)
    html = staff_client.get(reverse("message-detail", args=[rows[0].pk])).content.decode()
    link = f'{url(15)}?at={rows[0].pk}#m-{rows[0].pk}'
    assert html.count(f'href="{link}"') == 2  # the customer's name and "Conversation with …"


def test_an_old_message_opens_on_its_page_with_the_messages_after_it_below(staff_client):
    rows = make_thread(16, 100, start_pk=5000)
    pks = [m.pk for m in rows]
    html = staff_client.get(f"{url(16)}?at={pks[60]}").content.decode()
    assert bubbles(html) == pks[36:66]  # a whole page, five newer ones below it
    assert "looking at earlier messages" in html and f'href="{url(16)}#latest"' in html
    # "Earlier messages" goes on from the top of this page.
    assert bubbles(staff_client.get(earlier_link(html), **HTMX).content.decode()) == pks[6:36]
    # Near the start of the conversation the page is what there is up to five after it.
    html = staff_client.get(f"{url(16)}?at={pks[2]}").content.decode()
    assert bubbles(html) == pks[:8] and "Start of the conversation" in html


def test_a_message_among_the_latest_opens_the_latest_page(staff_client):
    rows = make_thread(17, 40, start_pk=6000)
    html = staff_client.get(f"{url(17)}?at={rows[-3].pk}").content.decode()
    assert bubbles(html) == [m.pk for m in rows[-30:]]
    assert "looking at earlier messages" not in html and "not in this conversation" not in html


@pytest.mark.parametrize("size", [1, 2, 7])
def test_every_message_is_on_the_page_it_opens_whatever_the_page_size(staff_client, settings, size):
    settings.CONVERSATION_PAGE_SIZE = size
    rows = make_thread(18, 12, start_pk=7000)
    pks = [m.pk for m in rows]
    for i, pk in enumerate(pks):
        shown = bubbles(staff_client.get(f"{url(18)}?at={pk}").content.decode())
        if len(pks) - 1 - i < size:  # the latest page holds it
            assert shown == pks[-size:], (i, shown)
        else:  # it, and up to five newer ones below it as the page allows
            end = i + min(5, size - 1)
            assert shown == pks[max(0, end - size + 1): end + 1], (i, shown)


@pytest.mark.parametrize("at", ["banana", "0", "-4", "99999999999999999999999", "8001"])
def test_a_message_not_in_the_conversation_says_so_and_shows_the_latest(staff_client, at):
    rows = make_thread(19, 40, start_pk=8000)
    make_message(pk=8500, coworker_id=20)  # someone else's
    deleted = make_message(pk=8600, coworker_id=19, deleted_at=BASE_TIME)
    for value in (at, "8500", str(deleted.pk)):
        response = staff_client.get(url(19), {"at": value})
        html = response.content.decode()
        assert response.status_code == 200
        if value == "8001":  # one of theirs: its page, no notice
            assert "not in this conversation" not in html and 8001 in bubbles(html)
            continue
        if value in ("banana", "0", "-4", "99999999999999999999999"):
            assert "That link to a message is not valid" in html and "not in this conversation" not in html
        else:
            assert f"Message {value} is not in this conversation" in html, value
        assert bubbles(html) == [m.pk for m in rows[-30:]]


@pytest.mark.parametrize("coworker_id", [999, 2**62])
def test_unknown_customer_gets_a_friendly_404(staff_client, coworker_id):
    response = staff_client.get(url(coworker_id))
    assert response.status_code == 404
    assert f"No conversation with customer {coworker_id}" in response.content.decode()


def test_a_customer_whose_messages_were_all_deleted_is_404(staff_client):
    make_message(coworker_id=15, deleted_at=BASE_TIME)
    assert staff_client.get(url(15)).status_code == 404


@pytest.mark.parametrize("path", ["/customers/abc/", "/customers/-3/", f"/customers/{2**63}/", "/customers/1e5/"])
def test_unparseable_ids_are_404(staff_client, path):
    assert staff_client.get(path).status_code == 404


def test_query_count_is_constant_in_the_number_of_messages(staff_client, django_assert_num_queries):
    make_thread(16, 5, start_pk=5000)
    staff_client.get(url(16))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url(16)).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    make_thread(16, 200, start_pk=6000)
    with django_assert_num_queries(few):
        html = staff_client.get(url(16)).content.decode()
    assert len(bubbles(html)) == 30  # never every body at once
    assert few <= 8


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(path="/customers/4242/", query="before=%FF%FE", htmx=True)
@example(path="/customers/4242/", query="before=OTk5OTk5OTk5OTk5OTk5OTk5OTlfOTk5OTk5OTk5OTk5OTk5OTk5OTk5", htmx=True)
@example(path="/customers/4242/", query="before=LTk5OTk5OTk5OTk5OTk5OTk5XzE", htmx=False)
@example(path="/messages/7000001/", query="images=1&direction=sideways&account=99999999999999999999&q=%00", htmx=True)
@example(path="/messages/7000001/", query="since=9999-12-31&until=0001-01-01&customer=-1", htmx=False)
@given(
    path=st.sampled_from(["/customers/4242/", "/messages/7000001/", "/messages/7000001/body/"]),
    query=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60),
    htmx=st.booleans(),
)
def test_arbitrary_query_strings_never_500(staff_client, path, query, htmx):
    if not _exists(7000001):  # hypothesis reuses the test's database across examples
        make_message(pk=7000001, coworker_id=4242)
    response = staff_client.get(path + "?" + query, **(HTMX if htmx else {}))
    assert response.status_code in (200, 404), (path, query)


def _exists(pk: int) -> bool:
    from inbox.models import CoworkerMessage

    return CoworkerMessage.objects.filter(pk=pk).exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30))
def test_arbitrary_ids_never_500(staff_client, segment):
    from urllib.parse import quote

    for prefix in ("/messages/", "/customers/"):
        response = staff_client.get(prefix + quote(segment, safe="") + "/")
        assert response.status_code in (200, 301, 302, 404), (prefix, segment)
