"""Phones in a real Chromium (320, 390 and 430 px wide): no page scrolls sideways, the top bar is a
compact menu whose links are inside the screen, the open reader covers the screen with a Close
that works (and Esc), targets are at least 24 x 24 px; and a keyboard-only flow from sign-in to
marking a message unread."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import MessageMark, SyncRun
from inbox.mailbox.filters import InboxFilters
from inbox.sync.customers import refresh_customers
from tests.factories import make_message
from tests.browser.test_inbox_browser import mirror, row_ids, wait_rows  # noqa: F401 (fixture)
from tests.mailbox.inbox_fixtures import expected_ids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [320, 390, 430]
PHONE = {"width": 390, "height": 844}

# Whatever sticks out past the right edge of the screen (for the failure message).
WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth, out = [];
  const clipped = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== "visible") return true; } return false; };
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (clipped(el)) continue;  // inside a box that scrolls (a wide table) or clips it
    if (box.width && box.right > width + 0.5 && getComputedStyle(el).position !== "fixed") {
      out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")} right=${Math.round(box.right)}`);
    }
  }
  return out.slice(0, 8);
}"""


def assert_fits(page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"{what} scrolls sideways at {client} px: {page.evaluate(WIDER_THAN_SCREEN)}"


def small_targets(page, selector: str) -> list[str]:
    """Visible targets under 24 x 24 px (WCAG 2.5.8)."""
    return page.eval_on_selector_all(selector, """els => els.filter(el => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && (box.width < 23.5 || box.height < 23.5);
      }).map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} ${el.textContent.trim().slice(0, 20)} ${Math.round(el.getBoundingClientRect().width)}x${Math.round(el.getBoundingClientRect().height)}`)""")


@pytest.fixture
def sync_runs(db):
    now = timezone.now()
    SyncRun.objects.create(resource="messages", mode="incremental", status="success", trigger="beat",
                           started_at=now - dt.timedelta(minutes=3), finished_at=now - dt.timedelta(minutes=2))
    SyncRun.objects.create(resource="accounts", mode="full", status="failed", trigger="admin",
                           started_at=now - dt.timedelta(hours=2), finished_at=now - dt.timedelta(hours=2),
                           error="ConnectionError: the Nexudus API did not answer within 30 seconds " * 3)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(new_page, admin_user, staff_user, mirror, sync_runs, width):  # noqa: F811
    viewport = {"width": width, "height": 800}
    anonymous = new_page(viewport=viewport)
    anonymous.goto("/login/")
    assert_fits(anonymous, "the sign-in page")

    page = new_page(admin_user, viewport=viewport)
    ids = expected_ids(mirror, admin_user, InboxFilters())
    page.goto("/")
    wait_rows(page, ids)
    assert_fits(page, "the inbox")
    page.goto("/?unread=1&direction=incoming&q=inv")
    assert_fits(page, "a filtered inbox")
    page.goto("/")
    page.locator(f"#msg-{ids[0]} .msg-link").click()
    expect(page.locator(f'#reader .message[data-message-id="{ids[0]}"]')).to_be_visible()
    assert_fits(page, "the open reader")
    message = next(m for m in mirror.messages if m.pk == ids[0])
    # A customer with a long e-mail address, found by the lookup's own page.
    make_message(coworker_id=90210, coworker_full_name="Olivia Schneider",
                 coworker_email="olivia.schneider203@mail.example.net", coworker_company_name="Lumen SA")
    refresh_customers()
    # A lock-out listed (its column of Unlock buttons has a hidden heading) under a long username.
    AccessAttempt.objects.create(
        username="someone.with.a.long.address@coworking-space.example.com", ip_address="203.0.113.9",
        user_agent="Mozilla/5.0", path_info="/login/", http_accept="*/*", get_data="", post_data="",
        failures_since_start=settings.LOGIN_ADDRESS_FAILURE_LIMIT,
    )
    for url, what in [
        (f"/messages/{ids[0]}/", "a message"),
        (f"/customers/{message.coworker_id or 7001}/", "a customer"),
        ("/accounts/", "the mail accounts"),
        ("/sync/", "the sync page"),
        ("/lockouts/", "the lock-outs"),
        ("/customers/lookup/?q=schneider", "the customer lookup's own page"),
        ("/messages/1/", "a missing message"),
        # The view's name in the list's heading, one long word: an e-mail address or a link searched
        # for, a long company (it ran off the screen's edge).
        ("/?q=christopher.vandenberg%40example.com", "a search for an e-mail address"),
        ("/?q=https://www.company.example/booking?id=12345", "a search for a link"),
        ("/?company=" + "Aktiengesellschaft" * 4, "a long company's messages"),
        ("/no-such-page/", "the 404 page"),
        ("/export.csv?since=" + "2026-13-01" * 8, "an export refused, its value one long word"),
        ("/accounts/?attention=" + "x" * 80, "the accounts refusing a switch"),
    ]:
        page.goto(url)
        assert_fits(page, what)

    staff = new_page(staff_user, viewport=viewport)
    response = staff.goto("/accounts/")
    assert response.status == 403
    assert_fits(staff, "the 403 page")
    assert page.errors == [] or all(any(status in e for status in ("400", "403", "404")) for e in page.errors)


@pytest.mark.parametrize("width", [320, 390])
def test_the_sync_runs_are_cards_that_need_no_sideways_scroll(new_page, admin_user, sync_runs, width):  # noqa: F811
    """The runs' table was cut at the screen's right edge ("1 r / ag"), its sideways scroll unseen."""
    page = new_page(admin_user, viewport={"width": width, "height": 800})
    page.goto("/sync/")
    expect(page.locator("#sync-state")).not_to_contain_text("data-label")  # no template text shows
    region = page.locator("#sync-state .table-scroll")
    assert region.evaluate("el => el.scrollWidth <= el.clientWidth"), "the runs still scroll sideways"
    failed = page.locator('tr[data-status="failed"]')
    for label, text in (("Asked by", "admin"), ("Error", "ConnectionError")):
        cell = failed.locator(f'td[data-label="{label}"]')
        expect(cell).to_contain_text(text)
        assert cell.evaluate("el => getComputedStyle(el, '::before').content") == f'"{label}"'
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    # A run without an error takes no empty line for it.
    expect(page.locator('tr[data-status="success"] td.sync-error-cell')).to_be_hidden()
    assert_fits(page, "the sync page")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_top_bar_is_a_menu_whose_links_are_on_screen(new_page, admin_user, mirror, width):  # noqa: F811
    page = new_page(admin_user, viewport={"width": width, "height": 800})
    page.goto("/")
    toggle = page.locator("#menu-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#topbar-menu")).to_be_hidden()
    bar = page.locator(".topbar").bounding_box()
    box = toggle.bounding_box()
    assert box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"]  # inside the bar
    assert box["x"] + box["width"] <= width

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    links = page.locator("#topbar-menu a, #topbar-menu button")
    expect(links.first).to_be_visible()
    assert links.count() >= 5  # Inbox, Mail accounts, Sync, Lock-outs, Sign out
    for i in range(links.count()):
        link = links.nth(i).bounding_box()
        assert link["x"] >= 0 and link["y"] >= 0, links.nth(i).inner_text()
        assert link["x"] + link["width"] <= width and link["y"] + link["height"] <= 800, links.nth(i).inner_text()
        assert link["height"] >= 24 and link["width"] >= 24
    assert small_targets(page, "#topbar-menu a, #topbar-menu button, #menu-toggle") == []
    assert_fits(page, "the open menu")

    page.keyboard.press("Escape")  # closes the menu, focus back on its button
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#topbar-menu")).to_be_hidden()
    expect(toggle).to_be_focused()

    toggle.click()  # Tab through it and out: it closes behind the last link
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for _ in range(links.count() + 1):
        page.keyboard.press("Tab")
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.click()
    page.locator("#topbar-menu a", has_text="Sync").click()
    expect(page).to_have_url(re.compile(r"/sync/$"))
    expect(page.locator("#menu-toggle")).to_have_attribute("aria-expanded", "false")
    page.locator("#menu-toggle").click()
    page.mouse.click(width // 2, 760)  # a tap elsewhere closes it
    expect(page.locator("#topbar-menu")).to_be_hidden()
    assert page.errors == []


def test_a_failing_sync_marks_the_closed_menu_button(new_page, staff_user, mirror):  # noqa: F811
    """On a phone "Sync failing" is inside the menu: its closed button carries a mark, so staff
    see that new mail may not be arriving without opening it."""
    from inbox.context_processors import forget_last_synced

    page = new_page(staff_user, viewport={"width": 390, "height": 800})
    mark = "() => getComputedStyle(document.getElementById('menu-toggle'), '::after').content"
    page.goto("/")
    assert page.evaluate(mark) in ("none", "normal")
    now = timezone.now()
    SyncRun.objects.create(resource="messages", mode="incremental", status="failed", error_kind="unavailable",
                           started_at=now, finished_at=now)
    forget_last_synced()
    page.goto("/")
    assert page.evaluate(mark) not in ("none", "normal")
    page.locator("#menu-toggle").click()
    expect(page.locator("#last-synced")).to_contain_text("Sync failing")
    assert page.evaluate(mark) in ("none", "normal")  # the menu open says it in words
    assert page.errors == []


def test_without_javascript_the_top_bar_links_wrap_on_screen(new_page, admin_user, mirror):  # noqa: F811
    page = new_page(admin_user, viewport={"width": 320, "height": 700}, java_script_enabled=False)
    page.goto("/")
    expect(page.locator("#menu-toggle")).to_be_hidden()
    links = page.locator("#topbar-menu a, #topbar-menu button")
    for i in range(links.count()):
        expect(links.nth(i)).to_be_visible()
        box = links.nth(i).bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= 320 and box["y"] >= 0
    assert_fits(page, "the inbox without JavaScript")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_open_reader_covers_the_screen_and_closes(new_page, staff_user, mirror, width):  # noqa: F811
    page = new_page(staff_user, viewport={"width": width, "height": 780})
    page.goto("/?direction=incoming")
    ids = expected_ids(mirror, staff_user, InboxFilters(direction="incoming"))
    wait_rows(page, ids)
    assert small_targets(page, "#rows input.select, #select-all, #filters summary, #menu-toggle") == []
    page.locator(f"#msg-{ids[1]} .msg-link").click()
    reader = page.locator("#reader")
    expect(reader.locator(f'.message[data-message-id="{ids[1]}"]')).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/\?direction=incoming&open={ids[1]}$"))
    box = reader.bounding_box()
    assert box["x"] == 0 and box["y"] == 0 and box["width"] == width and box["height"] == 780  # the whole screen
    close = reader.locator("[data-close-reader]")
    expect(close).to_be_visible()
    expect(close).to_be_in_viewport()
    assert small_targets(page, "#reader .message-nav a, #reader .message-nav button, #reader #message-actions button") == []
    assert_fits(page, "the open reader")

    reader.evaluate("el => { el.scrollTop = el.scrollHeight; }")  # Close stays at the top while reading
    expect(close).to_be_in_viewport()
    close.click()
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    expect(reader).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/\?direction=incoming$"))
    expect(page.locator(f"#msg-{ids[1]} .msg-link")).to_be_focused()
    page.locator(f"#msg-{ids[2]} .msg-link").click()  # the list takes taps again
    expect(reader.locator(f'.message[data-message-id="{ids[2]}"]')).to_be_visible()
    page.keyboard.press("Escape")
    expect(reader).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/\?direction=incoming$"))
    assert page.errors == []


@pytest.mark.parametrize("width", [390, 1440])
def test_the_counts_and_mark_all_are_on_phones_too(new_page, staff_user, mirror, width):  # noqa: F811
    """At phone widths the counts (and the only Mark all) were hidden. They fold under a summary
    there, closed at first; wide, they show as before, with no summary; a phone turned wide
    unfolds them."""
    page = new_page(staff_user, viewport={"width": width, "height": 844})
    page.goto("/")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters()))
    counts, summary = page.locator("#counts"), page.locator("#more-counts > summary")
    unread = len(expected_ids(mirror, staff_user, InboxFilters(unread=True)))
    expect(counts.locator('[data-count="unread"]')).to_have_text(f"{unread:,}")
    if width == 1440:
        expect(summary).to_be_hidden()
        expect(counts.locator("form.mark-all button[value=read]")).to_be_visible()
        return
    expect(summary).to_have_text("Counts and Mark all")
    expect(counts).to_be_hidden()
    assert small_targets(page, "#more-counts > summary") == []
    summary.click()
    expect(counts.locator("form.mark-all button[value=read]")).to_be_visible()
    expect(counts.locator('[data-count="unread"]')).to_be_visible()
    assert_fits(page, "the counts on a phone")
    summary.click()
    expect(counts).to_be_hidden()
    page.set_viewport_size({"width": 1024, "height": 844})
    expect(counts.locator("form.mark-all button[value=read]")).to_be_visible()
    assert page.errors == []


@pytest.mark.parametrize("width", [390, 1440])
def test_the_filters_fold_on_a_phone_whatever_is_set_and_say_how_many(new_page, staff_user, mirror, width):  # noqa: F811
    """On a phone the filters unfolded whenever unread, a direction, an account, a customer or a
    date was set (~750 px of form above the list on every load of "Unread"), and stayed folded for
    awaiting reply, a company or the order. They now fold on every load, the list first, and the
    summary says how many are set, kept true as they change; a refused filter unfolds them so its
    message is seen. Wide, they show as before."""
    page = new_page(staff_user, viewport={"width": width, "height": 844})
    page.goto("/?unread=1&direction=incoming")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters(unread=True, direction="incoming")))
    more, summary = page.locator("#more-filters"), page.locator("#more-filters > summary")
    if width == 1440:
        expect(summary).to_be_hidden()
        expect(more.locator("input[name=unread]")).to_be_visible()
        return
    assert more.evaluate("el => el.open") is False
    expect(summary).to_have_text("Filters · 2 in use")
    first_row = page.locator("#rows > li.msg").first.bounding_box()
    assert first_row["y"] + first_row["height"] <= 844, first_row  # a message is on the first screen
    summary.click()
    more.locator("input[name=awaiting]").check()
    expect(summary).to_have_text("Filters · 3 in use")
    expect(page.locator("h1.list-title")).to_have_text("Unread awaiting reply")
    more.locator("input[name=unread]").uncheck()
    more.locator("input[name=direction][value='']").check()
    more.locator("input[name=awaiting]").uncheck()
    expect(summary).to_have_text("Filters")
    page.go_back()
    expect(summary).to_have_text(re.compile(r"^Filters · \d in use$"))
    for query, text in (("?awaiting=1&order=oldest", "Filters · 2 in use"), ("?company=Acme", "Filters · 1 in use"),
                        ("?since=2025-01-01&until=2025-02-01", "Filters · 1 in use")):
        page.goto("/" + query)
        expect(summary).to_have_text(text)
        assert more.evaluate("el => el.open") is False, query
    page.goto("/?since=yesterday&unread=1")
    expect(more.locator("#err-since")).to_be_visible()  # refused: unfolded, its message beside "From"
    expect(summary).to_have_text("Filters · 1 in use")
    # htmx reports the requests that the quick changes cut short as errors: nothing else may appear.
    assert [e for e in page.errors if not re.match(r"htmx:(sendAbort|afterRequest), \[object HTMLDivElement\]", e)] == []


FOCUS_OUTSIDE_READER = """() => { const el = document.activeElement;
  return el && el !== document.body && !document.getElementById("reader").contains(el)
    ? `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join(".")}` : null; }"""


@pytest.mark.parametrize("width", [390, 1440])
def test_what_the_covering_reader_hides_takes_no_focus(new_page, staff_user, mirror, width):  # noqa: F811
    """Tab and Shift+Tab from the open message went to the rows, the filters and the top bar under
    it, out of sight. While the reader covers a phone's screen they are inert; the live region is
    not (it must be heard), and all comes back when the reader closes. Side by side (wide), the
    list stays usable."""
    page = new_page(staff_user, viewport={"width": width, "height": 844})
    page.goto("/?direction=incoming")
    ids = expected_ids(mirror, staff_user, InboxFilters(direction="incoming"))
    wait_rows(page, ids)
    page.locator(f"#msg-{ids[1]} .msg-link").click()
    expect(page.locator(f'#reader .message[data-message-id="{ids[1]}"]')).to_be_visible()
    close = page.locator("#reader [data-close-reader]")
    close.focus()
    outside = []
    for key in ["Shift+Tab"] * 6 + ["Tab"] * 30:
        page.keyboard.press(key)
        outside.append(page.evaluate(FOCUS_OUTSIDE_READER))
    outside = [el for el in outside if el]
    if width == 390:
        assert outside == [], outside
        assert page.evaluate("document.querySelector('#rows').closest('[inert]') !== null")
        assert page.evaluate("document.getElementById('announcer').closest('[inert]') === null")
    else:
        assert outside, "side by side, Tab goes on from the reader to the page around it"
        assert page.evaluate("document.querySelectorAll('[inert]').length") == 0
    page.keyboard.press("Escape")
    expect(page.locator("#reader")).to_be_hidden()
    assert page.evaluate("document.querySelectorAll('[inert]').length") == 0
    expect(page.locator(f"#msg-{ids[1]} .msg-link")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.matches('#msg-%d input.select')" % ids[1])
    # Open, then Back: the list comes back from a snapshot taken while it was under the reader.
    page.locator(f"#msg-{ids[2]} .msg-link").click()
    expect(page.locator(f'#reader .message[data-message-id="{ids[2]}"]')).to_be_visible()
    page.go_back()
    expect(page.locator("#reader")).to_be_hidden()
    expect(page.locator("[inert]")).to_have_count(0)
    page.locator(f"#msg-{ids[3]} .msg-link").focus()
    expect(page.locator(f"#msg-{ids[3]} .msg-link")).to_be_focused()
    assert page.errors == []


def test_keyboard_only_from_sign_in_to_marking_a_message_unread(new_page, django_user_model, mirror):  # noqa: F811
    """Tab, Shift+Tab, Enter and Space only: no mouse, no shortcuts beyond them."""
    user = django_user_model.objects.create_user("kim", password="kim-pass-123")
    page = new_page(viewport={"width": 1440, "height": 900})
    page.goto("/login/")

    def tab_to(selector: str, limit: int = 200) -> None:
        for _ in range(limit):
            if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#id_username")
    page.keyboard.type("kim")
    tab_to("#id_password")
    page.keyboard.type("kim-pass-123")
    page.keyboard.press("Enter")
    expect(page.locator("h1.list-title")).to_have_text("Inbox")
    ids = expected_ids(mirror, user, InboxFilters())
    wait_rows(page, ids)

    tab_to("#filters input[name=unread]")
    page.keyboard.press("Space")  # the filter applies
    expect(page).to_have_url(re.compile(r"/\?unread=1$"))
    unread = expected_ids(mirror, user, InboxFilters(unread=True))
    wait_rows(page, unread)
    first = unread[0]
    tab_to(f"#msg-{first} .msg-link")
    # The row shows it has focus: highlighted as j / k highlight it, its outline drawn inside the
    # row (a row clips its own painting: an outline outside it was a 2 px line at its left).
    look = page.eval_on_selector(f"#msg-{first} .msg-link", """el => {
        const style = getComputedStyle(el);
        return [style.outlineStyle, parseFloat(style.outlineWidth) >= 2, parseFloat(style.outlineOffset) < 0,
                style.backgroundColor !== "rgba(0, 0, 0, 0)"];
    }""")
    assert look == ["solid", True, True, True], look
    page.keyboard.press("Enter")  # opens it (and reads it)
    expect(page.locator(f'#reader .message[data-message-id="{first}"]')).to_be_visible()
    expect(page.locator("#reader .read-state")).to_have_text("Read")
    tab_to("#reader #message-actions button")
    expect(page.locator("#reader #message-actions button")).to_have_text("Mark unread")
    page.keyboard.press("Enter")
    expect(page.locator("#reader .read-state")).to_have_text("Unread for you")
    expect(page.locator(f"#msg-{first}")).to_have_class(re.compile(r"\bunread\b"))
    assert MessageMark.objects.get(user=user, message_id=first).is_read is False
    for _ in range(20):  # Close is the reader's first control, a few Tabs back
        if page.evaluate("document.activeElement.matches('#reader [data-close-reader]')"):
            break
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    assert page.errors == []


HEAD_IN_SIGHT = """() => {
  const bar = document.querySelector(".topbar").getBoundingClientRect();
  const title = document.querySelector(".list-title").getBoundingClientRect();
  const x = title.left + Math.min(title.width / 2, 20), y = title.top + title.height / 2;
  const hit = document.elementFromPoint(x, y);
  return {barBottom: bar.bottom, titleTop: title.top, seen: !!(hit && hit.closest(".list-head")), scrolled: window.scrollY};
}"""


@pytest.mark.parametrize("width", [320, 390])
def test_the_list_heading_stays_in_sight_below_the_top_bar(new_page, staff_user, mirror, width):  # noqa: F811
    """On a phone the page itself scrolls: the list's sticky heading (the view's name, Export CSV)
    stuck at the top of the screen, behind the top bar, and was never seen once the list moved."""
    page = new_page(staff_user, viewport={"width": width, "height": 700})
    page.goto("/?unread=1&direction=incoming")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters(unread=True, direction="incoming")))
    page.mouse.wheel(0, 900)
    for _ in range(40):  # the wheel scrolls smoothly: until it has moved the page
        if page.evaluate("window.scrollY") > 300:
            break
        page.wait_for_timeout(50)
    state = page.evaluate(HEAD_IN_SIGHT)
    assert state["titleTop"] >= state["barBottom"] - 0.5 and state["seen"], state
    assert page.errors == []


@pytest.mark.parametrize("width", [320, 1440])
def test_a_long_account_name_in_the_counts_ends_in_an_ellipsis_beside_its_count(new_page, staff_user, mirror, width):  # noqa: F811
    from inbox.models import EmailAccount

    account_id = 501  # the mirror's "Front desk"
    long_name = "Front desk of the very long named second floor annex, north wing " * 2
    EmailAccount.objects.filter(pk=account_id).update(display_name=long_name)
    page = new_page(staff_user, viewport={"width": width, "height": 844})
    page.goto("/")
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters()))
    if width < 1024:
        page.locator("#more-counts > summary").click()
    link = page.locator("#counts .facets a", has_text="very long named")
    count = page.locator(f'#counts .facets .count[data-account="{account_id}"]')
    expect(link).to_be_visible()
    # Cut, with the ellipsis drawn (a block that clips; a flex box would draw none), the count whole beside it.
    assert link.evaluate("e => e.scrollWidth > e.clientWidth"), "the name is not cut"
    assert link.evaluate("e => [getComputedStyle(e).textOverflow, getComputedStyle(e).display]") == ["ellipsis", "block"]
    name_box, count_box = link.bounding_box(), count.bounding_box()
    assert name_box["x"] + name_box["width"] <= count_box["x"] + 0.5, (name_box, count_box)
    assert count.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert small_targets(page, "#counts .facets a") == []
    assert_fits(page, "the counts with a long account name")


@pytest.mark.parametrize("width", [390, 1440])
def test_a_missing_message_in_the_reader_closes_like_any(new_page, staff_user, mirror, width):  # noqa: F811
    """/?open=<an Id the mirror lacks>: the pane says so and offers its Close (it offered only a
    link that reloaded the inbox)."""
    page = new_page(staff_user, viewport={"width": width, "height": 844})
    page.goto("/?open=999999")
    expect(page.locator("#reader h2")).to_have_text("No message 999999")
    close = page.locator("#reader [data-close-reader]")
    assert small_targets(page, "#reader [data-close-reader]") == []
    close.click()
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    expect(page).not_to_have_url(re.compile(r"open="))
    expect(page.locator("#reader")).to_be_empty()
    expect(page.locator("#results .list-title")).to_be_focused()  # no row to go back to: not <body>
    assert [e for e in page.errors if "404" not in e] == []
