"""An admin in a real Chromium: the accounts page (failing first, the filter) and Sync now live.

Data comes the real way: the sandbox is served by the live server, and the mirror is filled by
the sync services over HTTP; the Sync now run is carried out by a real Celery worker.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from django.conf import settings
from django.test import Client

from inbox.accounts.selectors import forget_cached
from inbox.models import SyncRun
from inbox.context_processors import forget_last_synced
from inbox.sync.services import sync_accounts, sync_messages
from sandbox import services as sandbox
from tests.accounts.fixtures import sandbox_client, sandbox_source, sync_worker  # noqa: F401

# Playwright's sync API runs an event loop in this thread; the ORM calls between browser steps
# are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])]


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _favicon(message) -> bool:
    return (message.location or {}).get("url", "").endswith("/favicon.ico")  # the layout has none


@pytest.fixture
def admin_page(chromium, sandbox_source, admin_user):  # noqa: F811 (the imported fixture)
    """A page signed in as the admin; console errors (CSP violations among them) are collected."""
    forget_cached()  # the live server shares this process's cache with earlier tests
    client = Client()
    client.force_login(admin_user)
    context = chromium.new_context(base_url=sandbox_source.url, viewport={"width": 1400, "height": 900})
    context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": sandbox_source.url,
    }])
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" and not _favicon(m) else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def test_admin_sees_the_failing_account_first_and_filters_to_those_needing_attention(admin_page):
    sandbox.seed(accounts=16, customers=40, messages=800)
    client = sandbox_client()
    assert sync_messages(mode="full", client=client).status == "success"
    assert sync_accounts(client=client).status == "success"
    page = admin_page

    page.goto("/accounts/")
    assert page.title().startswith("Mail accounts")
    rows = page.locator("tr.account-row")
    first = rows.first
    assert first.get_attribute("data-status") == "failing"
    assert first.locator(".status-badge").inner_text() == "Failing"
    assert first.locator("li.reason").count() >= 1
    assert first.locator("li.reason").first.is_visible()
    assert page.get_by_text("12 errors since the last successful check (more than 5)").is_visible()
    # The nav badge counts the accounts needing attention.
    badge = int(page.locator("nav .badge").inner_text())
    statuses = [rows.nth(i).get_attribute("data-status") for i in range(rows.count())]
    assert "healthy" in statuses and "inactive" in statuses
    assert badge == sum(s in ("failing", "warning") for s in statuses)
    # Charts are drawn (server-side SVG).
    assert page.locator("svg.chart-volume").count() == rows.count()

    page.get_by_role("link", name=re.compile(r"Needing attention")).click()
    page.wait_for_url(re.compile(r"/accounts/\?attention=1$"))
    expect(page.locator("tr.account-row[data-status=healthy]")).to_have_count(0)
    filtered = [s for s in page.locator("tr.account-row").evaluate_all("rows => rows.map(r => r.dataset.status)")]
    assert filtered and set(filtered) <= {"failing", "warning"} and len(filtered) == badge
    assert filtered[0] == "failing"
    # Back to all of them.
    page.get_by_role("link", name="All accounts").click()
    expect(page.locator("tr.account-row")).to_have_count(len(statuses))

    if os.environ.get("HEALTH_SCREENSHOT"):
        page.goto("/accounts/")
        page.screenshot(path=os.environ["HEALTH_SCREENSHOT"], full_page=False)
    assert page.errors == [], page.errors


@pytest.mark.worker
def test_admin_presses_sync_now_and_watches_the_progress_bar_reach_the_end(admin_page, sync_worker, settings):  # noqa: F811
    sandbox.seed(accounts=4, customers=30, messages=400)
    sandbox.set_faults(latency_ms=120)
    settings.NEXUDUS_PAGE_SIZE = 25  # 16 pages: several seconds to watch
    page = admin_page

    forget_last_synced()  # what an earlier test's page cached is not this test's
    page.goto("/sync/")
    card = page.locator("#sync-card-messages")
    assert card.get_by_text("Never run yet.").is_visible()
    expect(page.locator("#last-synced")).to_have_text("Not synced yet")
    # Record every value the progress bar shows, in the page itself.
    page.evaluate("""() => {
        window.seenProgress = [];
        new MutationObserver(() => {
            const bar = document.querySelector('#sync-card-messages [role=progressbar][aria-valuenow]');
            if (bar) window.seenProgress.push(Number(bar.getAttribute('aria-valuenow')));
        }).observe(document.body, {subtree: true, childList: true, attributes: true});
    }""")
    card.get_by_role("button", name="Full resync").click()
    page.locator("#sync-card-messages[data-status=running], #sync-card-messages[data-status=queued]").wait_for()
    assert page.locator("#sync-card-messages button", has_text="Sync now").is_disabled()

    done = page.locator('#sync-card-messages [role=progressbar][aria-valuenow="100"]')
    done.wait_for(timeout=60_000)
    card = page.locator("#sync-card-messages")
    assert card.get_attribute("data-status") == "success"
    assert card.get_by_text("Succeeded").is_visible()
    assert card.get_by_text(re.compile(r"400 seen · 400 created")).is_visible()
    # The top bar says so at once, not at its next half-minute poll.
    expect(page.locator("#last-synced")).to_have_text(re.compile(r"^Synced just now"), timeout=3_000)
    seen = page.evaluate("window.seenProgress")
    assert any(0 < p < 100 for p in seen), seen
    assert seen == sorted(seen), seen
    # Polling stopped, the buttons are back, and the history shows the run.
    assert not card.get_by_role("button", name="Sync now").is_disabled()
    run = SyncRun.objects.get()
    page.locator(f'#sync-state tr[data-run="{run.pk}"][data-status="success"]').wait_for(timeout=5_000)
    if os.environ.get("HEALTH_SYNC_SCREENSHOT"):
        page.screenshot(path=os.environ["HEALTH_SYNC_SCREENSHOT"], full_page=True)
    assert page.errors == [], page.errors


@pytest.mark.worker
def test_a_sync_that_fails_on_the_sync_page_says_so_in_the_top_bar_at_once(admin_page, sync_worker, settings):  # noqa: F811
    sandbox.seed(accounts=2, customers=5, messages=20)
    assert sync_messages(mode="full", client=sandbox_client()).status == "success"
    forget_last_synced()
    page = admin_page
    page.goto("/sync/")
    expect(page.locator("#last-synced")).to_have_text(re.compile(r"^Synced just now"))
    from inbox.nexudus import clear_shared_tokens

    settings.NEXUDUS_PASSWORD = "not-the-password"  # refused at once: no retries to wait for
    clear_shared_tokens()  # the token of the sync above would still be good
    page.locator("#sync-card-messages").get_by_role("button", name="Sync now").click()
    page.locator("#sync-card-messages[data-status=failed]").wait_for(timeout=30_000)
    # Not "Synced just now" beside the failed card until the next half-minute poll.
    expect(page.locator("#last-synced")).to_have_text(re.compile(r"^Sync failing · last synced"), timeout=3_000)
    assert page.errors == [], page.errors
