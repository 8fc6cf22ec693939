"""Playwright fixtures for browser tests: a Chromium, and pages (signed in or not) on the live server.

Use them from any ``tests/browser/test_*.py``::

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_something(signed_in_page, live_server):
        page = signed_in_page            # staff_user's session, base_url = live_server.url
        page.goto("/")                   # relative URLs work
        ...
        signed_in_page.errors            # console errors and uncaught page errors seen so far

* ``browser``: Debian's ``/usr/bin/chromium`` through Playwright's sync API (never
  ``playwright install``). Module-scoped on purpose: only one sync Playwright may run per thread,
  so a module's browser closes before the next module (which may start its own) begins.
* ``new_page(user=None, http_cache=False, **context_options)``: a factory; signed in as ``user``
  when given (a session cookie made with Django's test client: no password needed).
  ``http_cache``: the browser's HTTP cache works as in a person's browser; Playwright turns it off
  in a context that routes requests, so such a page does not list or abort remote requests.
* ``browser_page``: a page signed in as nobody (for the sign-in form).
* ``signed_in_page``: a page signed in as ``staff_user`` (tests/conftest.py).
* ``sign_in_through_form(page, username, password)``: the real form, as a person does it.

Each page records console errors and uncaught exceptions in ``page.errors`` (a list of strings)
and dismisses dialogs into ``page.dialogs``. Requests that would leave the live server are
aborted and listed in ``page.outside`` (the app must never load anything remote).
Browser tests need ``transaction=True``: the live server answers from another thread, which only
sees committed data (the SQLite test database is a file, see tests/settings.py).
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(user=None, http_cache=False, **options):
        options.setdefault("viewport", DEFAULT_VIEWPORT)
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.errors, page.dialogs, page.outside = [], [], []

        def route(route):
            if route.request.url.startswith(live_server.url + "/"):
                route.continue_()
            else:
                page.outside.append(route.request.url)
                route.abort()

        def on_dialog(dialog):
            page.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        if not http_cache:
            context.route("**/*", route)
        page.on("dialog", on_dialog)
        page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page):
    return new_page()


@pytest.fixture
def signed_in_page(new_page, staff_user):
    return new_page(staff_user)


def sign_in_through_form(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
