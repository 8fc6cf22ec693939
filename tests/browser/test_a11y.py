"""WCAG 2.2 AA in a real Chromium: axe-core on every page state, at two widths, light and dark.

Each state (the inbox, the inbox with the reader open, a message's page, a customer's
conversation, the accounts and sync pages for an admin, sign-in, 403 and 404) is loaded at 1440
and 390 px wide with the browser's colour scheme light and dark; axe (tests/browser/axe.py) must
find no serious or critical violation. Then focus: where it goes when a message opens, and that it
stays on the control a person used after an htmx swap, and is never taken by a poll.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from inbox.accounts.selectors import forget_cached
from inbox.models import CoworkerMessage, EmailAccount, SyncRun
from tests.browser.axe import describe, run_axe
from tests.mailbox.inbox_fixtures import make_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
SCHEMES = ["light", "dark"]
CUSTOMER = 7001
FIRST = 300_040  # the newest message of the data below


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
    CoworkerMessage.objects.bulk_create(messages)
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


def _reader(page):
    page.goto(f"/?open={FIRST - 2}")
    expect(page.locator("#reader .message-subject")).to_be_visible()
    expect(page.locator("#counts .counts-total")).to_be_attached()


def _message(page):
    page.goto(f"/messages/{FIRST - 1}/")
    expect(page.locator("h1.message-subject")).to_be_visible()


def _customer(page):
    page.goto(f"/customers/{CUSTOMER}/")
    expect(page.locator(".bubble").first).to_be_visible()


def _accounts(page):
    page.goto("/accounts/")
    expect(page.locator(".account-row").first).to_be_visible()


def _sync(page):
    page.goto("/sync/")
    expect(page.locator(".sync-card").first).to_be_visible()


def _login(page):
    page.goto("/login/")
    expect(page.locator("#id_username")).to_be_visible()


def _forbidden(page):
    response = page.goto("/sync/")
    assert response.status == 403


def _not_found(page):
    response = page.goto("/no-such-page/")
    assert response.status == 404


# state: (who is signed in, how to get there)
STATES = {
    "inbox": ("staff", _inbox),
    "reader": ("staff", _reader),
    "message": ("staff", _message),
    "customer": ("staff", _customer),
    "accounts": ("admin", _accounts),
    "sync": ("admin", _sync),
    "login": (None, _login),
    "403": ("staff", _forbidden),
    "404": ("staff", _not_found),
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_or_critical_violations(new_page, staff_user, admin_user, data, state, width, scheme):
    who, visit = STATES[state]
    user = {"staff": staff_user, "admin": admin_user, None: None}[who]
    page = new_page(user, viewport=WIDTHS[width], color_scheme=scheme)
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
