"""Retake the README's screenshots from the running demo, so they show the product as it is.

    scripts/run                                  # in one terminal: the demo, on the sandbox
    .venv/bin/python docs/screenshots/take.py    # in another, once the first sync has run

It signs in with the demo logins (``var/demo-staff-password``, ``var/demo-admin-password``),
drives Debian's Chromium (``/usr/bin/chromium``; ``CHROMIUM`` names another) through Playwright
(a test requirement: ``make test`` or ``scripts/bootstrap --dev`` installs it) and writes the
PNGs beside this file. ``--base`` and ``--var`` follow ``PORT=... HELPDESK_VAR_DIR=...
scripts/run``. The sandbox's data moves (live mode), so two takes differ in their details.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Playwright is a test requirement: imported where it is used
    from playwright.sync_api import Browser, Page

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--var", type=Path, default=Path(os.environ.get("HELPDESK_VAR_DIR", ROOT / "var")))
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    passwords = {}
    for who in ("staff", "admin"):
        try:
            passwords[who] = (args.var / f"demo-{who}-password").read_text().strip()
        except FileNotFoundError:
            sys.exit(f"No {args.var}/demo-{who}-password: start the demo first (scripts/run).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("Playwright is not installed: run scripts/bootstrap --dev (or make test) first.")
    shots = Shots(args.base.rstrip("/"), passwords, args.out)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
        try:
            shots.take_all(browser)
        finally:
            browser.close()
    return 0


class Shots:
    def __init__(self, base: str, passwords: dict[str, str], out: Path) -> None:
        self.base, self.passwords, self.out = base, passwords, out

    def take_all(self, browser: Browser) -> None:
        self.wide(browser)
        self.admin(browser)
        self.phone(browser)

    def signed_in(self, browser: Browser, who: str, viewport: dict, **options) -> Page:
        page = browser.new_context(viewport=viewport, **options).new_page()
        page.goto(f"{self.base}/login/")
        page.fill("#id_username", who)
        page.fill("#id_password", self.passwords[who])
        page.press("#id_password", "Enter")
        page.wait_for_url(f"{self.base}/")
        page.wait_for_selector("#rows .msg")
        return page

    def shot(self, page: Page, name: str, **options) -> None:
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # transitions and the counts' swap settle
        page.screenshot(path=self.out / name, **options)
        print(f"wrote {self.out / name}")

    def view(self, page: Page, query: str) -> None:
        page.goto(f"{self.base}/{query}")
        page.wait_for_selector("#rows .msg, .empty")

    def wide(self, browser: Browser) -> None:
        page = self.signed_in(browser, "staff", WIDE)
        page.click("#rows .msg:nth-child(2) .msg-link")  # the reader beside the list
        page.wait_for_selector("#reader #message-subject")
        self.shot(page, "inbox.png")
        self.view(page, "?awaiting=1&order=oldest")
        self.shot(page, "awaiting.png")
        # A customer's conversation: from a received message's page, its "Conversation with".
        href = page.get_attribute("#rows .msg-link", "href")
        page.goto(f"{self.base}{href}")
        conversation = page.get_attribute("a.button[href^='/customers/']", "href")
        page.goto(f"{self.base}{conversation}")  # opened at that message
        page.evaluate("window.scrollTo(0, 0)")  # from its top, where it names the customer
        self.shot(page, "conversation.png")
        # The customer field as someone types: the corner of the page with the suggestions.
        self.view(page, "")
        page.click("#id_customer")
        page.keyboard.type("smith", delay=60)
        page.wait_for_selector("#customer-listbox [role=option]")
        page.wait_for_load_state("networkidle")  # the suggestions for the whole word
        page.keyboard.press("ArrowDown")  # the first one chosen by keyboard
        page.wait_for_selector("#customer-listbox [aria-selected=true]")
        self.shot(page, "customer-lookup.png", clip={"x": 0, "y": 0, "width": 720, "height": 560})
        page.context.close()

    def admin(self, browser: Browser) -> None:
        page = self.signed_in(browser, "admin", WIDE)
        page.goto(f"{self.base}/accounts/")
        self.shot(page, "accounts-health.png")
        page.goto(f"{self.base}/sync/")
        self.shot(page, "sync.png")
        page.context.close()

    def phone(self, browser: Browser) -> None:
        page = self.signed_in(browser, "staff", PHONE, is_mobile=True, has_touch=True, device_scale_factor=1)
        self.shot(page, "phone-inbox.png")
        page.click("#menu-toggle")
        self.shot(page, "phone-menu.png")
        page.click("#menu-toggle")
        page.click("#rows .msg:nth-child(1) .msg-link")
        page.wait_for_selector("#reader #message-subject")
        self.shot(page, "phone-reader.png")
        page.context.close()
        page = self.signed_in(browser, "staff", PHONE, is_mobile=True, has_touch=True, color_scheme="dark")
        self.view(page, "?awaiting=1")
        self.shot(page, "phone-awaiting-dark.png")
        page.context.close()


if __name__ == "__main__":
    sys.exit(main())
