"""A signed-in page (tests/browser/conftest.py's ``new_page``) that also records every request.

``watched_page`` yields ``(page, watch)``. The shared fixture already aborts and lists requests
that would leave the live server (``page.outside``), dismisses and lists dialogs
(``page.dialogs``) and lists console errors, CSP violations among them, and uncaught page errors
(``page.errors``); ``watch`` adds every request made (so a payload's beacon to the app itself
shows) and popups, and asserts all of it at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class Watch:
    origin: str
    page: object
    requests: list[str] = field(default_factory=list)

    @property
    def outside(self) -> list[str]:
        return self.page.outside

    @property
    def dialogs(self) -> list[str]:
        return self.page.dialogs

    @property
    def errors(self) -> list[str]:
        return self.page.errors

    def clear(self) -> None:
        for seen in (self.requests, self.page.outside, self.page.dialogs, self.page.errors):
            seen.clear()

    def assert_quiet(self) -> None:
        assert self.dialogs == [], f"dialogs: {self.dialogs}"
        assert self.outside == [], f"requests left the app: {self.outside}"
        assert self.errors == [], f"console or page errors: {self.errors}"


@pytest.fixture
def watched_page(new_page, staff_user, live_server):
    page = new_page(staff_user)
    watch = Watch(origin=live_server.url, page=page)
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("popup", lambda popup: page.outside.append(f"popup: {popup.url}"))
    return page, watch
