"""The inbox and its neighbours in a real Chromium: Export CSV of the view on screen, the reader
pane and the list in step (opening, "Mark unread", u), the address of an open message, the reader's
404, local times and a clean console."""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from inbox.models import CoworkerMessage, MessageMark
from inbox.mailbox.filters import InboxFilters
from tests.browser.test_inbox_browser import mirror, row_ids, wait_rows  # noqa: F401 (fixture)
from tests.mailbox.inbox_fixtures import expected_ids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def load_every_page(page) -> None:
    for _ in range(40):
        if not page.locator("#more").count():
            return
        page.eval_on_selector(".list-pane", "el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(250)
    raise AssertionError("the list never finished loading")


def unread_count(page) -> int:
    return int(page.locator('#counts [data-count="unread"]').inner_text().replace(",", ""))


def test_export_csv_downloads_the_rows_on_screen(signed_in_page, staff_user, mirror, tmp_path):  # noqa: F811
    page = signed_in_page
    page.goto("/")
    page.check("input[name=direction][value=outgoing]")
    expect(page).to_have_url(re.compile(r"/\?direction=outgoing$"))
    page.fill("#id_customer", "7001")
    page.keyboard.press("Tab")  # change: the filters apply
    expect(page).to_have_url(re.compile(r"customer=7001"))
    expected = expected_ids(mirror, staff_user, InboxFilters(direction="outgoing", customer=7001))
    wait_rows(page, expected)
    load_every_page(page)
    on_screen = row_ids(page)
    assert on_screen == expected
    with page.expect_download() as info:
        page.click("text=Export CSV")
    download = info.value
    assert re.fullmatch(r"messages-.*\.csv", download.suggested_filename)
    path = tmp_path / "export.csv"
    download.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0][0] == "Id"
    assert [int(r[0]) for r in rows[1:]] == on_screen
    assert page.errors == [] and page.outside == []


def test_the_reader_and_the_list_stay_in_step(signed_in_page, staff_user, mirror):  # noqa: F811
    page = signed_in_page
    page.goto("/")
    expect(page.locator('#counts [data-count="unread"]')).to_be_visible()
    before = unread_count(page)
    pk = next(int(i) for i in row_ids(page) if page.locator(f"#msg-{i}").get_attribute("data-unread") == "1")
    row = page.locator(f"#msg-{pk}")
    row.locator(".msg-link").click()
    expect(page.locator(f'#reader .message[data-message-id="{pk}"]')).to_be_visible()
    expect(row).not_to_have_class(re.compile(r"\bunread\b"))  # from the reader's messageMarked event
    expect(page.locator('#counts [data-count="unread"]')).to_have_text(f"{before - 1:,}")

    page.click("#reader #message-actions button:has-text('Mark unread')")
    expect(page.locator("#reader .read-state")).to_have_text("Unread for you")
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    expect(row).to_have_attribute("data-unread", "1")
    expect(page.locator('#counts [data-count="unread"]')).to_have_text(f"{before:,}")

    page.locator("body").click(position={"x": 5, "y": 5})  # the keyboard is the list's again
    page.keyboard.press("u")  # the row is current: u reads it, and the open reader says so
    expect(row).not_to_have_class(re.compile(r"\bunread\b"))
    expect(page.locator("#reader .read-state")).to_have_text("Read")
    expect(page.locator('#counts [data-count="unread"]')).to_have_text(f"{before - 1:,}")
    assert MessageMark.objects.get(user=staff_user, message_id=pk).is_read is True
    assert page.errors == []


def test_bulk_marks_bring_an_open_reader_in_line(signed_in_page, staff_user, mirror):  # noqa: F811
    page = signed_in_page
    page.goto("/")
    pk = row_ids(page)[0]
    page.locator(f"#msg-{pk} .msg-link").click()
    expect(page.locator("#reader .read-state")).to_have_text("Read")
    page.check(f"#msg-{pk} input.select")
    page.click("#bulk button[value=unread]")
    expect(page.locator("#status")).to_have_text("Marked 1 message unread.")
    expect(page.locator("#reader .read-state")).to_have_text("Unread for you")
    expect(page.locator(f"#msg-{pk}")).to_have_class(re.compile(r"\bunread\b"))


def test_an_open_message_has_an_address(signed_in_page, staff_user, mirror):  # noqa: F811
    page = signed_in_page
    page.goto("/?direction=incoming")
    ids = expected_ids(mirror, staff_user, InboxFilters(direction="incoming"))
    page.locator(f"#msg-{ids[0]} .msg-link").click()
    expect(page).to_have_url(re.compile(rf"/\?direction=incoming&open={ids[0]}$"))
    expect(page.locator(f'#reader .message[data-message-id="{ids[0]}"]')).to_be_visible()
    page.click("#reader a[rel=next]")  # older, in this view
    expect(page.locator(f'#reader .message[data-message-id="{ids[1]}"]')).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/\?direction=incoming&open={ids[1]}$"))
    expect(page.locator(f"#msg-{ids[1]}")).to_have_class(re.compile(r"\bopen\b"))

    page.reload()  # a reload (or the copied address) reopens it beside the same list
    expect(page.locator(f'#reader .message[data-message-id="{ids[1]}"]')).to_be_visible()
    expect(page.locator("#inbox")).to_have_class(re.compile(r"\breading\b"))
    expect(page.locator(f"#msg-{ids[1]}")).to_have_class(re.compile(r"\bopen\b"))
    expect(page.locator("#filters input[name=direction][value=incoming]")).to_be_checked()

    page.locator(f"#msg-{ids[2]} .msg-link").click()
    expect(page).to_have_url(re.compile(rf"open={ids[2]}$"))
    page.go_back()  # back: the message opened before
    expect(page).to_have_url(re.compile(rf"open={ids[1]}$"))
    expect(page.locator(f'#reader .message[data-message-id="{ids[1]}"]')).to_be_visible()
    page.go_forward()
    expect(page.locator(f'#reader .message[data-message-id="{ids[2]}"]')).to_be_visible()

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")  # closing the reader takes the message out of the address
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    expect(page).to_have_url(re.compile(r"/\?direction=incoming$"))
    page.check("input[name=unread]")  # another view: its own address, no reader
    expect(page).to_have_url(re.compile(r"/\?direction=incoming&unread=1$|/\?unread=1&direction=incoming$"))
    assert page.errors == []


def test_a_message_gone_since_the_list_loaded_says_so_in_the_reader(signed_in_page, staff_user, mirror):  # noqa: F811
    page = signed_in_page
    page.goto("/")
    pk = row_ids(page)[1]
    CoworkerMessage.objects.filter(pk=pk).delete()
    page.locator(f"#msg-{pk} .msg-link").click()
    expect(page.locator("#reader")).to_contain_text(f"No message {pk}")  # the 404 fragment, swapped
    assert [e for e in page.errors if "404" not in e] == []


def test_times_are_local_exact_where_asked_and_the_console_is_clean(signed_in_page, staff_user, mirror):  # noqa: F811
    page = signed_in_page
    page.goto("/")
    icon = page.get_attribute('link[rel="icon"]', "href")
    response = page.request.get(icon)
    assert response.status == 200 and "svg" in response.headers["content-type"]
    pk = row_ids(page)[0]
    page.locator(f"#msg-{pk} .msg-link").click()
    exact = page.locator('#reader time[data-time-format="exact"]').first
    expect(exact).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Written the one way (inbox/timefmt.py, ported in static/js/timefmt.js), in the page's zone.
    shown, wanted = exact.evaluate("""el => [el.textContent, HelpdeskTime.exact(
        new Date(el.getAttribute("datetime")), document.body.dataset.timeZone || undefined)]""")
    assert shown == wanted and "2025" in shown
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}, [1-9]?\d:\d\d:\d\d \S+", shown), shown
    listed = page.locator(f"#msg-{pk} time")
    assert listed.get_attribute("title") == wanted  # relative in the list, exact on hover
    # Older than this year: the list says the date with its year (not a weekday, as within a week).
    assert "2025" in listed.inner_text() and not re.match(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", listed.inner_text())
    assert page.errors == [] and page.outside == []



@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}], ids=["1440", "390"])
def test_the_shortcuts_list_over_an_open_message_closes_alone(new_page, staff_user, mirror, viewport):  # noqa: F811
    """"?" over an open message: on a phone the list came up inert (under the covering reader, so
    nothing in it could be reached), and Esc closed the message behind it instead of the list."""
    first = expected_ids(mirror, staff_user, InboxFilters())[0]
    page = new_page(staff_user, viewport=viewport)
    page.goto(f"/?open={first}")
    expect(page.locator(f'#reader .message[data-message-id="{first}"]')).to_be_visible()
    page.locator("#reader [data-close-reader]").focus()
    page.keyboard.press("?")
    shortcuts = page.locator("#shortcuts")
    expect(shortcuts).to_be_visible()
    assert shortcuts.evaluate("el => !el.inert && !el.closest('[inert]')")
    expect(shortcuts.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    expect(page.locator("#inbox")).to_have_class(re.compile(r"\breading\b"))  # the message stays
    page.keyboard.press("Escape")
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    expect(page.locator(f"#msg-{first} .msg-link")).to_be_focused()
    assert page.errors == [], page.errors
