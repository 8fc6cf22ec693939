"""The inbox list: every filter and combination, checked against answers computed from the data.

Both a plain request (the whole page) and an htmx request (the ``#results`` fragment) are checked.
"""

from __future__ import annotations

from html import unescape

import dataclasses
import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.urls import reverse

from inbox.mailbox.filters import InboxFilters
from tests.mailbox.inbox_fixtures import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACCOUNT_UNKNOWN,
    BASE_TIME,
    expected_ids,
)

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
ROW_ID = re.compile(r'<li id="msg-(\d+)"')


def shown_ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(i) for i in ROW_ID.findall(response.content.decode())]


def fold_accents() -> bool:
    return connection.vendor == "sqlite"  # FTS5 unicode61 remove_diacritics; PG 'simple' keeps them


@pytest.fixture(autouse=True)
def _one_page(settings):
    settings.INBOX_PAGE_SIZE = 500  # every row on one page: the list is compared whole


def get(client, filters: InboxFilters, **headers):
    return client.get(reverse("inbox-index"), filters.to_params(), **headers)


FILTER_SPACE = {
    "unread": [False, True],
    "awaiting": [False, True],
    "direction": [None, "incoming", "outgoing"],
    "account": [None, ACCOUNT_A, ACCOUNT_UNKNOWN, "none"],
}


@pytest.mark.parametrize(
    "unread,awaiting,direction,account", list(itertools.product(*FILTER_SPACE.values()))
)
def test_unread_direction_account_combinations(staff_client, staff_user, inbox_data, unread, awaiting, direction,
                                               account):
    filters = InboxFilters(unread=unread, awaiting=awaiting, direction=direction, account=account)
    expected = expected_ids(inbox_data, staff_user, filters)
    assert shown_ids(get(staff_client, filters)) == expected
    assert shown_ids(get(staff_client, filters, **HTMX)) == expected


@pytest.mark.parametrize(
    "filters",
    [
        InboxFilters(customer=7001),
        InboxFilters(customer=7004),
        InboxFilters(customer=123456789),  # nobody
        InboxFilters(since=(BASE_TIME - dt.timedelta(days=3)).date()),
        InboxFilters(until=(BASE_TIME - dt.timedelta(days=3)).date()),
        InboxFilters(since=(BASE_TIME - dt.timedelta(days=5)).date(), until=(BASE_TIME - dt.timedelta(days=2)).date()),
        InboxFilters(since=BASE_TIME.date(), until=BASE_TIME.date()),  # one day, both ends inclusive
        InboxFilters(q="invoice"),
        InboxFilters(q="INVOICE question"),
        InboxFilters(q="inv"),  # prefix
        InboxFilters(q="ana@example.com"),  # an e-mail address is its words
        InboxFilters(q="Kōbō"),
        InboxFilters(q="ключи"),
        InboxFilters(q="café"),
        InboxFilters(q="projector room"),
        InboxFilters(q='OR NOT "quoted" -minus NEAR(x) *'),  # FTS syntax is only words here
        InboxFilters(q="nothingmatchesthis"),
        InboxFilters(q="invoice", unread=True, direction="incoming"),
        InboxFilters(q="invoice", since=(BASE_TIME - dt.timedelta(days=4)).date()),
        InboxFilters(customer=7002, direction="outgoing", account=ACCOUNT_B),
        InboxFilters(order="oldest"),
        InboxFilters(awaiting=True, order="oldest"),
        InboxFilters(awaiting=True, customer=7001),
        InboxFilters(awaiting=True, q="invoice", since=(BASE_TIME - dt.timedelta(days=10)).date()),
        InboxFilters(q="invoice", order="oldest"),
        InboxFilters(unread=True, direction="incoming", account=ACCOUNT_A, customer=7001,
                     since=(BASE_TIME - dt.timedelta(days=10)).date(), until=BASE_TIME.date(), q="body"),
    ],
    ids=lambda f: f.querystring() or "none",
)
def test_other_filters_and_combinations(staff_client, staff_user, inbox_data, filters):
    expected = expected_ids(inbox_data, staff_user, filters, fold_accents=fold_accents())
    assert shown_ids(get(staff_client, filters)) == expected
    assert shown_ids(get(staff_client, filters, **HTMX)) == expected


def test_accent_folding_on_sqlite_only(staff_client, staff_user, inbox_data):
    """"cafe" finds "Café" on SQLite (unicode61 remove_diacritics); PostgreSQL's 'simple' does not."""
    filters = InboxFilters(q="cafe")
    ids = shown_ids(get(staff_client, filters))
    assert ids == expected_ids(inbox_data, staff_user, filters, fold_accents=fold_accents())
    assert bool(ids) == (connection.vendor == "sqlite")


def test_the_filters_have_results_to_check(staff_user, inbox_data):
    """Guard against a vacuous suite: the data gives every filter something to find and to drop."""
    for filters in [InboxFilters(unread=True), InboxFilters(direction="outgoing"), InboxFilters(account="none"),
                    InboxFilters(awaiting=True), InboxFilters(awaiting=True, account=ACCOUNT_A),
                    InboxFilters(account=ACCOUNT_UNKNOWN), InboxFilters(q="invoice"), InboxFilters(customer=7001)]:
        ids = expected_ids(inbox_data, staff_user, filters)
        assert 0 < len(ids) < len(inbox_data.messages), filters


def test_deleted_messages_never_show(staff_client, inbox_data):
    ids = set(shown_ids(staff_client.get("/?q=deleted")) + shown_ids(staff_client.get("/")))
    assert not ids & {m.pk for m in inbox_data.deleted}


def test_rows_show_what_a_person_needs(staff_client, inbox_data):
    html = staff_client.get("/").content.decode()
    assert "Default location settings" in html  # messages with no account
    assert "Account 999" in html  # an account the mirror has not seen, named by its Id
    assert "Zoë Ærøskøbing" in html and "Kōbō KK" in html
    assert "Unknown customer" in html  # NULL names
    assert "(no subject)" in html
    assert "received" in html and "sent" in html
    assert 'hx-target="#reader"' in html and 'id="reader"' in html
    first = inbox_data.messages[0]
    assert f'href="/messages/{first.pk}/"' in html
    assert f'datetime="{first.created_on.isoformat()}"' in html


def test_unread_marker_follows_the_person(client, django_user_model, inbox_data):
    """Per-person read state: one person reads a message, the other still sees it unread."""
    alice = django_user_model.objects.create_user("alice", password="x-pass-12345")
    bob = django_user_model.objects.create_user("bob", password="x-pass-12345")
    new = [m for m in inbox_data.messages if m.is_new_message]
    old = [m for m in inbox_data.messages if not m.is_new_message]
    inbox_data.mark(alice, new[0].pk, is_read=True)
    inbox_data.mark(alice, old[0].pk, is_read=False)  # marked unread again

    client.force_login(alice)
    alice_ids = shown_ids(client.get("/?unread=1"))
    client.force_login(bob)
    bob_ids = shown_ids(client.get("/?unread=1"))

    assert alice_ids == expected_ids(inbox_data, alice, InboxFilters(unread=True))
    assert bob_ids == expected_ids(inbox_data, bob, InboxFilters(unread=True))
    assert new[0].pk in bob_ids and new[0].pk not in alice_ids
    assert old[0].pk in alice_ids and old[0].pk not in bob_ids
    html = client.get("/").content.decode()  # bob's page marks the row unread
    assert f'<li id="msg-{new[0].pk}" class="msg unread"' in html


@pytest.mark.parametrize(
    "query,field,shown_filter",
    [
        ("direction=sideways", "direction", InboxFilters()),
        ("since=yesterday", "since", InboxFilters()),
        ("until=31/12/2025", "until", InboxFilters()),
        ("account=abc", "account", InboxFilters()),
        ("account=-3", "account", InboxFilters()),
        ("account=99999999999999999999999", "account", InboxFilters()),
        ("customer=1e9", "customer", InboxFilters()),
        ("unread=maybe", "unread", InboxFilters()),
        ("q=%21%21%21", "q", InboxFilters()),  # no word at all
        ("since=2025-03-10&until=2025-03-01", "until", InboxFilters()),
        ("after=not-a-cursor", "after", InboxFilters()),
        ("direction=sideways&unread=1", "direction", InboxFilters(unread=True)),  # the good one stays
        ("account=abc&direction=outgoing", "account", InboxFilters(direction="outgoing")),
    ],
)
def test_a_value_that_does_not_parse_is_ignored_and_said(staff_client, staff_user, inbox_data, query, field, shown_filter):
    for headers in ({}, HTMX):
        response = staff_client.get("/?" + query, **headers)
        assert shown_ids(response) == expected_ids(inbox_data, staff_user, shown_filter)
        html = response.content.decode()
        assert re.search(rf'<p id="err-{field}" class="field-error"[^>]*role="alert">\S', html) or field == "after"
        assert "ignored" in html or "not valid" in html


def test_a_new_list_brings_only_its_own_requests_errors(staff_client, inbox_data):
    """Out of band, beside the list: the errors of this request, not eleven empty slots (the page
    empties the earlier ones as the list arrives: tests/browser/test_inbox_browser.py)."""
    html = staff_client.get("/?direction=incoming", **HTMX).content.decode()
    assert "field-error" not in html
    html = staff_client.get("/?direction=sideways&since=2025-13-01", **HTMX).content.decode()
    slots = re.findall(r'<p id="err-(\w+)" class="field-error" hx-swap-oob="true"\s+role="alert">\S', html)
    assert sorted(slots) == ["direction", "since"], html


def _sync_ended(status: str, kind: str = "", minutes_ago: int = 1):
    from django.utils import timezone

    from inbox.context_processors import forget_last_synced
    from inbox.models import SyncRun

    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    SyncRun.objects.create(resource="messages", mode="full", status=status, error_kind=kind,
                           started_at=at, finished_at=at, error="the whole text" if kind else "")
    forget_last_synced()


def test_empty_states_say_what_to_do(staff_client, admin_user, db):
    from django.test import Client

    from inbox.context_processors import forget_last_synced

    admin_client_ = Client()  # staff_client is the test's client, signed in as staff
    admin_client_.force_login(admin_user)
    forget_last_synced()
    # Before any sync: the first is on its way; an admin can start one, staff are told no command.
    html = staff_client.get("/").content.decode()
    assert "No messages yet" in html and "The first sync is running" in html
    assert "manage.py" not in html and "Not synced yet" in html
    html = admin_client_.get("/").content.decode()
    assert "python manage.py sync_nexudus" in html and 'href="/sync/">sync page</a>' in html
    # The first sync failed (a wrong password): not "running", and the top bar says so.
    _sync_ended("failed", "credentials")
    html = staff_client.get("/").content.decode()
    assert "The first sync is running" not in html
    assert "The last sync failed: Nexudus refused the help desk’s sign-in." in unescape(html)
    assert "An admin can see why on the sync page." in html
    assert 'class="last-synced sync-trouble"' in html and "Sync failing · not synced yet" in html
    html = admin_client_.get("/").content.decode()
    assert 'The <a href="/sync/">sync page</a> says why and what to change.' in html
    assert '<a href="/sync/">Sync failing</a> · not synced yet' in html
    # A sync succeeded and Nexudus had nothing: said so, not "running".
    _sync_ended("success", minutes_ago=0)
    html = staff_client.get("/").content.decode()
    assert "Nexudus had no messages for the help desk at the last sync (" in html
    assert "sync-trouble" not in html and ">Synced <time" in html


def test_no_match_offers_to_clear_filters(staff_client, inbox_data):
    html = staff_client.get("/?q=nothingmatchesthis").content.decode()
    assert "No messages match these filters" in html and "Clear filters" in html


@pytest.mark.parametrize("query, hint", [
    ("?q=nothingmatchesthis", "Try another word or the start of one."),  # one word: not "fewer words"
    ("?q=invoice+nothingmatchesthis", "Try fewer words."),
    ("?q=christopher.vandenberg%40example.com", "Try another word or the start of one."),  # one typed word
    ("?q=nothing+matches&unread=1&awaiting=1&direction=incoming",  # no comma inside an item of the list
     "Try fewer words, read messages too, answered messages too or both directions."),
    ("?q=nothing+matches&since=2099-01-01", "Try fewer words or a wider date range."),
    ("?company=Lumen", "Try the company’s whole name."),
    ("?awaiting=1&direction=outgoing", "Awaiting reply lists received messages only: choose All or Received."),
    ("?customer=7002&unread=1&direction=incoming&since=2099-01-01",
     "Try another customer, a wider date range, read messages too or both directions."),
    # A number no message names: said so, not "another customer".
    ("?customer=999999&unread=1", "No message of the mirror is to or from customer number 999999: "
                                  "check the number, or type the customer’s name in the Customer field."),
])
def test_no_match_says_which_of_its_filters_to_loosen(staff_client, inbox_data, query, hint):
    html = unescape(staff_client.get("/" + query).content.decode())
    assert "No messages match these filters" in html
    assert f"<p>{hint}</p>" in html.replace("'", "’")


def test_the_page_needs_a_signed_in_person(client, inbox_data):
    response = client.get("/?unread=1")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_history_restore_gets_the_whole_page(staff_client, inbox_data):
    html = staff_client.get("/?unread=1", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in html and 'id="filters"' in html


def test_the_filter_form_works_without_javascript(staff_client, inbox_data):
    html = staff_client.get("/?unread=1&direction=incoming").content.decode()
    form = re.search(r'<form id="filters"[^>]*>', html).group(0)
    assert 'method="get"' in form and 'action="/"' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#results"' in form
    assert re.search(r'name="unread" value="1" checked', html)
    assert re.search(r'name="direction" value="incoming" checked', html)


@pytest.mark.parametrize(
    "filters",
    [
        InboxFilters(),
        InboxFilters(unread=True, direction="incoming", q="café invoice", order="oldest"),
        InboxFilters(account=7, awaiting=True, since=dt.date(2026, 1, 2), customer=42, company="A & B"),
        InboxFilters(account="none", until=dt.date(2026, 3, 4)),
    ],
)
def test_querystrings_with_each_value_are_those_of_the_view_with_it(filters):
    values = [3, "none", 1007, 7]
    assert filters.querystrings_with("account", values) == {
        v: dataclasses.replace(filters, account=v).querystring() for v in values
    }
    assert filters.querystrings_with("direction", ["incoming", "outgoing"]) == {
        v: dataclasses.replace(filters, direction=v).querystring() for v in ("incoming", "outgoing")
    }
    assert filters.querystrings_with("account", []) == {}


@pytest.mark.parametrize("query, in_use", [
    ("", ""),
    ("?q=invoice", ""),  # the search box is outside the folded filters
    ("?order=newest", ""),
    ("?unread=1&direction=incoming", " · 2 in use"),
    ("?awaiting=1&order=oldest&company=Acme", " · 3 in use"),
    ("?since=2025-01-01&until=2025-02-01", " · 1 in use"),  # the dates are one control
    ("?until=2025-02-01&customer=7002", " · 2 in use"),
    ("?since=yesterday&unread=1", " · 1 in use"),  # a refused filter is not in use
])
def test_the_folded_filters_say_how_many_are_in_use(staff_client, inbox_data, query, in_use):
    page = staff_client.get("/" + query).content.decode()
    assert f'<summary>Filters<span class="filters-in-use" id="filters-in-use">{in_use}</span></summary>' in page
