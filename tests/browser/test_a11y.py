"""WCAG 2.2 AA in a real Chromium: axe-core on every page state, at two widths, light and dark.

Each state (the inbox, the inbox with the reader open, a message's page, a customer's
conversation, the accounts and sync pages for an admin, sign-in, 403 and 404) is loaded at 1440
and 390 px wide with the browser's colour scheme light and dark; axe (tests/browser/axe.py) must
find no serious or critical violation. Then focus: where it goes when a message opens, and that it
stays on the control a person used after an htmx swap, and is never taken by a poll.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from inbox.accounts.selectors import forget_cached
from inbox.models import CoworkerMessage, EmailAccount, Preference, SyncRun
from inbox.sync import awaiting
from inbox.sync.customers import refresh_customers
from tests.browser.axe import describe, run_axe
from tests.factories import build_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
SCHEMES = ["light", "dark"]
CUSTOMER = 7001
FIRST = 300_040  # the newest message of the data below


def make_message(**fields) -> CoworkerMessage:
    """One unsaved message (tests/factories.py) with this test's customer and account."""
    defaults = dict(
        coworker_id=CUSTOMER, coworker_full_name="Zoë Ærøskøbing", coworker_email="zoe@example.dk",
        coworker_company_name="Kōbō KK", email_account_id=501, email_account_display_name="Front desk",
        subject="A message", body="<p>A message</p>", body_text="A message",
        is_new_message=False, incoming=True, created_on=timezone.now(),
    )
    return build_message(**{**defaults, **fields})


@pytest.fixture
def data(settings):
    """A small mirror with a little of everything the pages show (unread and read, both directions,
    long names, a company, accounts healthy, failing and inactive, sync runs that worked and failed)."""
    settings.INBOX_PAGE_SIZE = 12
    settings.INBOX_COUNTS_CACHE_SECONDS = 0
    cache.clear()
    forget_cached()
    now = timezone.now()
    EmailAccount.objects.bulk_create([
        EmailAccount(id=501, display_name="Front desk", email_address="front@example.com", active=True,
                     incoming_server="imap.example.com", incoming_server_port=993, incoming_server_ssl=True,
                     last_check_time=now - dt.timedelta(minutes=5), error_count=0),
        EmailAccount(id=502, display_name="Billing", email_address="billing@example.com", active=True,
                     incoming_server="imap.example.com", incoming_server_port=993,
                     last_check_time=now - dt.timedelta(days=3), error_count=7),
        EmailAccount(id=503, display_name="Old events", email_address="events@example.com", active=False),
    ])
    people = [
        (CUSTOMER, "Zoë Ærøskøbing", "Kōbō KK"),
        (7002, "Ana García-Villanueva de la Fuente", "Café Nord"),
        (7003, "Борис Пастернак", None),
    ]
    messages = []
    for i in range(40):
        who, name, company = people[i % 3]
        messages.append(make_message(
            id=FIRST - i, coworker_id=who, coworker_full_name=name, coworker_company_name=company,
            coworker_email=f"c{who}@example.com",
            email_account_id=501 + (i % 2), email_account_display_name=["Front desk", "Billing"][i % 2],
            subject=f"Question {i} about the meeting room" if i % 4 else f"Re: invoice {i}",
            body=f'<p>Hello, this is message {i}. <a href="https://example.com/">A link</a></p>',
            body_text=f"Hello, this is message {i}. A link",
            incoming=i % 3 != 1, is_new_message=i % 2 == 0,
            created_on=now - dt.timedelta(minutes=7 * i + 1),
        ))
    # A customer who has waited two days (past the reply target) and one who asked 5 hours ago
    # (both older than the rows above, whose places the focus tests count on).
    messages.append(make_message(id=FIRST - 100, coworker_id=7010, coworker_full_name="Seán O’Brien",
                                 subject="Still no key card", created_on=now - dt.timedelta(days=2)))
    messages.append(make_message(id=FIRST - 101, coworker_id=7011, coworker_full_name="ليلى حداد",
                                 subject="Re: سؤال عن الفاتورة", created_on=now - dt.timedelta(hours=5)))
    CoworkerMessage.objects.bulk_create(messages)
    awaiting.rebuild()  # as the sync keeps it
    SyncRun.objects.create(resource=SyncRun.Resource.MESSAGES, mode=SyncRun.Mode.INCREMENTAL,
                           status=SyncRun.Status.SUCCESS, trigger="beat", started_at=now - dt.timedelta(minutes=3),
                           finished_at=now - dt.timedelta(minutes=2), records_seen=40, records_created=40, requests_made=2)
    SyncRun.objects.create(resource=SyncRun.Resource.ACCOUNTS, mode=SyncRun.Mode.INCREMENTAL,
                           status=SyncRun.Status.FAILED, trigger="admin", started_at=now - dt.timedelta(minutes=9),
                           finished_at=now - dt.timedelta(minutes=9), error="HTTP 401 from Nexudus: bad credentials",
                           error_kind="credentials")
    return messages


def _inbox(page):
    page.goto("/")
    expect(page.locator("#rows > li.msg").first).to_be_visible()
    expect(page.locator("#counts .counts-total")).to_be_attached()


def _awaiting(page):
    page.goto("/?awaiting=1&order=oldest")
    expect(page.locator("#rows .waiting.late").first).to_be_visible()
    expect(page.locator("#counts .counts-total")).to_be_attached()


def _compact(page):
    Preference.objects.update_or_create(user_id=page.user_id, defaults={"density": Preference.Density.COMPACT})
    _inbox(page)
    expect(page.locator("#inbox[data-density=compact]")).to_be_attached()


def _reader(page):
    page.goto(f"/?open={FIRST - 2}")
    expect(page.locator("#reader .message-subject")).to_be_visible()
    expect(page.locator("#counts .counts-total")).to_be_attached()


def _shortcuts(page):
    _reader(page)  # over an open message: on a phone, over the reader that covers the screen
    page.locator("#reader [data-close-reader]").focus()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()


def _message_by_id(page):
    page.goto(f"/?q={FIRST - 3}")  # a search that is a message's Id: the notice naming it, a link in text
    expect(page.locator(".notice.by-id a")).to_be_visible()


def _message(page):
    page.goto(f"/messages/{FIRST - 1}/")
    expect(page.locator("h1.message-subject")).to_be_visible()


def _customer(page):
    page.goto(f"/customers/{CUSTOMER}/")  # opened at its latest message (axe sizes targets in sight)
    expect(page.locator(".bubble").last).to_be_in_viewport()


def _customer_top(page):
    _customer(page)
    page.evaluate("window.scrollTo(0, 0)")  # the customer's details and links
    expect(page.locator("h1")).to_be_in_viewport()


def _accounts(page):
    page.goto("/accounts/")
    expect(page.locator(".account-row").first).to_be_visible()


def _sync(page):
    page.goto("/sync/")
    expect(page.locator(".sync-card").first).to_be_visible()


def _lockouts(page):
    for username in ("ann", None):  # one person's lock-out and one address's
        AccessAttempt.objects.create(
            username=username, ip_address="203.0.113.9", user_agent="Mozilla/5.0", path_info="/login/",
            http_accept="*/*", get_data="", post_data="", failures_since_start=django_settings.LOGIN_ADDRESS_FAILURE_LIMIT,
        )
    page.goto("/lockouts/")
    expect(page.locator("table.lockouts tbody tr").first).to_be_visible()


def _counts_page(page):
    page.goto("/inbox/counts/?direction=incoming")  # the counts without JavaScript ("Show the counts")
    expect(page.locator(".facets.accounts li").first).to_be_visible()


def _find_customer(page):
    refresh_customers()
    page.goto("/customers/lookup/?q=ana")  # the customer field without JavaScript
    expect(page.locator("h1")).to_have_text("Find a customer")
    expect(page.get_by_text("Ana García-Villanueva de la Fuente").first).to_be_visible()


def _login(page):
    page.goto("/login/")
    expect(page.locator("#id_username")).to_be_visible()


def _forbidden(page):
    response = page.goto("/sync/")
    assert response.status == 403


def _export_refused(page):
    response = page.goto("/export.csv?unread=1&since=2026-13-01")  # an export's address edited by hand
    assert response.status == 400
    expect(page.locator("h1")).to_have_text("No export was made")


def _accounts_refused(page):
    page.goto("/accounts/?attention=banana")
    expect(page.get_by_text("“Needing attention” takes 1 (on) or 0 (off) — ignored.")).to_be_visible()


def _not_a_page(page):
    response = page.goto("/inbox/mark/")  # a form's address opened as a page
    assert response.status == 405


def _not_found(page):
    response = page.goto("/no-such-page/")
    assert response.status == 404


# state: (who is signed in, how to get there)
STATES = {
    "inbox": ("staff", _inbox),
    "awaiting": ("staff", _awaiting),
    "compact": ("staff", _compact),
    "reader": ("staff", _reader),
    "shortcuts": ("staff", _shortcuts),
    "message": ("staff", _message),
    "message-by-id": ("staff", _message_by_id),
    "customer": ("staff", _customer),
    "customer-top": ("staff", _customer_top),
    "accounts": ("admin", _accounts),
    "sync": ("admin", _sync),
    "lockouts": ("admin", _lockouts),
    "counts": ("staff", _counts_page),
    "find-customer": ("staff", _find_customer),
    "login": (None, _login),
    "403": ("staff", _forbidden),
    "404": ("staff", _not_found),
    "export-refused": ("staff", _export_refused),
    "accounts-refused": ("admin", _accounts_refused),
    "405": ("staff", _not_a_page),
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_or_critical_violations(new_page, staff_user, admin_user, data, state, width, scheme):
    who, visit = STATES[state]
    user = {"staff": staff_user, "admin": admin_user, None: None}[who]
    page = new_page(user, viewport=WIDTHS[width], color_scheme=scheme)
    page.user_id = user.pk if user else None
    visit(page)
    page.wait_for_load_state("networkidle")
    violations = run_axe(page)
    assert violations == [], f"{state} at {width} px, {scheme}:\n{describe(violations)}"
    assert page.outside == []


def test_axe_finds_a_violation_when_there_is_one(new_page, staff_user, data):
    """The check can fail: a page made unreadable on purpose is caught."""
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    page.evaluate("() => { document.querySelector('.list-title').style.color = '#a0a8b4'; }")
    assert "color-contrast" in [v["id"] for v in run_axe(page)]


# --- Focus and what is said ---------------------------------------------------------------------

def active(page) -> dict:
    """Where the keyboard is: the focused element's id, tag, classes and text."""
    return page.evaluate("""() => { const e = document.activeElement;
        return {id: e.id, tag: e.tagName.toLowerCase(), cls: e.className, text: (e.textContent || '').trim()}; }""")


def said(page) -> str:
    return page.locator("#announcer").text_content()


def test_one_live_region_and_headings_in_order(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _reader(page)
    live = page.evaluate("""() => Array.from(document.querySelectorAll(
        '[aria-live], [role=status], [role=alert], [role=log], [role=marquee], [role=timer], output'))
        .map(e => e.id || e.className)""")
    assert live == ["announcer"]
    assert page.get_attribute("#announcer", "aria-live") == "polite"
    levels = page.evaluate("""() => Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
        .filter(h => !h.closest('dialog')).map(h => Number(h.tagName[1]))""")
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels


def test_skip_link_is_the_first_tab_stop_and_reaches_the_messages(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    page.keyboard.press("Tab")
    assert active(page)["text"] == "Skip to messages"
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    now = active(page)
    assert "msg-link" in now["cls"] and page.evaluate("() => document.activeElement.closest('li').dataset.id") == str(FIRST)
    # Elsewhere it skips the top bar to the page's content.
    page.goto(f"/messages/{FIRST}/")
    page.keyboard.press("Tab")
    assert active(page)["text"] == "Skip to content"
    page.keyboard.press("Enter")
    assert active(page)["id"] == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('main')")


def test_opening_a_message_focuses_its_subject_and_marks_keep_focus(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    page.focus(f"#msg-{FIRST} .msg-link")
    page.keyboard.press("Enter")
    expect(page.locator(f'#reader .message[data-message-id="{FIRST}"]')).to_be_visible()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'message-subject'")
    assert page.evaluate("() => !!document.activeElement.closest('#reader')")

    page.focus("#message-mark")
    assert active(page)["text"] == "Mark unread"
    page.keyboard.press("Enter")
    expect(page.locator("#reader .read-state")).to_have_text("Unread for you")
    page.wait_for_timeout(300)  # settle
    now = active(page)
    assert now["id"] == "message-mark" and now["text"] == "Mark read", now
    expect(page.locator("#announcer")).to_have_text("Marked unread")
    page.keyboard.press("Enter")
    expect(page.locator("#reader .read-state")).to_have_text("Read")
    page.wait_for_timeout(300)
    now = active(page)
    assert now["id"] == "message-mark" and now["text"] == "Mark unread", now
    expect(page.locator("#announcer")).to_have_text("Marked read")
    # The counts reload after each mark, and say nothing.
    assert "match" not in said(page)


def test_newer_and_older_keep_focus(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    page.goto(f"/?open={FIRST - 1}")
    expect(page.locator(f'#reader .message[data-message-id="{FIRST - 1}"]')).to_be_visible()
    page.focus("#message-next")
    page.keyboard.press("Enter")
    expect(page.locator(f'#reader .message[data-message-id="{FIRST - 2}"]')).to_be_visible()
    page.wait_for_timeout(300)
    assert active(page)["id"] == "message-next"
    page.focus("#message-prev")
    page.keyboard.press("Enter")
    expect(page.locator(f'#reader .message[data-message-id="{FIRST - 1}"]')).to_be_visible()
    page.wait_for_timeout(300)
    assert active(page)["id"] == "message-prev"
    page.keyboard.press("Enter")  # to the newest: there is no newer, so focus goes to Older
    expect(page.locator(f'#reader .message[data-message-id="{FIRST}"]')).to_be_visible()
    page.wait_for_timeout(300)
    assert active(page)["id"] == "message-next"


def test_older_messages_hands_focus_to_the_first_new_row(new_page, staff_user, data):
    page = new_page(staff_user, viewport={"width": 1440, "height": 500})  # "Older messages" off screen
    _inbox(page)
    page.wait_for_load_state("networkidle")
    assert page.locator("#rows > li.msg").count() == 12
    # Tabbing onto "Older messages" scrolls it into view, which loads the next page in its place.
    page.evaluate(f"() => document.querySelector('#msg-{FIRST - 11} .msg-link').focus({{preventScroll: true}})")
    assert page.locator("#rows > li.msg").count() == 12
    page.keyboard.press("Tab")
    expect(page.locator("#rows > li.msg")).to_have_count(24)
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('msg-link')")
    assert page.evaluate("() => document.activeElement.closest('li').dataset.id") == str(FIRST - 12)


def test_new_messages_banner_is_said_once_and_keeps_focus_in_the_list(new_page, staff_user, data, settings):
    settings.LIVE_POLL_SECONDS = 1
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    CoworkerMessage.objects.bulk_create([make_message(id=FIRST + 1 + i, subject=f"Fresh {i}", created_on=timezone.now())
                                         for i in range(3)])
    banner = page.locator("#live-banner")
    expect(banner).to_contain_text("3 new messages")
    expect(page.locator("#announcer")).to_have_text("3 new messages")
    page.evaluate("() => { document.getElementById('announcer').textContent = ''; }")
    page.wait_for_timeout(1500)  # another poll, the same number: not said again
    assert said(page) == ""
    banner.focus()
    page.wait_for_timeout(1200)  # a poll while the banner has focus keeps it
    assert active(page)["id"] == "live-banner"
    page.keyboard.press("Enter")
    expect(page.locator("#rows > li.msg").first).to_have_attribute("data-id", str(FIRST + 3))
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('msg-link')")
    assert page.evaluate("() => document.activeElement.closest('li').dataset.id") == str(FIRST + 3)


def test_a_new_view_says_how_many_match(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    page.check("input[name=unread]")
    expect(page).to_have_url(re.compile(r"unread=1"))
    expect(page.locator("#announcer")).to_have_text("20 match")
    assert active(page)["tag"] == "input"  # the box that was ticked keeps focus


def test_accounts_tabs_keep_focus(new_page, admin_user, data):
    page = new_page(admin_user, viewport=WIDTHS["1440"])
    _accounts(page)
    page.focus("#accounts-tab-attention")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"attention=1"))
    expect(page.locator("#accounts-tab-attention")).to_have_attribute("aria-current", "page")
    page.wait_for_timeout(300)
    assert active(page)["id"] == "accounts-tab-attention"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#accounts-tab-all")).to_have_attribute("aria-current", "page")
    page.wait_for_timeout(300)
    assert active(page)["id"] == "accounts-tab-all"


def test_a_sync_card_poll_leaves_focus_alone(new_page, admin_user, data):
    page = new_page(admin_user, viewport=WIDTHS["1440"])
    _sync(page)
    card = page.locator("#sync-card-messages")
    button = card.locator("button[value=full]")
    button.focus()
    focused_id = active(page)["id"]
    assert focused_id == "sync-full-messages"
    page.evaluate("() => { document.getElementById('sync-card-messages').dataset.before = '1'; }")
    # The card polls every 10 s: wait for a fresh one (no data-before) and look where focus is.
    page.wait_for_function("() => { const c = document.getElementById('sync-card-messages'); return c && !c.dataset.before; }",
                           timeout=15_000)
    page.wait_for_timeout(300)
    assert active(page)["id"] == focused_id
    assert said(page) == ""  # nothing changed, nothing said


def test_keyboard_only_from_sign_in_to_marking_a_message_unread(new_page, django_user_model, data):
    user = django_user_model.objects.create_user("kim", password="kim-pass-123")
    page = new_page(viewport=WIDTHS["1440"])
    page.goto("/login/")
    assert active(page)["id"] == "id_username"  # autofocus
    page.keyboard.type("kim")
    page.keyboard.press("Tab")
    page.keyboard.type("kim-pass-123")
    page.keyboard.press("Enter")
    expect(page.locator("h1.list-title")).to_have_text("Inbox")
    expect(page.locator("#counts .counts-total")).to_be_attached()  # the page's scripts have run
    page.keyboard.press("Tab")  # the skip link, then the first message
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.closest('li').dataset.id") == str(FIRST)
    page.keyboard.press("Enter")  # open it: focus is on its subject
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'message-subject'")
    for _ in range(12):
        page.keyboard.press("Tab")
        if active(page)["id"] == "message-mark":
            break
    assert active(page)["text"] == "Mark unread"
    page.keyboard.press("Enter")
    expect(page.locator("#reader .read-state")).to_have_text("Unread for you")
    from inbox.models import MessageMark
    assert MessageMark.objects.get(user=user, message_id=FIRST).is_read is False


def test_a_mark_from_the_list_is_said_and_an_open_is_not(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    page.keyboard.press("j")  # the first row (unread) is current
    page.keyboard.press("u")
    expect(page.locator(f"#msg-{FIRST}")).not_to_have_class(re.compile(r"\bunread\b"))
    expect(page.locator("#announcer")).to_have_text("Marked read")
    page.evaluate("() => { document.getElementById('announcer').textContent = ''; }")
    page.locator(f"#msg-{FIRST - 2} .msg-link").click()  # opening marks it read: nothing said
    expect(page.locator(f"#msg-{FIRST - 2}")).not_to_have_class(re.compile(r"\bunread\b"))
    page.wait_for_timeout(400)
    assert said(page) == ""


def test_a_bulk_mark_is_said(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    page.check(f"#msg-{FIRST} input.select")
    page.check(f"#msg-{FIRST - 2} input.select")
    page.focus("#bulk button[value=read]")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Marked 2 messages read.")
    expect(page.locator("#announcer")).to_have_text("Marked 2 messages read.")
    assert active(page)["text"] == "Mark read"  # the button keeps focus (the rows were swapped, not it)


def test_after_mark_all_and_unlock_focus_is_on_what_they_did(new_page, admin_user, data):
    """Both reload their page (Post/Redirect/Get); focus goes to the sentence saying what was done,
    not back to the top of the page, so the next Tab goes on from there."""
    page = new_page(admin_user, viewport=WIDTHS["1440"])
    _inbox(page)
    page.evaluate("() => { window.confirm = () => true; }")  # "Mark all N messages ... as read?": yes
    page.focus("#counts form.mark-all button[value=read]")
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("read")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'flash'")
    expect(page.locator("#rows > li.msg.unread")).to_have_count(0)

    _lockouts(page)
    page.focus("table.lockouts tbody tr:first-child button")
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Unlocked sign-ins of")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'flash'")
    page.keyboard.press("Tab")  # on from the sentence, not from the top bar
    assert page.evaluate("""() => document.getElementById('flash').compareDocumentPosition(document.activeElement)
        & Node.DOCUMENT_POSITION_FOLLOWING""")
    assert page.evaluate("() => !!document.activeElement.closest('main')")


def test_a_page_without_a_result_keeps_its_own_focus(new_page, staff_user, data):
    page = new_page(staff_user, viewport=WIDTHS["1440"])
    _inbox(page)
    assert page.locator("#flash").count() == 0
    assert active(page)["tag"] == "body"  # nothing takes focus on an ordinary load
