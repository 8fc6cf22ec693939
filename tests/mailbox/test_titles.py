"""The document title names the view, and (once the counts arrive) its unread number: the full
page, the results fragment a filter swaps in and the counts fragment each carry it from the server."""

from __future__ import annotations

import re
from html import unescape

import pytest

from inbox.mailbox.filters import InboxFilters
from tests.mailbox.inbox_fixtures import ACCOUNT_A, ACCOUNT_B, expected_ids

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}


def titles(html: str) -> list[str]:
    return [unescape(t).strip() for t in re.findall(r"<title>(.*?)</title>", html, re.S)]


@pytest.mark.parametrize("query, name", [
    ("", "Inbox"),
    ("?unread=1", "Unread"),
    ("?unread=1&direction=incoming", "Unread received"),
    ("?unread=1&direction=outgoing", "Unread sent"),  # not "Unread", the name of every unread message
    ("?q=invoice", "Search “invoice”"),
    ("?q=%20wifi%20%20printer%20", "Search “wifi printer”"),
    ("?q=" + "parking%20" * 10, "Search “parking parking parking parking parking…”"),
    ("?direction=outgoing", "Sent"),
    ("?direction=incoming", "Received"),
    ("?direction=incoming&since=2025-01-01", "Since 1 Jan 2025 · received"),  # was "Filtered"
    ("?since=2025-03-01&until=2025-03-20", "1 Mar – 20 Mar 2025"),
    ("?since=2024-12-20&until=2025-01-05", "20 Dec 2024 – 5 Jan 2025"),
    ("?since=2025-03-01&until=2025-03-01", "1 Mar 2025"),
    ("?until=2025-03-20&direction=outgoing", "Until 20 Mar 2025 · sent"),
    (f"?account={ACCOUNT_A}", "Front desk"),  # was "Filtered"
    (f"?account={ACCOUNT_B}&direction=incoming", "Billing · received"),
    ("?account=none", "Default location settings"),
    ("?account=99999", "Account 99999"),  # no current account: named by its number, as in the form
    (f"?account={ACCOUNT_A}&since=2025-01-01", "Front desk · since 1 Jan 2025"),  # was "Filtered"
    (f"?account={ACCOUNT_A}&q=wifi&since=2025-01-01&until=2025-03-20&direction=incoming",
     "Front desk · search “wifi” · 1 Jan – 20 Mar 2025 · received"),  # every filter named, none dropped
    (f"?customer=7002&account={ACCOUNT_A}&unread=1", "Ana García · Front desk · unread"),  # was "Ana García · unread"
    (f"?company=Acme%20Ltd&account={ACCOUNT_B}", "Acme Ltd · Billing"),
    (f"?account={ACCOUNT_A}&unread=1", "Front desk · unread"),  # was "Unread": the account dropped
    (f"?account={ACCOUNT_A}&unread=1&direction=incoming", "Front desk · unread received"),
    (f"?account={ACCOUNT_A}&awaiting=1", "Front desk · awaiting reply"),
    (f"?account={ACCOUNT_A}&awaiting=1&unread=1&direction=incoming", "Front desk · unread awaiting reply"),
    ("?account=none&direction=outgoing", "Default location settings · sent"),
    ("?customer=7002&unread=1", "Ana García · unread"),
    ("?company=Acme%20Ltd&direction=outgoing", "Acme Ltd · sent"),
    (f"?q=invoice&account={ACCOUNT_A}", "Front desk · search “invoice”"),  # was "Search “invoice”"
    (f"?q=Invoice&account={ACCOUNT_A}&unread=1&direction=incoming", "Front desk · search “Invoice” · unread received"),
    ("?q=invoice&since=2025-01-01", "Search “invoice” · since 1 Jan 2025"),  # was "Search “invoice”"
    ("?q=invoice&unread=1", "Search “invoice” · unread"),  # was "Unread": the search unsaid
    ("?q=invoice&direction=outgoing", "Search “invoice” · sent"),
    ("?q=invoice&awaiting=1&unread=1", "Search “invoice” · unread awaiting reply"),
    ("?customer=7002&q=invoice&awaiting=1", "Ana García · search “invoice” · awaiting reply"),
    ("?company=Acme%20Ltd&q=wifi", "Acme Ltd · search “wifi”"),  # was "Acme Ltd"
    ("?q=%E2%80%AEwifi%E2%80%AC", "Search “wifi”"),  # a right-to-left override turned the title around
    ("?company=%E2%80%AEAcme%20Ltd", "Acme Ltd"),
    ("?awaiting=1", "Awaiting reply"),
    ("?awaiting=1&unread=1", "Unread awaiting reply"),  # was "Awaiting reply": the unread filter unsaid
    ("?order=oldest", "Inbox · oldest first"),  # was "Inbox", as the newest-first view's name
    ("?q=invoice&unread=1&order=oldest", "Search “invoice” · unread · oldest first"),
    ("?since=2025-03-01&until=2025-03-01&order=oldest", "1 Mar 2025 · oldest first"),
    ("?customer=7002", "Ana García"),
    ("?customer=7002&awaiting=1", "Ana García · awaiting reply"),
    ("?company=Acme%20Ltd", "Acme Ltd"),  # was "Filtered"
    ("?company=Acme%20Ltd&awaiting=1", "Acme Ltd · awaiting reply"),
])
def test_the_page_and_the_results_fragment_name_the_view(staff_client, inbox_data, query, name):
    page = staff_client.get("/" + query).content.decode()
    assert titles(page) == [f"{name} · Help desk"]
    assert f'<h1 class="list-title">{name}</h1>' in page
    fragment = staff_client.get("/" + query, **FRAGMENT).content.decode()
    assert titles(fragment) == [f"{name} · Help desk"]
    assert fragment.lstrip().startswith("<title>")  # at the fragment's root, where htmx reads it
    more = staff_client.get("/" + query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more").content.decode()
    assert titles(more) == []  # the next page of rows leaves the title alone


@pytest.mark.parametrize("filters, name", [
    (InboxFilters(), "Inbox"),
    (InboxFilters(unread=True), "Unread"),
    (InboxFilters(direction="incoming"), "Received"),
])
def test_the_counts_fragment_adds_the_unread_number(staff_client, staff_user, inbox_data, filters, name):
    unread = len(expected_ids(inbox_data, staff_user, InboxFilters(**{**filters.__dict__, "unread": True})))
    assert unread > 0
    query = filters.querystring()
    fragment = staff_client.get("/inbox/counts/" + (f"?{query}" if query else ""), HTTP_HX_REQUEST="true").content.decode()
    assert titles(fragment) == [f"({unread:,}) {name} · Help desk"]
    assert fragment.lstrip().startswith("<title>")


def test_no_unread_no_number(staff_client, staff_user, inbox_data):
    for pk in expected_ids(inbox_data, staff_user, InboxFilters(unread=True)):
        inbox_data.mark(staff_user, pk, is_read=True)
    fragment = staff_client.get("/inbox/counts/?unread=1", HTTP_HX_REQUEST="true").content.decode()
    assert titles(fragment) == ["Unread · Help desk"]


def test_the_counts_page_without_javascript_keeps_one_title(staff_client, inbox_data):
    page = staff_client.get("/inbox/counts/?unread=1").content.decode()
    assert titles(page) == ["Counts · Help desk"]


def test_a_company_named_in_the_address_is_escaped_where_it_names_the_view(staff_client, inbox_data):
    for fragment in ({}, FRAGMENT):
        html = staff_client.get("/?company=%3Cb%3EAcme", **fragment).content.decode()
        assert "<b>Acme" not in html
        assert "&lt;b&gt;Acme · Help desk</title>" in html
    counts = staff_client.get("/inbox/counts/?company=%3Cb%3EAcme", HTTP_HX_REQUEST="true").content.decode()
    assert "<b>Acme" not in counts
