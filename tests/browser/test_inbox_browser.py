"""The inbox in a real Chromium: sign in, filter, search, scroll, open, mark, keyboard, live."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from inbox.models import CoworkerMessage, EmailAccount, MessageMark
from inbox.mailbox.filters import InboxFilters
from tests.browser.conftest import sign_in_through_form
from tests.factories import build_account, build_message
from tests.mailbox.inbox_fixtures import BASE_TIME, InboxData, build_messages, expected_ids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mirror(db, settings) -> InboxData:
    settings.INBOX_PAGE_SIZE = 12
    settings.LIVE_POLL_SECONDS = 1
    settings.INBOX_COUNTS_CACHE_SECONDS = 0  # counts cached by an earlier test must not leak in
    cache.clear()
    EmailAccount.objects.bulk_create([build_account(id=501, display_name="Front desk"), build_account(id=502, display_name="Billing")])
    messages = build_messages(count=40)
    CoworkerMessage.objects.bulk_create(messages)
    return InboxData(messages=messages, deleted=[])


def row_ids(page) -> list[int]:
    return [int(x) for x in page.eval_on_selector_all("#rows > li.msg", "els => els.map(e => e.dataset.id)")]


def wait_rows(page, expected: list[int]) -> None:
    """The list shows the view's rows in order: the first page, and more if scrolling loaded them."""
    expect(page.locator("#rows > li.msg").first).to_have_attribute("data-id", str(expected[0]))
    page.wait_for_load_state("networkidle")
    shown = row_ids(page)
    assert len(shown) >= min(12, len(expected))
    assert shown == expected[: len(shown)]


def test_sign_in_and_filter_unread_incoming_with_history(browser_page, live_server, django_user_model, mirror):
    user = django_user_model.objects.create_user("dana", password="dana-pass-123")
    page = browser_page
    sign_in_through_form(page, "dana", "dana-pass-123")
    expect(page.locator("h1.list-title")).to_have_text("Inbox")
    wait_rows(page, expected_ids(mirror, user, InboxFilters()))
    expect(page.locator("#counts .counts-total")).to_contain_text(str(len(mirror.messages)))  # counts loaded

    page.check("input[name=unread]")
    expect(page).to_have_url(re.compile(r"/\?unread=1$"))
    page.check("input[name=direction][value=incoming]")
    expect(page).to_have_url(re.compile(r"/\?unread=1&direction=incoming$"))
    wait_rows(page, expected_ids(mirror, user, InboxFilters(unread=True, direction="incoming")))

    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?unread=1$"))
    wait_rows(page, expected_ids(mirror, user, InboxFilters(unread=True)))
    page.reload()  # a reload (or a copied link) reproduces the view
    expect(page.locator("#filters input[name=unread]")).to_be_checked()
    wait_rows(page, expected_ids(mirror, user, InboxFilters(unread=True)))
    assert page.errors == [] and page.outside == []


def test_search_then_clear(signed_in_page, staff_user, mirror):
    page = signed_in_page
    page.goto("/")
    page.keyboard.press("/")  # focuses the search
    page.keyboard.type("parking")
    expect(page).to_have_url(re.compile(r"q=parking"))
    wait_rows(page, expected_ids(mirror, staff_user, InboxFilters(q="parking")))
    page.fill("#id_q", "nothingmatchesthis")
    expect(page.locator(".empty h2")).to_have_text("No messages match these filters")
    page.click(".empty >> text=Clear filters")
    expect(page).to_have_url(re.compile(r"/$"))
    assert page.errors == []


def test_scrolling_loads_older_messages(signed_in_page, staff_user, mirror):
    page = signed_in_page
    page.goto("/")
    everything = expected_ids(mirror, staff_user, InboxFilters())
    page.wait_for_load_state("networkidle")
    assert 12 <= len(row_ids(page)) < len(everything)
    for _ in range(40):
        if not page.locator("#more").count():
            break
        page.eval_on_selector(".list-pane", "el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(250)  # the observer fires, the next page arrives
    expect(page.locator("#rows > li.msg")).to_have_count(len(everything))
    assert row_ids(page) == everything
    expect(page.locator("#rows .end")).to_be_visible()


def test_select_says_all_some_or_none_as_rows_come_and_go(signed_in_page, staff_user, mirror):
    """"Select" ticked the first page's rows; the rows scrolling brings come unticked, and the box
    then says "some" (it stayed ticked, as if a bulk mark would take the new rows too)."""
    page = signed_in_page
    page.goto("/")
    everything = expected_ids(mirror, staff_user, InboxFilters())
    page.wait_for_load_state("networkidle")
    page.check("#select-all")
    first = page.locator("#rows input.select:checked").count()
    assert first == len(row_ids(page)) < len(everything)
    state = "() => { const b = document.getElementById('select-all'); return [b.checked, b.indeterminate]; }"
    page.eval_on_selector(".list-pane", "el => { el.scrollTop = el.scrollHeight; }")
    expect(page.locator("#rows > li.msg")).not_to_have_count(first)
    # The box is brought up to date when htmx has settled the new rows, a moment after they are in
    # the page (waiting for "networkidle" waited for nothing: the page had been idle once already).
    page.wait_for_function(f"() => {{ const s = ({state})(); return !s[0] && s[1]; }}", timeout=5000)
    assert page.evaluate(state) == [False, True]
    assert page.locator("#rows input.select:checked").count() == first
    page.check("#select-all")
    assert page.evaluate(state) == [True, False]
    boxes = page.locator("#rows input.select")
    for i in range(boxes.count()):
        boxes.nth(i).uncheck()
    assert page.evaluate(state) == [False, False]
    assert page.errors == []


def test_a_rows_box_is_named_by_its_sender_and_subject(signed_in_page, staff_user, mirror):
    """A screen reader said "Select message 1005325" for each box: a number nobody reads."""
    page = signed_in_page
    page.goto("/")
    everything = expected_ids(mirror, staff_user, InboxFilters())
    wait_rows(page, everything)
    for pk in everything[:3]:
        message = CoworkerMessage.objects.get(pk=pk)
        name = f"Select {message.coworker_full_name or 'Unknown customer'} {message.subject or '(no subject)'}"
        expect(page.locator(f"#msg-{pk} input.select")).to_have_accessible_name(name)
    assert page.errors == []


def test_a_new_view_replaces_every_row_without_htmx_walking_them(signed_in_page, staff_user, mirror):
    """htmx walks each element it removes (one event each: ~1,000 for a page of rows); app.js takes
    the old rows out first, so a new view costs the same after scrolling through every page."""
    page = signed_in_page
    page.goto("/")
    everything = expected_ids(mirror, staff_user, InboxFilters())
    for _ in range(40):
        if not page.locator("#more").count():
            break
        page.eval_on_selector(".list-pane", "el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(250)
    expect(page.locator("#rows > li.msg")).to_have_count(len(everything))
    page.evaluate("""() => { window.walked = 0;
        document.addEventListener("htmx:beforeCleanupElement", (e) => { if (e.target.closest && e.target.closest("#rows")) window.walked++; }); }""")
    page.locator("#more-filters input[name=unread]").check()
    unread = expected_ids(mirror, staff_user, InboxFilters(unread=True))
    expect(page.locator("#rows > li.msg").first).to_have_attribute("data-id", str(unread[0]))
    page.wait_for_load_state("networkidle")
    assert row_ids(page) == unread[: len(row_ids(page))]
    assert page.evaluate("window.walked") <= 10  # the list and its last item, not 40 rows of ~19 elements each
    assert page.errors == [], page.errors


def test_open_in_the_reader_and_mark_unread_with_the_keyboard(signed_in_page, staff_user, mirror):
    page = signed_in_page
    page.goto("/")
    first = row_ids(page)[0]
    page.keyboard.press("j")
    expect(page.locator(f"#msg-{first}")).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator(f"#msg-{first}")).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("Enter")
    expect(page.locator("#inbox")).to_have_class(re.compile(r"\breading\b"))
    expect(page.locator("#reader")).not_to_be_empty()
    page.wait_for_load_state("networkidle")
    page.locator("body").click(position={"x": 5, "y": 5})  # focus back on the page, not the reader
    page.keyboard.press("u")  # opening read it; u marks it unread again
    expect(page.locator(f"#msg-{first}")).to_have_class(re.compile(r"\bunread\b"))
    mark = MessageMark.objects.get(user=staff_user, message_id=first)
    assert mark.is_read is False
    page.keyboard.press("u")
    expect(page.locator(f"#msg-{first}")).not_to_have_class(re.compile(r"\bunread\b"))
    page.keyboard.press("Escape")
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))


def test_j_takes_the_focus_to_the_row_so_enter_opens_it(signed_in_page, staff_user, mirror):
    """With the focus on Sign out (or Export CSV), j highlighted a row and Enter then signed out."""
    page = signed_in_page
    page.goto("/")
    first = row_ids(page)[0]
    for control in ("form.sign-out button", "a.export-csv"):
        page.goto("/")
        page.locator(control).first.focus()
        page.keyboard.press("j")
        expect(page.locator(f"#msg-{first}")).to_have_class(re.compile(r"\bcurrent\b"))
        expect(page.locator(f"#msg-{first} .msg-link")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#inbox")).to_have_class(re.compile(r"\breading\b"))
        expect(page).to_have_url(re.compile(rf"open={first}"))
    assert page.errors == [], page.errors


def test_the_arrows_on_a_row_step_through_the_list(signed_in_page, staff_user, mirror):
    page = signed_in_page
    page.goto("/")
    ids = row_ids(page)
    page.locator(f"#msg-{ids[0]} .msg-link").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator(f"#msg-{ids[2]} .msg-link")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator(f"#msg-{ids[1]} .msg-link")).to_be_focused()
    expect(page.locator(f"#msg-{ids[1]}")).to_have_class(re.compile(r"\bcurrent\b"))
    assert page.evaluate("window.scrollY") == 0  # the arrows moved the focus, not the page
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"open={ids[1]}"))
    assert page.errors == [], page.errors


def test_a_mail_account_walked_to_by_the_arrows_loads_once(signed_in_page, staff_user, mirror):
    """Chromium changes a closed select at each arrow key: the view loads once the keys stop (or
    at Enter), for the account they stopped on, not once for every account on the way."""
    page = signed_in_page
    page.goto("/")
    page.wait_for_load_state("networkidle")
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "account=" in r.url and "/inbox/counts/" not in r.url else None)
    options = page.eval_on_selector_all("#id_account option", "os => os.map(o => o.value)")
    page.focus("#id_account")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = options[2]
    expect(page).to_have_url(re.compile(rf"account={chosen}"))
    page.wait_for_load_state("networkidle")
    assert [u for u in asked if "account=" in u] == [u for u in asked if f"account={chosen}" in u], asked
    assert len({u for u in asked}) == 1, asked
    expect(page.locator("#id_account")).to_be_focused()
    asked.clear()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")  # at once
    expect(page).to_have_url(re.compile(rf"account={options[1]}"))
    page.wait_for_timeout(900)  # past the pause: nothing more is sent
    assert len(asked) == 1 and f"account={options[1]}" in asked[0], asked
    assert page.errors == [], page.errors


def test_a_new_view_starts_at_the_top_of_the_list(new_page, staff_user, mirror):
    """At wide screens the list scrolls in its own pane: a filter changed 30 rows down showed the
    new view part-way down, and the sentinel there loaded pages nobody asked for."""
    page = new_page(staff_user, viewport={"width": 1440, "height": 600})
    page.goto("/")
    for _ in range(20):
        if page.locator("#rows > li.msg").count() >= 36:
            break
        page.eval_on_selector(".list-pane", "el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(200)
    assert page.eval_on_selector(".list-pane", "el => el.scrollTop") > 500
    page.locator("#more-filters input[name=direction][value=incoming]").check()
    incoming = expected_ids(mirror, staff_user, InboxFilters(direction="incoming"))
    expect(page.locator("#rows > li.msg").first).to_have_attribute("data-id", str(incoming[0]))
    page.wait_for_load_state("networkidle")
    assert page.eval_on_selector(".list-pane", "el => el.scrollTop") == 0
    assert row_ids(page) == incoming[:12]  # one page: nothing loaded behind the person's back
    # Back puts the earlier view where it was left.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"direction="))
    page.wait_for_load_state("networkidle")
    assert page.eval_on_selector(".list-pane", "el => el.scrollTop") > 500
    assert page.errors == [], page.errors


def test_bulk_mark_selected_rows(signed_in_page, staff_user, mirror):
    page = signed_in_page
    page.goto("/?unread=1")
    ids = row_ids(page)[:2]
    for pk in ids:
        page.check(f"#msg-{pk} input.select")
    page.click("#bulk button[value=read]")
    expect(page.locator("#status")).to_have_text("Marked 2 messages read.")
    for pk in ids:
        expect(page.locator(f"#msg-{pk}")).not_to_have_class(re.compile(r"\bunread\b"))
    assert set(MessageMark.objects.filter(user=staff_user, is_read=True).values_list("message_id", flat=True)) == set(ids)


def test_keys_on_a_rows_checkbox_and_a_bulk_mark_of_nothing(signed_in_page, staff_user, mirror):
    """Enter on a row's checkbox opens its message (it submitted the bulk form: "Mark read");
    Esc closes the reader with focus back on the row; a bulk mark with nothing ticked says so
    beside the buttons, the view, its rows and the reader kept (it reloaded the page)."""
    page = signed_in_page
    page.goto("/?unread=1")
    ids = row_ids(page)
    marks = []
    page.on("request", lambda request: marks.append(request.url) if "/mark" in request.url else None)
    page.focus(f"#msg-{ids[1]} input.select")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator(f'#reader .message[data-message-id="{ids[1]}"]')).to_be_visible()
    assert not [url for url in marks if "selected" in url], marks  # no bulk mark
    assert not MessageMark.objects.filter(message_id=ids[0]).exists()
    page.keyboard.press("Escape")
    expect(page.locator("#inbox")).not_to_have_class(re.compile(r"\breading\b"))
    assert page.evaluate("document.activeElement.closest('li.msg') && document.activeElement.closest('li.msg').id") == f"msg-{ids[1]}"
    page.locator(f"#msg-{ids[1]} .msg-link").click()  # the reader open again
    expect(page.locator(f'#reader .message[data-message-id="{ids[1]}"]')).to_be_visible()
    page.uncheck(f"#msg-{ids[1]} input.select")
    page.evaluate("window.stillHere = true")
    url = page.url
    page.click("#bulk button[value=read]")
    expect(page.locator("#status")).to_have_text("Select messages to mark first.")
    assert page.evaluate("window.stillHere") is True and page.url == url  # no reload
    expect(page.locator(f'#reader .message[data-message-id="{ids[1]}"]')).to_be_visible()
    assert page.evaluate("document.activeElement.value") == "read"  # the button pressed keeps focus
    assert page.errors == [], page.errors


def test_shortcuts_dialog_and_typing_is_not_a_shortcut(signed_in_page, mirror):
    page = signed_in_page
    page.goto("/")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.click("#id_q")
    page.keyboard.type("jk")  # letters typed into the search are text, not shortcuts
    expect(page.locator("#id_q")).to_have_value("jk")
    assert page.locator("#rows > li.current").count() == 0

    page.goto("/")
    page.click("#id_q")
    page.keyboard.press("Escape")  # out of the search, onto the list (not <body>)
    first, second = row_ids(page)[:2]
    expect(page.locator(f"#msg-{first} .msg-link")).to_be_focused()
    page.keyboard.press("Tab")  # the next row's box: the list's shortcuts work there too
    expect(page.locator(f"#msg-{second} input.select")).to_be_focused()
    page.keyboard.press("x")
    expect(page.locator("#rows input.select:checked")).to_have_count(1)
    ticked = page.locator("#rows input.select:checked").evaluate("box => box.closest('li').id")
    assert ticked == page.locator("#rows > li.current").get_attribute("id"), ticked
    page.keyboard.press("j")
    expect(page.locator("#rows > li.current")).not_to_have_id(ticked)


def test_live_banner_announces_new_messages(signed_in_page, staff_user, mirror):
    page = signed_in_page
    page.goto("/?direction=incoming")
    received = len(expected_ids(mirror, staff_user, InboxFilters(direction="incoming")))
    expect(page.locator("#counts .counts-total")).to_contain_text(f"{received} messages")
    later = BASE_TIME + dt.timedelta(minutes=10)
    CoworkerMessage.objects.bulk_create([
        build_message(created_on=later, incoming=True, is_new_message=True, subject="Fresh one"),
        build_message(created_on=later, incoming=True, is_new_message=True, subject="Fresh two"),
        build_message(created_on=later, incoming=False, subject="Not in this view"),
    ])
    banner = page.locator(".live-banner")
    expect(banner).to_have_text(re.compile(r"2 new messages"), timeout=8000)
    # The counts and the tab's title follow the new messages at once; the list waits for "show".
    expect(page.locator("#counts .counts-total")).to_contain_text(f"{received + 2} messages")
    unread = len(expected_ids(mirror, staff_user, InboxFilters(direction="incoming", unread=True))) + 2
    expect(page).to_have_title(f"({unread}) Received · Help desk")
    expect(page.locator("#rows > li.msg").first).not_to_contain_text("Fresh")
    entries = page.evaluate("history.length")
    banner.click()
    expect(page.locator("#rows > li.msg").first).to_contain_text("Fresh")
    assert page.evaluate("history.length") == entries  # the same view: no second entry of it
    expect(page.locator(".live-banner")).to_have_count(0)
    # The list's own place is still there: the filters go on working after the banner's swap.
    expect(page.locator("#results")).to_have_count(1)
    page.evaluate("""() => { const d = document.getElementById("more-filters"); if (d) d.open = true; }""")
    page.check("input[name=unread]")
    expect(page).to_have_url(re.compile(r"direction=incoming&unread=1|unread=1&direction=incoming"))
    expect(page.locator("h1.list-title")).to_have_text("Unread received")
    expect(page.locator("#rows > li.msg").first).to_be_visible()
    expect(page.locator("#rows > li.msg:not(.unread)")).to_have_count(0)  # unread, received, as asked
    expect(page.locator("#rows > li.msg .dir-out")).to_have_count(0)
    assert page.errors == [], page.errors


def test_the_page_works_without_javascript(new_page, staff_user, mirror):
    page = new_page(staff_user, java_script_enabled=False)
    page.goto("/")
    # Nothing counts in the sidebar without the script: no "Counting…" forever, a link instead.
    expect(page.locator("#counts .counting")).to_be_hidden()
    expect(page.locator("#counts a", has_text="Show the counts")).to_be_visible()
    page.check("input[name=unread]")
    page.click("text=Apply filters")
    expect(page).to_have_url(re.compile(r"unread=1"))
    assert row_ids(page) == expected_ids(mirror, staff_user, InboxFilters(unread=True))[:12]
    page.click("text=Older messages")
    assert row_ids(page) == expected_ids(mirror, staff_user, InboxFilters(unread=True))[12:24]


def test_a_filters_error_shows_beside_it_and_goes_when_it_is_fixed(new_page, staff_user, mirror):
    """A new list brings only its own request's errors (out of band); what an earlier one said goes
    as the list arrives, and the control stops saying it is invalid."""
    page = new_page(staff_user, viewport={"width": 1440, "height": 900})
    page.goto("/")
    expect(page.locator("#rows > li.msg").first).to_be_visible()
    page.fill("#id_since", "2026-03-10")
    page.wait_for_url(re.compile(r"since=2026-03-10"))
    page.fill("#id_until", "2026-03-01")
    page.wait_for_url(re.compile(r"until=2026-03-01"))
    expect(page.locator("#err-until")).to_contain_text("“To” is before “from”")
    expect(page.locator("#err-until")).to_have_attribute("role", "alert")
    expect(page.locator("#id_until")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-since")).to_be_empty()

    page.fill("#id_until", "2026-03-20")
    page.wait_for_url(re.compile(r"until=2026-03-20"))
    expect(page.locator("h1.list-title")).to_have_text("10 Mar – 20 Mar 2026")
    expect(page.locator("#err-until")).to_be_empty()
    expect(page.locator("#err-until")).not_to_have_attribute("role", "alert")
    assert page.locator("#filters [aria-invalid]").count() == 0
    assert page.locator("p.field-error:not(:empty)").count() == 0
    assert page.errors == [], page.errors
