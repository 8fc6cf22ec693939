"""What an open inbox meets away from the happy path, in a real Chromium: the session ended under
it (signed out in another tab), a security token out of date (signed in again elsewhere), a server
that does not answer, and a date the browser cannot read. Each is said in words, loses nothing,
and is recovered from without a reload by hand."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from inbox.mailbox.filters import InboxFilters
from inbox.models import MessageMark
from inbox.ops.errors import STALE_FORM
from tests.browser.conftest import sign_in_through_form
from tests.browser.test_inbox_browser import mirror, wait_rows  # noqa: F401 (fixture)
from tests.mailbox.inbox_fixtures import expected_ids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out_in_another_tab(page):
    other = page.context.new_page()
    other.goto("/")
    other.click(".sign-out button")
    expect(other).to_have_url(re.compile(r"/login/"))
    return other


def test_signed_out_in_another_tab_the_inbox_goes_to_sign_in_and_back_to_its_view(new_page, staff_user, mirror):  # noqa: F811
    """The polls drew whole sign-in pages into the top bar and the list, and the title became
    "Sign in" over the inbox's address. Now the first poll answered "sign in" takes the tab there,
    and signing in brings the view back."""
    page = new_page(staff_user)
    page.goto("/?unread=1&direction=incoming")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters(unread=True, direction="incoming")))
    sign_out_in_another_tab(page).close()
    expect(page).to_have_url(re.compile(r"/login/\?next=%2F%3Funread%3D1%26direction%3Dincoming$"), timeout=15_000)
    expect(page.locator("#id_username")).to_be_visible()
    assert page.locator("#id_password").count() == 1  # one sign-in form, not one pasted into each part
    page.fill("#id_username", "staff")
    page.fill("#id_password", "staff-pass-123")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/\?unread=1&direction=incoming$"))
    expect(page.locator("h1.list-title")).to_have_text("Unread received")


def test_a_mark_with_a_token_out_of_date_reloads_the_page_and_says_it_was_not_done(new_page, staff_user, mirror, settings):  # noqa: F811
    """Signing in again (in any tab) gives the session a new security token: bulk marks from a page
    still open failed with a 403 that nothing showed."""
    settings.LIVE_POLL_SECONDS = 600  # no poll finds the moment between signing out and in again
    page = new_page(staff_user)
    page.goto("/?unread=1")
    ids = expected_ids(mirror, staff_user, InboxFilters(unread=True))
    wait_rows(page, ids)
    other = sign_out_in_another_tab(page)
    sign_in_through_form(other, "staff", "staff-pass-123")  # signed in again: a new token
    expect(other).to_have_url(re.compile(r"/$"))
    other.close()
    page.check(f"#sel-{ids[0]}")
    page.click("#bulk button[value=read]")
    expect(page.locator("#flash")).to_contain_text(STALE_FORM)
    expect(page.locator("#flash")).to_be_focused()
    assert not MessageMark.objects.exists()  # not done, and said so
    page.check(f"#sel-{ids[0]}")  # the page is up to date: it works now
    page.click("#bulk button[value=read]")
    expect(page.locator("#status")).to_contain_text("Marked")
    assert MessageMark.objects.filter(message_id=ids[0], is_read=True).exists()


def test_a_server_that_does_not_answer_is_said_and_the_form_stays_with_the_list(new_page, staff_user, mirror):  # noqa: F811
    """Requests that failed were silent: a filter clicked stayed chosen over the list of the view
    before, and nothing said why. The notice goes once a request is answered again."""
    page = new_page(staff_user)
    page.goto("/?unread=1")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters(unread=True)))
    down = lambda route: route.abort() if route.request.headers.get("hx-request") else route.fallback()  # noqa: E731
    page.route("**/*", down)
    page.click("input[name=direction][value=incoming]")  # not check(): the form goes back at once
    notice = page.locator("#trouble")
    expect(notice).to_be_visible()
    expect(notice).to_have_text(re.compile(r"^The help desk does not answer .*nothing was changed\. It keeps trying\.$"))
    expect(page.locator("input[name=direction][value='']")).to_be_checked()  # the form is the view on screen again
    expect(page.locator("h1.list-title")).to_have_text("Unread")
    assert "direction" not in page.url
    page.unroute("**/*", down)
    expect(notice).to_be_hidden(timeout=10_000)  # the next poll is answered
    page.check("input[name=direction][value=incoming]")
    expect(page.locator("h1.list-title")).to_have_text("Unread received")
    # htmx reports the failed requests as errors itself; nothing else may appear.
    assert [e for e in page.errors if not re.match(r"htmx:(sendError|afterRequest)|Failed to load resource", e)] == []


def test_a_date_the_browser_cannot_read_does_not_stop_the_other_filters(new_page, staff_user, mirror):  # noqa: F811
    """With a half-typed date in "From", the browser's own check of the form stopped every request
    of it: Unread ticked, the list and the address stayed the whole inbox, and nothing said why."""
    page = new_page(staff_user)
    page.goto("/")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters()))
    since = page.locator("#id_since")
    since.click()
    page.keyboard.type("11")  # a month alone
    page.keyboard.press("Tab")
    assert since.evaluate("el => el.validity.badInput")
    page.check("input[name=unread]")
    expect(page.locator("h1.list-title")).to_have_text("Unread")
    expect(page).to_have_url(re.compile(r"/\?unread=1$"))
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters(unread=True)))
    expect(page.locator("#err-since")).to_have_text("“From” is not a whole date, so it is not used.")
    expect(since).to_have_attribute("aria-invalid", "true")
    since.fill("2025-01-02")  # a whole date: used, and the message goes
    since.dispatch_event("change")
    expect(page).to_have_url(re.compile(r"since=2025-01-02"))
    expect(page.locator("#err-since")).to_have_text("")
    expect(since).not_to_have_attribute("aria-invalid", "true")
