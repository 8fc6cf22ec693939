"""In a real Chromium: no hostile body runs, loads or leaves the app; the reader works under the CSP."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from django.urls import reverse

from inbox import clock
from inbox.models import MessageMark
from tests.browser.message_fixtures import watched_page  # noqa: F401
from tests.factories import BASE_TIME, make_message, make_thread
from tests.mailbox.message_fixtures import hostile_bodies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
FAKE_IMAGE_HOST = "http://images.example.test"


def open_message(page, pk: int, query: str = "") -> None:
    page.goto(reverse("message-detail", args=[pk]) + query)
    page.wait_for_load_state("load")  # the body frame included


def body_frame(page):
    handle = page.wait_for_selector("iframe.message-frame", state="attached")
    frame = handle.content_frame()
    frame.wait_for_load_state("load")
    return frame


# What Chromium itself parsed in the body document: anything that could run, load or navigate.
INSPECT_FRAME = """() => {
  const bad = [];
  const tags = new Set(["SCRIPT", "STYLE", "IFRAME", "FRAME", "OBJECT", "EMBED", "SVG", "MATH", "FORM",
    "INPUT", "BUTTON", "META", "BASE", "LINK", "VIDEO", "AUDIO", "SOURCE", "NOSCRIPT", "TEMPLATE"]);
  for (const el of document.querySelectorAll("*")) {
    if (tags.has(el.tagName.toUpperCase()) && !(el.tagName === "META" && el.closest("head")) && !(el.tagName === "STYLE" && el.closest("head"))) bad.push(el.tagName);
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) bad.push(el.tagName + "[" + attr.name + "]");
      if (["href", "src", "action", "formaction", "poster", "background", "srcset", "data"].includes(attr.name)
          && !/^(https?:|mailto:)/i.test(attr.value.trim())) bad.push(el.tagName + "[" + attr.name + "=" + attr.value + "]");
    }
  }
  if (self.origin !== "null") bad.push("not an opaque origin: " + self.origin);
  if (window.__pwned !== undefined || document.title.includes("PWNED")) bad.push("a payload ran");
  return bad;
}"""


def hover(page) -> None:
    """Give mouse-over payloads their chance (real mouse events, over the body document)."""
    box = page.locator("iframe.message-frame").bounding_box()
    for x, y in ((0.5, 40), (30, 20), (0.25, 120), (0.75, 200)):
        page.mouse.move(box["x"] + (x * box["width"] if x < 1 else x), box["y"] + y)
    page.wait_for_timeout(100)


def click_dead_links(page, frame) -> None:
    """Click what lost its href: nothing may open, navigate or ask anything."""
    for element in frame.query_selector_all("a:not([href]), summary"):
        target = element.bounding_box()
        if target and target["width"] and target["height"]:
            page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    page.wait_for_timeout(150)


def test_no_hostile_body_runs_loads_or_leaves(watched_page):  # noqa: F811
    page, watch = watched_page
    bodies = hostile_bodies()
    messages = [
        make_message(subject=f"[Security test] #{i + 1}", body=body, created_on=BASE_TIME)
        for i, body in enumerate(bodies)
    ]
    for message, body in zip(messages, bodies, strict=True):
        watch.clear()
        open_message(page, message.pk)
        if page.query_selector("iframe.message-frame") is None:  # nothing survived cleaning
            assert page.locator(".message-empty").inner_text() == "(no content)", body
            watch.assert_quiet()
            continue
        frame = body_frame(page)
        hover(page)
        assert frame.url.endswith(reverse("message-body", args=[message.pk]))
        assert frame.evaluate(INSPECT_FRAME) == [], body
        watch.assert_quiet()  # no dialog, no outside request, no CSP or other console error

        click_dead_links(page, frame)
        assert page.title().startswith("[Security test] #"), (body, page.title())
        assert page.evaluate("() => window.__pwned === undefined && !document.title.includes('PWNED')"), body
        assert frame.evaluate(INSPECT_FRAME) == [], body
        assert not [r for r in watch.requests if "pwned" in r.lower()], body
        assert watch.dialogs == [] and watch.outside == [], body
        # Clicks inside a sandboxed frame make Chromium log "Blocked script execution" whatever the
        # content (plain text too), so after clicking only other console errors count.
        assert [c for c in watch.errors if "document's frame is sandboxed" not in c] == [], body


def test_remote_images_only_after_the_click(watched_page):  # noqa: F811
    page, watch = watched_page
    fetched: list[str] = []

    def fake_host(route):
        fetched.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=PNG)

    page.route(f"{FAKE_IMAGE_HOST}/**", fake_host)
    m = make_message(body=f'<p>Our logo:</p><img src="{FAKE_IMAGE_HOST}/logo.png" alt="logo" width="40" height="40">')
    open_message(page, m.pk)
    body_frame(page)
    page.wait_for_timeout(200)
    assert fetched == []
    assert page.get_by_text("1 remote image blocked").is_visible()
    watch.assert_quiet()

    with page.expect_request(f"{FAKE_IMAGE_HOST}/logo.png"):
        page.click("#show-images")
    body_frame(page)
    assert fetched == [f"{FAKE_IMAGE_HOST}/logo.png"]
    assert page.get_by_text("Showing 1 remote image").is_visible()
    watch.assert_quiet()

    # Per request, not remembered: opening the message again blocks them again.
    fetched.clear()
    open_message(page, m.pk)
    body_frame(page)
    page.wait_for_timeout(200)
    assert fetched == []


def test_mark_unread_and_step_through_with_htmx(watched_page, staff_user):  # noqa: F811
    page, watch = watched_page
    older = make_message(subject="The older one", created_on=BASE_TIME)
    newer = make_message(subject="The newer one", created_on=BASE_TIME.replace(hour=10))
    open_message(page, newer.pk)
    assert MessageMark.objects.get(user=staff_user, message_id=newer.pk).is_read is True
    page.evaluate(
        "() => { window.__marked = []; document.body.addEventListener('messageMarked', e => window.__marked.push({id: e.detail.id, unread: e.detail.unread})); }"
    )

    page.click("text=Mark unread")
    page.wait_for_selector("text=Unread for you")
    assert page.evaluate("() => window.__marked") == [{"id": newer.pk, "unread": True}]
    assert MessageMark.objects.get(user=staff_user, message_id=newer.pk).is_read is False

    page.click("text=Mark read")
    page.wait_for_selector(".read-state:text-is('Read')")
    assert MessageMark.objects.get(user=staff_user, message_id=newer.pk).is_read is True

    page.click("text=Older ↓")
    page.wait_for_selector("h1:has-text('The older one')")
    assert page.url.endswith(reverse("message-detail", args=[older.pk]))
    assert MessageMark.objects.get(user=staff_user, message_id=older.pk).is_read is True
    watch.assert_quiet()


def test_conversation_loads_earlier_messages_backwards(watched_page, settings):  # noqa: F811
    page, watch = watched_page
    settings.CONVERSATION_PAGE_SIZE = 5
    rows = make_thread(31, 12, start_pk=9_100_000)
    page.goto(reverse("customer-detail", args=[31]))
    assert page.locator("article.bubble").count() == 5
    page.focus("text=Earlier messages")
    page.keyboard.press("Enter")  # by keyboard: focus went to <body> with the button swapped away
    page.wait_for_function("() => document.querySelectorAll('article.bubble').length === 10")
    expect(page.locator(f"#m-{rows[2].pk}")).to_be_focused()  # the first message it brought
    page.keyboard.press("Tab")
    expect(page.locator(f"#m-{rows[2].pk} a:has-text('Open')")).to_be_focused()
    page.click("text=Earlier messages")
    page.wait_for_selector("text=Start of the conversation")
    ids = page.eval_on_selector_all("article.bubble", "els => els.map(e => e.id)")
    assert ids == [f"m-{m.pk}" for m in rows]  # oldest to newest, in one thread
    watch.assert_quiet()


def test_the_conversation_opens_at_the_message_read(watched_page, settings):  # noqa: F811
    """An old message's "Conversation with …" lands on it, in sight and outlined, with the
    messages after it below and the way to the latest."""
    page, watch = watched_page
    settings.CONVERSATION_PAGE_SIZE = 30
    rows = make_thread(32, 90, start_pk=9_200_000)
    old = rows[40]
    open_message(page, old.pk)
    page.click("a.button:has-text('Conversation with')")
    page.wait_for_selector(f"#m-{old.pk}")
    bubble = page.locator(f"#m-{old.pk}")
    expect(bubble).to_be_in_viewport()
    assert bubble.evaluate("e => e.matches(':target')")
    ids = page.eval_on_selector_all("article.bubble", "els => els.map(e => e.id)")
    assert ids == [f"m-{m.pk}" for m in rows[16:46]]
    expect(page.locator("text=You are looking at earlier messages")).to_be_visible()
    page.click("text=Latest messages ↓")
    page.wait_for_selector(f"#m-{rows[-1].pk}")
    watch.assert_quiet()


@pytest.mark.parametrize("width", [1440, 390])
def test_a_conversation_opens_at_its_latest_message_or_the_one_asked_for(watched_page, settings, width):  # noqa: F811
    page, watch = watched_page
    page.set_viewport_size({"width": width, "height": 844})
    settings.CONVERSATION_PAGE_SIZE = 30
    rows = make_thread(33, 90, start_pk=9_300_000)
    page.goto(reverse("customer-detail", args=[33]))
    expect(page.locator(f"#m-{rows[-1].pk}")).to_be_in_viewport()  # a chat: its foot in sight
    expect(page.locator(f"#m-{rows[-30].pk}")).not_to_be_in_viewport()
    page.goto(reverse("customer-detail", args=[33]) + f"?at={rows[10].pk}")  # a link without its #m-…
    bubble = page.locator(f"#m-{rows[10].pk}")
    expect(bubble).to_be_in_viewport()
    assert bubble.evaluate("e => e.matches(':target')")
    page.goto(reverse("customer-detail", args=[33]) + "?at=banana")  # its notice stays in sight
    expect(page.locator("text=That link to a message is not valid")).to_be_in_viewport()
    page.goto(reverse("customer-detail", args=[33]))
    page.evaluate("window.scrollTo(0, 0)")
    page.reload()  # a reload keeps the place the browser restores
    page.wait_for_load_state("load")
    assert page.evaluate("window.scrollY") < 50
    watch.assert_quiet()


@pytest.mark.parametrize("width", [1440, 390])
def test_a_message_brought_into_sight_shows_its_day(watched_page, settings, width):  # noqa: F811
    """Opened at a message late in its day (?at=), the day's heading is far above it: it stays in
    sight under the top bar (sticky), above the message, not over it."""
    page, watch = watched_page
    page.set_viewport_size({"width": width, "height": 844})
    settings.CONVERSATION_PAGE_SIZE = 60
    rows = make_thread(34, 60, start_pk=9_400_000)
    for i, row in enumerate(rows):  # eight a day, three hours apart
        type(row).objects.filter(pk=row.pk).update(created_on=BASE_TIME.replace(hour=0) + dt.timedelta(hours=3 * i))
    target = rows[8 * 3 + 7]  # the last of the fourth day
    day = (BASE_TIME.replace(hour=0) + dt.timedelta(days=3)).astimezone(clock.zone())
    page.goto(reverse("customer-detail", args=[34]) + f"?at={target.pk}#m-{target.pk}")
    bubble = page.locator(f"#m-{target.pk}")
    expect(bubble).to_be_in_viewport()
    heading = page.locator(".thread-day-group", has=bubble).locator(".thread-day")
    expect(heading).to_have_text(f"{day:%A} {day.day} {day:%B %Y}")
    expect(heading).to_be_in_viewport()
    top_bar = page.locator(".topbar").bounding_box()
    box, bubble_box = heading.bounding_box(), bubble.bounding_box()
    assert top_bar["y"] + top_bar["height"] <= box["y"] and box["y"] + box["height"] <= bubble_box["y"], (top_bar, box, bubble_box)
    # Scrolled into the next day, that day's heading takes its place.
    page.locator(f"#m-{rows[8 * 4 + 5].pk}").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 300)")
    stuck = page.evaluate("""() => [...document.querySelectorAll('.thread-day')]
        .filter(h => { const r = h.getBoundingClientRect(); return r.bottom > 0 && r.top < 140; }).map(h => h.textContent)""")
    assert len(stuck) == 1, stuck
    watch.assert_quiet()


def test_inbox_reader_pane_runs_under_the_policy(watched_page):  # noqa: F811
    page, watch = watched_page
    m = make_message(subject="Read me in the pane", body="<p>Hello <b>there</b></p><script>alert(1)</script>")
    page.goto("/")
    page.wait_for_load_state("load")
    page.click(f"#msg-{m.pk} .msg-link")
    page.wait_for_selector("#reader .message h2:has-text('Read me in the pane')")
    frame = body_frame(page)
    assert re.search(r"Hello\s+there", frame.inner_text("body"))
    page.wait_for_timeout(200)
    watch.assert_quiet()


def test_login_page_has_no_policy_violations(browser_page):
    browser_page.goto("/login/")
    browser_page.wait_for_load_state("load")
    browser_page.wait_for_timeout(100)
    # Only the policy's verdicts: a missing /favicon.ico is the layout's business, not the CSP's.
    assert [e for e in browser_page.errors if "Content Security Policy" in e] == []
    assert browser_page.outside == []
