"""Back and Forward in a real Chromium, at 1440 and 390 px: every view restored is one whose filter
form, address, list, heading, counts and title agree (htmx's history snapshot holds no ticked boxes,
and caught the reader pane half-open); the reader never leaves a blank pane behind."""

from __future__ import annotations

import dataclasses
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from inbox.mailbox.filters import InboxFilters
from inbox.models import MessageMark
from tests.browser.test_inbox_browser import mirror, row_ids, wait_rows  # noqa: F401 (fixture)
from tests.mailbox.inbox_fixtures import expected_ids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1440", "390"])


def heading(filters: InboxFilters) -> str:
    if filters.unordered == InboxFilters():
        return "Inbox"
    if filters.customer:
        raise NotImplementedError("these flows do not filter by customer")
    direction = {"incoming": "received", "outgoing": "sent"}.get(filters.direction or "", "")
    if filters.awaiting:
        state = "unread awaiting reply" if filters.unread else "awaiting reply"
    else:
        state = f"unread {direction}".strip() if filters.unread else direction
    if filters.q:
        return f"Search “{filters.q}”" + (f" · {state}" if state else "")
    if filters.awaiting or filters.unread:
        return state[0].upper() + state[1:]
    if filters.direction and filters.unordered.without("direction").is_empty:
        return {"incoming": "Received", "outgoing": "Sent"}[filters.direction]
    raise NotImplementedError("these flows filter by state, direction and words only")


FORM_STATE = """() => {
  const form = document.getElementById("filters");
  const radio = form.querySelector("input[name=direction]:checked");
  return {unread: form.querySelector("input[name=unread]").checked, awaiting: form.querySelector("input[name=awaiting]").checked,
          direction: radio ? radio.value : null,
          q: form.querySelector("#id_q").value, account: form.querySelector("#id_account").value,
          customer: form.querySelector("#id_customer").value};
}"""


def show_filters(page) -> None:
    """On a phone the filters fold under "Filters"."""
    more = page.locator("#more-filters")
    if not more.evaluate("el => el.open"):
        page.locator("#more-filters > summary").click()


def eventually(read, wanted, timeout: float = 5.0):
    """What ``read()`` says equals ``wanted`` within ``timeout`` (a restore the server answers takes a moment)."""
    deadline = time.monotonic() + timeout
    while (got := read()) != wanted:
        assert time.monotonic() < deadline, f"{got} != {wanted}"
        time.sleep(0.05)


def assert_view(page, mirror, user, filters: InboxFilters, *, more_rows: bool = False,  # noqa: F811
                read_since: int | None = None) -> None:
    """The address, the form, the list (its rows are the view's, in order), the heading, the counts
    and the title all say the same view. ``read_since``: a message opened (so read) after this list
    was drawn; like the live list, the restored one still shows it (as read) until the view reloads,
    while the counts are fresh."""
    wanted = {name: [value] for name, value in filters.to_params().items()}
    page.wait_for_url(lambda url: urlsplit(url).path == "/" and parse_qs(urlsplit(url).query) == wanted)
    wanted_form = {"unread": filters.unread, "awaiting": filters.awaiting, "direction": filters.direction or "", "q": filters.q or "",
                   "account": "", "customer": ""}
    eventually(lambda: page.evaluate(FORM_STATE), wanted_form)
    mark = mirror.marks.pop((user.pk, read_since), None) if read_since else None
    expected = expected_ids(mirror, user, filters)
    if read_since:
        mirror.marks[(user.pk, read_since)] = mark
        eventually(lambda: page.locator(f"#msg-{read_since}").get_attribute("data-unread"), "0")
    if more_rows:
        eventually(lambda: row_ids(page), expected)  # every page that infinite scroll had loaded is back
    else:
        eventually(lambda: row_ids(page)[:12], expected[:12])  # the first page (12 rows), maybe more
    name = heading(filters)
    expect(page.locator("h1.list-title")).to_have_text(name)
    unread = len(expected_ids(mirror, user, dataclasses.replace(filters, unread=True)))
    expect(page.locator('#counts [data-count="unread"]')).to_have_text(f"{unread:,}")
    expect(page).to_have_title(f"({unread:,}) {name} · Help desk" if unread else f"{name} · Help desk")
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    expect(page.locator("#reader")).to_be_hidden()


FOCUSED = "() => { const a = document.activeElement; return !a || a === document.body ? 'body' : a.id || a.className || a.tagName; }"


def assert_focus_kept(page) -> None:
    """Back or Forward left the focus somewhere (the control used, the row, the heading), not on <body>."""
    eventually(lambda: page.evaluate(FOCUSED) != "body", True)


def assert_open(page, pk: int, mirror, user) -> None:  # noqa: F811
    """Message ``pk`` is in the reader (and, opened, read for ``user``: the expected counts follow)."""
    mirror.marks[(user.pk, pk)] = True
    expect(page.locator(f'#reader .message[data-message-id="{pk}"]')).to_be_visible()
    expect(page.locator("#inbox")).to_have_class(re.compile(r"\breading\b"))
    expect(page.locator(f"#msg-{pk}")).to_have_class(re.compile(r"\bopen\b"))
    assert page.locator("#reader .message").count() == 1


def assert_list_takes_the_room(page, viewport) -> None:
    """No squeezed list beside an empty pane: the list runs to the right edge."""
    pane = page.locator(".list-pane").bounding_box()
    assert abs(pane["x"] + pane["width"] - viewport["width"]) <= 1, pane


def scroll_to_the_end(page) -> None:
    for _ in range(40):
        if not page.locator("#more").count():
            return
        page.eval_on_selector(".list-pane", "el => { el.scrollTop = el.scrollHeight; }")
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_timeout(200)
    raise AssertionError("the list never finished loading")


@VIEWPORTS
def test_filter_filter_back_back_forward(new_page, staff_user, mirror, viewport):  # noqa: F811
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    assert_view(page, mirror, staff_user, InboxFilters())
    show_filters(page)
    page.check("input[name=unread]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.check("input[name=direction][value=incoming]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="incoming"))

    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    assert_focus_kept(page)
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters())
    assert_focus_kept(page)
    page.go_forward()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    assert_focus_kept(page)

    show_filters(page)  # the next change keeps what the restored form shows (the unread box too)
    page.check("input[name=direction][value=outgoing]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="outgoing"))
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.fill("#id_q", "invoice")  # typed values follow the address too
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, q="invoice"))
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    assert page.errors == [] and page.outside == []


@VIEWPORTS
def test_a_view_htmx_no_longer_holds_comes_from_the_server(new_page, staff_user, mirror, viewport):  # noqa: F811
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    show_filters(page)
    page.check("input[name=unread]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.check("input[name=direction][value=incoming]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="incoming"))
    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")  # as after many views
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.go_forward()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="incoming"))
    assert page.errors == [], page.errors


@VIEWPORTS
def test_open_back_forward_never_leaves_a_blank_pane(new_page, staff_user, mirror, viewport):  # noqa: F811
    page = new_page(staff_user, viewport=viewport)
    filters = InboxFilters(direction="incoming")
    page.goto("/?direction=incoming")
    assert_view(page, mirror, staff_user, filters)
    ids = expected_ids(mirror, staff_user, filters)
    page.locator(f"#msg-{ids[1]} .msg-link").click()
    expect(page).to_have_url(re.compile(rf"/\?direction=incoming&open={ids[1]}$"))
    assert_open(page, ids[1], mirror, staff_user)

    page.go_back()
    assert_view(page, mirror, staff_user, filters)
    expect(page.locator(f"#msg-{ids[1]} .msg-link")).to_be_focused()  # the row it was opened from
    if viewport is WIDE:
        assert_list_takes_the_room(page, viewport)
    page.locator(f"#msg-{ids[2]} .msg-link").click()  # the list takes clicks and taps
    assert_open(page, ids[2], mirror, staff_user)
    expect(page).to_have_url(re.compile(rf"/\?direction=incoming&open={ids[2]}$"))
    page.go_back()
    assert_view(page, mirror, staff_user, filters)
    page.go_forward()  # forward reopens the message
    expect(page).to_have_url(re.compile(rf"/\?direction=incoming&open={ids[2]}$"))
    assert_open(page, ids[2], mirror, staff_user)
    assert_focus_kept(page)
    assert page.evaluate(FORM_STATE)["direction"] == "incoming"
    page.reload()
    assert_open(page, ids[2], mirror, staff_user)
    assert page.errors == [], page.errors


@VIEWPORTS
def test_open_close_then_back(new_page, staff_user, mirror, viewport):  # noqa: F811
    page = new_page(staff_user, viewport=viewport)
    filters = InboxFilters(direction="incoming")
    page.goto("/?direction=incoming")
    ids = expected_ids(mirror, staff_user, filters)
    wait_rows(page, ids)
    page.locator(f"#msg-{ids[0]} .msg-link").click()
    assert_open(page, ids[0], mirror, staff_user)
    page.click("#reader [data-close-reader]")
    assert_view(page, mirror, staff_user, filters)
    if viewport is WIDE:
        assert_list_takes_the_room(page, viewport)
    expect(page.locator(f"#msg-{ids[0]}")).not_to_have_class(re.compile(r"\bopen\b"))

    page.locator(f"#msg-{ids[3]} .msg-link").click()
    assert_open(page, ids[3], mirror, staff_user)
    page.go_back()  # the entry the first message was opened from (then closed): the list alone
    assert_view(page, mirror, staff_user, filters)
    page.go_forward()
    assert_open(page, ids[3], mirror, staff_user)
    page.keyboard.press("Escape")
    assert_view(page, mirror, staff_user, filters)
    assert page.errors == [], page.errors


@VIEWPORTS
def test_close_is_a_step_back_to_the_list_it_was_opened_from(new_page, staff_user, mirror, viewport):  # noqa: F811
    """Open from a list, Close: the address is the list's own entry again (not a copy of it), so
    Back leaves the list; the list on screen is the one worked in, not htmx's older snapshot of it;
    Forward reopens the message. Esc closes the same way; a message opened from the address alone
    (a link, a reload) closes in place."""
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    everything = InboxFilters()
    wait_rows(page, expected_ids(mirror, staff_user, everything))
    show_filters(page)
    page.locator("input[name=direction][value=incoming]").check()
    filters = InboxFilters(direction="incoming")
    assert_view(page, mirror, staff_user, filters)
    ids = expected_ids(mirror, staff_user, filters)
    entries = page.evaluate("history.length")
    page.locator(f"#msg-{ids[1]} .msg-link").click()
    assert_open(page, ids[1], mirror, staff_user)
    page.evaluate("document.getElementById('rows').dataset.workedIn = 'yes'")  # after htmx's snapshot
    page.click("#reader [data-close-reader]")
    assert_view(page, mirror, staff_user, filters)
    assert page.evaluate("history.length") == entries + 1  # the message's entry, now ahead
    assert page.locator("#rows").get_attribute("data-worked-in") == "yes"  # not restored from a snapshot
    expect(page.locator(f"#msg-{ids[1]} .msg-link")).to_be_focused()

    page.go_back()  # leaves the list
    assert_view(page, mirror, staff_user, everything)
    page.go_forward()
    assert_view(page, mirror, staff_user, filters)
    page.go_forward()  # the message closed
    assert_open(page, ids[1], mirror, staff_user)
    page.keyboard.press("Escape")
    assert_view(page, mirror, staff_user, filters)
    page.go_back()
    assert_view(page, mirror, staff_user, everything)

    # Opened from the list, then the next message by the reader's Older, then Back to the first:
    # Close still steps back to the list (htmx rewrote the first entry's state on the way).
    page.go_forward()
    assert_view(page, mirror, staff_user, filters)
    page.locator(f"#msg-{ids[3]} .msg-link").click()
    assert_open(page, ids[3], mirror, staff_user)
    page.click("#reader #message-next")
    assert_open(page, ids[4], mirror, staff_user)
    expect(page).to_have_url(re.compile(rf"open={ids[4]}$"))
    page.go_back()
    assert_open(page, ids[3], mirror, staff_user)
    page.click("#reader [data-close-reader]")
    assert_view(page, mirror, staff_user, filters)
    page.go_back()
    assert_view(page, mirror, staff_user, everything)

    # Opened, then Older twice, then Close: back over the three messages to the list's own entry,
    # so that Back leaves the list (not the messages again, then the list a second time).
    page.go_forward()
    assert_view(page, mirror, staff_user, filters)
    page.locator(f"#msg-{ids[3]} .msg-link").click()
    assert_open(page, ids[3], mirror, staff_user)
    entries = page.evaluate("history.length")  # the list's entry, then the message's last
    for older in (ids[4], ids[5]):
        page.click("#reader #message-next")
        assert_open(page, older, mirror, staff_user)
    page.go_back()  # Back steps through the messages opened
    assert_open(page, ids[4], mirror, staff_user)
    page.go_forward()
    assert_open(page, ids[5], mirror, staff_user)
    page.keyboard.press("Escape")
    assert_view(page, mirror, staff_user, filters)
    assert page.evaluate("history.length") == entries + 2  # the three messages, now ahead
    page.go_back()
    assert_view(page, mirror, staff_user, everything)
    page.go_forward()
    assert_view(page, mirror, staff_user, filters)
    page.go_forward()  # Forward reopens the first of them
    assert_open(page, ids[3], mirror, staff_user)
    page.go_back()
    page.go_back()
    assert_view(page, mirror, staff_user, everything)

    page.goto(f"/?direction=incoming&open={ids[2]}")  # opened by its address: nothing to step back to
    assert_open(page, ids[2], mirror, staff_user)
    entries = page.evaluate("history.length")
    page.click("#reader [data-close-reader]")
    assert_view(page, mirror, staff_user, filters)
    assert page.evaluate("history.length") == entries
    page.go_back()
    assert_view(page, mirror, staff_user, everything)
    assert page.errors == [], page.errors


def test_the_row_focused_after_close_is_not_under_the_lists_head(new_page, staff_user, mirror):  # noqa: F811
    """At 1440 px the list scrolls beside the reader: a row scrolled out of sight above comes back
    into sight below the list's sticky head when Close puts focus on it."""
    page = new_page(staff_user, viewport=WIDE)
    page.goto("/")
    ids = expected_ids(mirror, staff_user, InboxFilters())
    wait_rows(page, ids)
    page.locator(f"#msg-{ids[2]} .msg-link").click()
    assert_open(page, ids[2], mirror, staff_user)
    page.eval_on_selector(".list-pane", "el => { el.scrollTop = 900; }")
    page.click("#reader [data-close-reader]")
    link = page.locator(f"#msg-{ids[2]} .msg-link")
    expect(link).to_be_focused()
    head = page.locator(".list-head").bounding_box()
    row = page.locator(f"#msg-{ids[2]}").bounding_box()
    assert row["y"] >= head["y"] + head["height"] - 1, (row, head)


@VIEWPORTS
def test_infinite_scroll_then_back(new_page, staff_user, mirror, viewport):  # noqa: F811
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    ids = expected_ids(mirror, staff_user, InboxFilters())
    assert len(ids) > 24  # three pages of 12
    wait_rows(page, ids)
    scroll_to_the_end(page)
    assert row_ids(page) == ids

    far = ids[-3]
    page.locator(f"#msg-{far} .msg-link").click()  # open one far down, then Back
    assert_open(page, far, mirror, staff_user)
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(), more_rows=True)
    expect(page.locator(f"#msg-{far}")).to_be_in_viewport()  # where the person was in the list

    show_filters(page)
    page.check("input[name=unread]")  # another view, then Back: every row loaded is still there
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(), more_rows=True)
    assert page.errors == [], page.errors


@VIEWPORTS
def test_back_from_another_page_puts_the_scrolled_list_back(new_page, staff_user, mirror, viewport):  # noqa: F811
    """Rows loaded by scrolling, one far down opened, then a page of its own (the message's full
    page), then Back: the list came back as its first page at its top, without the open message."""
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    ids = expected_ids(mirror, staff_user, InboxFilters())
    wait_rows(page, ids)
    scroll_to_the_end(page)
    far = ids[-3]
    page.locator(f"#msg-{far} .msg-link").click()
    assert_open(page, far, mirror, staff_user)
    page.click("#reader a.message-nav-full")  # another document
    expect(page.locator("h1.message-subject")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(rf"open={far}$"))
    eventually(lambda: row_ids(page), ids)  # every row scrolled in is back, in order
    assert_open(page, far, mirror, staff_user)
    expect(page.locator(f'#reader .message[data-message-id="{far}"]')).to_be_visible()
    if viewport is WIDE:
        expect(page.locator(f"#msg-{far}")).to_be_in_viewport()  # where the person was in the list
    unread = len(expected_ids(mirror, staff_user, InboxFilters(unread=True)))
    expect(page.locator('#counts [data-count="unread"]')).to_have_text(f"{unread:,}")
    # Back once more: the list before the message was opened, every row still there.
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(), more_rows=True)
    assert page.errors == [], page.errors


def test_back_after_mark_all_shows_the_rows_as_they_are_now(new_page, staff_user, mirror):  # noqa: F811
    """"Mark all" (a form of its own) changes rows no kept view knows: leaving the page through it
    files none, and Back never shows the unread rows it marked."""
    page = new_page(staff_user, viewport=WIDE)
    page.goto("/")
    page.goto("/?unread=1")
    unread = expected_ids(mirror, staff_user, InboxFilters(unread=True))
    wait_rows(page, unread)
    page.evaluate("() => { window.confirm = () => true; }")  # "Mark all N messages ... as read?": yes
    page.locator("#counts form.mark-all button[value=read]").click()
    expect(page.locator("#rows > li.msg")).to_have_count(0)
    kept = page.evaluate(HISTORY_CACHE)
    assert not any("unread=1" in url for url in kept), kept
    page.go_back()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#rows > li.msg.unread")).to_have_count(0)
    assert page.errors == [], page.errors


HISTORY_CACHE = "() => JSON.parse(sessionStorage.getItem('htmx-history-cache') || '[]').map(item => item.url)"


@VIEWPORTS
def test_a_view_is_kept_for_back_after_the_click_not_during_it(new_page, staff_user, mirror, viewport):  # noqa: F811
    """The copy of the view left behind is filed in htmx's cache once the page is idle, not in the
    click's path (docs/rendering.md); Back before then files it first, and still finds it there:
    every row infinite scroll had loaded comes back, and the server is not asked."""
    page = new_page(staff_user, viewport=viewport)
    page.add_init_script("window.requestIdleCallback = () => 0;")  # the page is never idle
    page.goto("/")
    ids = expected_ids(mirror, staff_user, InboxFilters())
    wait_rows(page, ids)
    scroll_to_the_end(page)
    show_filters(page)
    page.check("input[name=unread]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    assert page.evaluate(HISTORY_CACHE) == []  # not filed during the click
    assert page.evaluate("document.body.getAttribute('hx-history')") == "false"  # nor by htmx itself

    restores = []
    page.on("request", lambda request: restores.append(request.url)
            if request.headers.get("hx-history-restore-request") else None)
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(), more_rows=True)
    assert restores == []
    assert page.evaluate(HISTORY_CACHE) == ["/"]  # filed by Back (the unread view it left waits)
    page.go_forward()  # files the unread view, then finds it
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    assert restores == []
    assert page.evaluate(HISTORY_CACHE) == ["/", "/?unread=1"]
    snapshot = page.evaluate("JSON.parse(sessionStorage.getItem('htmx-history-cache'))[0].content")
    assert "htmx-request" not in snapshot and 'id="rows"' in snapshot
    assert page.errors == [], page.errors


def test_an_inline_style_put_on_the_page_is_not_kept_for_back(new_page, staff_user, mirror):  # noqa: F811
    """The page sets no inline style, but an extension (or a test driver) may: put back by Back,
    the policy refused each one, an error each in the console."""
    page = new_page(staff_user, viewport=WIDE)
    page.goto("/")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters()))
    page.evaluate("document.querySelectorAll('#rows .msg').forEach(e => { e.style.outline = '1px solid red'; })")
    assert page.errors == [], page.errors
    show_filters(page)
    page.check("input[name=unread]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    assert page.errors == [], page.errors
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters())
    assert page.evaluate("document.querySelectorAll('[style]').length") == 0
    assert page.errors == [], page.errors


def test_the_title_names_the_view_and_its_unread_count(new_page, staff_user, mirror):  # noqa: F811
    page = new_page(staff_user, viewport=WIDE)
    page.goto("/?unread=1")
    unread = len(expected_ids(mirror, staff_user, InboxFilters(unread=True)))
    expect(page).to_have_title(f"({unread}) Unread · Help desk")
    first = row_ids(page)[0]
    page.locator(f"#msg-{first} .msg-link").click()  # reading it: one fewer unread
    expect(page).to_have_title(f"({unread - 1}) Unread · Help desk")
    page.click("#reader #message-actions button:has-text('Mark unread')")
    expect(page).to_have_title(f"({unread}) Unread · Help desk")
    page.fill("#id_q", "zzzz-nothing")  # no unread message in this view: no number
    expect(page).to_have_title("Search “zzzz-nothing” · unread · Help desk")
    page.locator("#id_q").blur()  # its change event asks again (before the box below would cancel it)
    page.wait_for_load_state("networkidle")
    page.uncheck("input[name=unread]")
    expect(page).to_have_title("Search “zzzz-nothing” · Help desk")
    assert page.errors == [], page.errors


@VIEWPORTS
def test_back_across_another_page(new_page, staff_user, mirror, viewport):  # noqa: F811
    """Views left for a page of its own (a message's full page) come back as their addresses say."""
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    show_filters(page)
    page.check("input[name=unread]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.check("input[name=direction][value=incoming]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="incoming"))
    first = row_ids(page)[0]
    page.locator(f"#msg-{first} .msg-link").click()
    assert_open(page, first, mirror, staff_user)
    page.click("#reader a.message-nav-full")  # another document
    expect(page.locator("h1.message-subject")).to_be_visible()
    page.go_back()  # drawn again by the server: read now, the message is out of the unread list but in the reader
    expect(page).to_have_url(re.compile(rf"open={first}$"))
    expect(page.locator(f'#reader .message[data-message-id="{first}"]')).to_be_visible()
    expect(page.locator("#inbox")).to_have_class(re.compile(r"\breading\b"))
    assert page.evaluate(FORM_STATE) == {"unread": True, "awaiting": False, "direction": "incoming", "q": "", "account": "", "customer": ""}
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="incoming"), read_since=first)
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True), read_since=first)
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters())
    assert page.errors == [], page.errors


def test_dates_and_account_come_back_as_the_server_read_them(new_page, staff_user, mirror):  # noqa: F811
    page = new_page(staff_user, viewport=WIDE)
    page.goto("/?since=2025-3-1&account=501")  # the server reads 2025-3-1 as 2025-03-01
    expect(page.locator("#id_since")).to_have_value("2025-03-01")
    expect(page.locator("#id_account")).to_have_value("501")
    page.check("input[name=unread]")
    page.wait_for_url(re.compile(r"unread=1"))
    page.select_option("#id_account", "")
    page.wait_for_url(lambda url: "account=" not in url)
    page.go_back()
    expect(page.locator("#id_account")).to_have_value("501")
    expect(page.locator("#filters input[name=unread]")).to_be_checked()
    page.go_back()
    expect(page.locator("#id_since")).to_have_value("2025-03-01")
    expect(page.locator("#filters input[name=unread]")).not_to_be_checked()
    expect(page.locator("#id_account")).to_have_value("501")
    assert page.errors == [], page.errors


@VIEWPORTS
def test_back_to_a_view_left_by_an_ordinary_link_is_the_whole_page(new_page, staff_user, mirror, viewport):  # noqa: F811
    """htmx fetched ``/?unread=1`` as a fragment; Back after an ordinary link to another address
    asks the server again for the whole page instead of showing the fragment the browser kept
    (``Vary`` on htmx's headers: inbox.ops.middleware.VaryOnHtmxMiddleware)."""
    page = new_page(staff_user, viewport=viewport, http_cache=True)
    page.goto("/")
    show_filters(page)
    page.check("input[name=unread]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.locator("a.clear-link").first.click()  # an ordinary link: a new document
    page.wait_for_url(lambda url: urlsplit(url).query == "")
    expect(page.locator("h1.list-title")).to_have_text("Inbox")
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    expect(page.locator("header.topbar, .topbar").first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"  # the stylesheet applies
    assert page.evaluate("document.querySelectorAll('link[rel=stylesheet]').length") >= 1
    assert page.errors == [], page.errors


def test_a_date_typed_digit_by_digit_filters_once(new_page, staff_user, mirror):  # noqa: F811
    """Chromium reports each step of a typed year as a whole date (0002-, 0020-, 0202-, 2026-...):
    the view is asked for once, for the date typed, with one history entry."""
    page = new_page(staff_user, viewport=WIDE, locale="en-US")
    page.goto("/")
    expect(page.locator("#rows > li.msg").first).to_be_visible()
    asked = []
    page.on("request", lambda request: asked.append(request.url) if urlsplit(request.url).path == "/" else None)
    before = page.evaluate("history.length")
    page.focus("#id_since")  # the first part, the month (as Tab from the field before does)
    page.keyboard.type("11202026", delay=60)
    page.wait_for_url(re.compile(r"since=2026-11-20"))
    page.wait_for_timeout(1000)
    assert [parse_qs(urlsplit(url).query)["since"] for url in asked] == [["2026-11-20"]], asked
    assert page.evaluate("history.length") == before + 1
    expect(page.locator("#id_since")).to_have_value("2026-11-20")
    page.fill("#id_since", "")  # cleared: the filter goes at once
    page.wait_for_url(lambda url: "since=" not in url)
    assert page.errors == [], page.errors


def test_a_search_is_asked_once_whether_it_is_left_or_sent_with_enter(new_page, staff_user, mirror):  # noqa: F811
    """Leaving the search box after its results came (a change event) asked for the same view
    again and added a second history entry; Enter right after typing sent the search twice."""
    page = new_page(staff_user, viewport=WIDE)
    page.goto("/")
    expect(page.locator("#rows > li.msg").first).to_be_visible()
    asked = []
    page.on("request", lambda request: asked.append(request.url) if urlsplit(request.url).path == "/" else None)
    before = page.evaluate("history.length")
    page.fill("#id_q", "invoice")
    page.wait_for_url(re.compile(r"q=invoice"))
    page.keyboard.press("Tab")  # leaves the box: its change event
    page.wait_for_timeout(700)
    assert len(asked) == 1, asked
    assert page.evaluate("history.length") == before + 1
    page.click("#id_q")
    page.keyboard.type(" desk")
    page.keyboard.press("Enter")  # before the typing pause has run out
    page.wait_for_url(re.compile(r"q=invoice(\+|%20)desk"))
    page.wait_for_timeout(700)
    assert len(asked) == 2, asked
    assert page.evaluate("history.length") == before + 2
    page.go_back()
    expect(page.locator("#id_q")).to_have_value("invoice")
    assert page.errors == [], page.errors


def test_forward_to_an_open_message_marked_unread_since_says_unread(new_page, staff_user, mirror):  # noqa: F811
    """Open a message (read), Back, mark it unread from the list, Forward: the row said unread
    and the reader still said "Read" with "Mark unread"."""
    page = new_page(staff_user, viewport=WIDE)
    page.goto("/")
    unread = page.locator('#rows > li.msg[data-unread="1"]').first
    pk = int(unread.get_attribute("data-id"))
    page.locator(f"#msg-{pk} .msg-link").click()
    expect(page.locator(f'#reader .message[data-message-id="{pk}"] .read-state')).to_have_text("Read")
    page.go_back()
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    expect(page.locator(f"#msg-{pk}")).to_have_attribute("data-unread", "0")
    page.check(f"#msg-{pk} input.select")
    page.click("#bulk button[value=unread]")
    expect(page.locator(f"#msg-{pk}")).to_have_attribute("data-unread", "1")
    page.go_forward()
    expect(page.locator(f'#reader .message[data-message-id="{pk}"]')).to_be_visible()
    expect(page.locator(f"#msg-{pk}")).to_have_attribute("data-unread", "1")
    expect(page.locator("#reader .read-state")).to_have_text("Unread for you")
    expect(page.locator("#reader #message-mark")).to_have_text("Mark read")
    assert MessageMark.objects.get(user=staff_user, message_id=pk).is_read is False
    assert page.errors == [], page.errors


def test_back_after_signing_out_shows_no_mail(new_page, staff_user, mirror):  # noqa: F811
    """Sign out, then Back, on a shared computer: the browser showed the inbox it kept, and Back
    again the views htmx kept in the tab. Nothing of the inbox is kept past signing out."""
    page = new_page(staff_user, viewport=WIDE, http_cache=True)
    page.goto("/")
    subject = page.locator("#rows > li.msg .subject").first.inner_text()
    show_filters(page)
    page.check("input[name=unread]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.check("input[name=direction][value=incoming]")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="incoming"))
    page.wait_for_function("() => (sessionStorage.getItem('htmx-history-cache') || '').length > 2")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/"))
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => !k.startsWith('htmx-current'))") == []
    for _ in range(3):
        page.go_back()
        page.wait_for_load_state()
        expect(page).to_have_url(re.compile(r"/login/"))
        expect(page.locator("#rows")).to_have_count(0)
        assert subject not in page.content()
    assert page.errors == [], page.errors


@VIEWPORTS
def test_a_counts_link_switches_the_view_in_place_and_keeps_focus(new_page, staff_user, mirror, viewport):  # noqa: F811
    """A count's link was a whole page load: focus went to <body> at the top of the page, while
    the filters keep it where it was. Now the form, the address, the list and the history agree
    as after a filter, and focus is back on the count."""
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    expect(page.locator("#rows > li.msg").first).to_be_visible()
    page.evaluate("window.sameDocument = true")
    if viewport["width"] <= 760:
        page.locator("#more-counts > summary").click()
    before = page.evaluate("history.length")
    page.locator('#counts .facets a:has-text("Unread")').focus()
    page.keyboard.press("Enter")
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    expect(page.locator('#counts .facets a:has-text("Unread")')).to_be_focused()
    assert page.evaluate("window.sameDocument === true")  # in place, not a new page
    assert page.evaluate("history.length") == before + 1
    page.locator('#counts .facets a:has-text("Received")').click()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True, direction="incoming"))
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters(unread=True))
    page.go_back()
    assert_view(page, mirror, staff_user, InboxFilters())
    assert page.errors == [], page.errors


# Where a row is, against the screen (the list scrolls in the window on phones, in its pane wide).
ROW_ON_SCREEN = """id => {
  const row = document.getElementById("msg-" + id), box = row.getBoundingClientRect();
  const pane = document.querySelector(".list-pane"), paneBox = pane.getBoundingClientRect();
  const bar = document.querySelector(".topbar").getBoundingClientRect();
  const top = Math.max(0, paneBox.top, bar.bottom), bottom = Math.min(window.innerHeight, paneBox.bottom);
  return {top: Math.round(box.top), bottom: Math.round(box.bottom), whole: box.top >= top - 0.5 && box.bottom <= bottom + 0.5,
          focused: row.contains(document.activeElement)};
}"""


@VIEWPORTS
def test_back_from_the_full_page_then_close_lands_on_the_row_that_was_open(new_page, staff_user, db, settings, viewport):
    """Deep in the list: open a row, its full page, Back, Close: the row is on screen whole, below
    the top bar, and focused (on a phone the list was some 2,000 px away, focus on a row out of
    sight: the browser put back the window's scroll it kept for the list's entry)."""
    from django.core.cache import cache

    from inbox.models import CoworkerMessage
    from tests.mailbox.inbox_fixtures import build_messages

    settings.INBOX_PAGE_SIZE = 50
    cache.clear()
    CoworkerMessage.objects.bulk_create(build_messages(count=160))
    page = new_page(staff_user, viewport=viewport)
    page.goto("/")
    for _ in range(12):  # scroll down the list until 150 rows are in
        if page.locator("#rows > li.msg").count() >= 150:
            break
        page.locator("#rows > li.msg").last.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
    page.wait_for_load_state("networkidle")
    target = row_ids(page)[140]
    page.locator(f"#msg-{target} .msg-link").scroll_into_view_if_needed()
    page.locator(f"#msg-{target} .msg-link").click()
    expect(page.locator(f'#reader .message[data-message-id="{target}"]')).to_be_visible()
    page.click("#reader a.message-nav-full")
    expect(page.locator("h1.message-subject")).to_be_visible()
    page.go_back()
    expect(page.locator(f'#reader .message[data-message-id="{target}"]')).to_be_visible()
    page.click("#reader [data-close-reader]")
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    page.wait_for_timeout(100)
    where = page.evaluate(ROW_ON_SCREEN, target)
    assert where["whole"] and where["focused"], where
    assert page.errors == [], page.errors

