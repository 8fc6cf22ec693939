"""A signed-in Chromium page that records everything a hostile body could try.

``watched_page`` yields ``(page, watch)``: every request the page (and its frames) makes is
recorded, and any request that leaves the live server is aborted and listed in
``watch.outside``; dialogs are dismissed and listed; console errors (CSP violations among them)
and uncaught page errors are listed. Kept here until tests/browser/conftest.py offers the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

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


@dataclass
class Watch:
    origin: str
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def clear(self) -> None:
        for name in ("requests", "outside", "dialogs", "console", "page_errors"):
            getattr(self, name).clear()

    def assert_quiet(self) -> None:
        assert self.dialogs == [], f"dialogs: {self.dialogs}"
        assert self.outside == [], f"requests left the app: {self.outside}"
        assert self.console == [], f"console errors: {self.console}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"


@pytest.fixture(scope="session")
def message_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def watched_page(message_browser, live_server, staff_user):
    client = Client()
    client.force_login(staff_user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context = message_browser.new_context(base_url=live_server.url)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    watch = Watch(origin=live_server.url)

    def route(route):
        url = route.request.url
        watch.requests.append(url)
        if url.startswith(watch.origin + "/"):
            route.continue_()
        else:
            watch.outside.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(10_000)

    def on_dialog(dialog):
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda msg: watch.console.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("popup", lambda popup: watch.outside.append(f"popup: {popup.url}"))
    yield page, watch
    context.close()
