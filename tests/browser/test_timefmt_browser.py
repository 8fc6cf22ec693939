"""Times, density and right-to-left text in a real Chromium (issue 11, items 6-8).

* static/js/timefmt.js against the same table of cases as inbox/timefmt.py;
* rows loaded by infinite scroll read like the first page's, in the help desk's zone, whatever the
  browser's own zone;
* the compact / comfortable choice, remembered, focus kept on the control;
* Arabic subjects and names keep their order beside "Re:" and the separator.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from inbox import timefmt
from inbox.models import CoworkerMessage, Preference
from tests.factories import build_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((ROOT / "tests" / "timefmt_cases.json").read_text())
TIMEFMT_JS = ROOT / "static" / "js" / "timefmt.js"


def test_the_script_follows_the_same_table_of_cases(browser):
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>t</title>")
        page.add_script_tag(path=str(TIMEFMT_JS))
        got = page.evaluate(
            """cases => ({
              relative: cases.relative.map(c => HelpdeskTime.relative(new Date(c.value), new Date(c.now), c.zone)),
              point: cases.point.map(c => HelpdeskTime.point(new Date(c.value), new Date(c.now), c.zone)),
              age: cases.age.map(c => HelpdeskTime.age(new Date(c.value), new Date(c.now))),
              exact: cases.exact.map(c => HelpdeskTime.exact(new Date(c.value), c.zone)),
              time: cases.time.map(c => HelpdeskTime.timeOfDay(new Date(c.value), c.zone)),
              wait: cases.wait.map(c => HelpdeskTime.wait(c.seconds)),
            })""",
            CASES,
        )
        for kind in ("relative", "point", "age", "exact", "time", "wait"):
            assert got[kind] == [case["text"] for case in CASES[kind]], kind
    finally:
        page.close()


@pytest.fixture
def aged(db, settings):
    """Messages of every age, newest first, 8 a page, in a zone that is not the browser's."""
    settings.INBOX_PAGE_SIZE = 8
    settings.HELPDESK_TIME_ZONE = "Asia/Kolkata"
    cache.clear()
    now = timezone.now()
    ages = [dt.timedelta(seconds=20), dt.timedelta(minutes=7), dt.timedelta(hours=5), dt.timedelta(days=2),
            dt.timedelta(days=5), dt.timedelta(days=45), dt.timedelta(days=500)]
    messages = [build_message(created_on=now - age - dt.timedelta(minutes=i // len(ages)))
                for i, age in enumerate(ages * 3)]  # fmt: skip
    CoworkerMessage.objects.bulk_create(messages)
    return messages


def row_times(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#rows > li.msg time",
        "els => els.map(e => ({value: e.getAttribute('datetime'), text: e.textContent, title: e.title}))",
    )


def test_rows_loaded_by_scrolling_read_like_the_first_pages(new_page, staff_user, aged):
    page = new_page(staff_user, timezone_id="America/Los_Angeles")  # the browser's zone is not the help desk's
    page.goto("/")
    # The first page is in (the sentinel, already in view, may have brought the next one too).
    expect(page.locator("#rows > li.msg").nth(7)).to_be_attached()
    first = row_times(page)[:8]
    for _ in range(10):
        if page.locator("#rows > li.msg").count() == len(aged):
            break
        page.eval_on_selector(".list-pane", "el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(150)
    expect(page.locator("#rows > li.msg")).to_have_count(len(aged))
    page.wait_for_load_state("networkidle")
    every = row_times(page)
    assert every[:8] == first
    now = timezone.now()
    zone = timefmt.clock.zone()
    assert zone.key == "Asia/Kolkata"
    for row in every:
        value = dt.datetime.fromisoformat(row["value"])
        assert row["title"] == timefmt.exact(value), row
        assert row["text"] in {timefmt.relative(value, now), timefmt.relative(value, now - dt.timedelta(seconds=5))}, row
        assert not re.search(r"\d{4}, \d\d:\d\d", row["text"])
    assert page.errors == []


def test_compact_rows_are_one_line_remembered_and_keep_focus(new_page, staff_user, aged):
    page = new_page(staff_user, viewport={"width": 1440, "height": 900})
    page.goto("/")
    row = page.locator("#rows > li.msg").first
    tall = row.bounding_box()["height"]
    page.click("#density-compact")
    expect(page.locator("#inbox")).to_have_attribute("data-density", "compact")
    expect(page.locator("#density-compact")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#density-compact")).to_be_focused()
    short = row.bounding_box()["height"]
    assert short < 40 < tall, (short, tall)
    # One line: the name, the subject, the account and the time share a baseline row.
    tops = page.eval_on_selector(
        "#rows > li.msg .msg-link",
        "a => ['.name', '.subject', '.account', 'time'].map(s => Math.round(a.querySelector(s).getBoundingClientRect().top))",
    )
    assert max(tops) - min(tops) <= 4, tops
    assert Preference.objects.get(user=staff_user).density == "compact"
    page.reload()
    expect(page.locator("#inbox")).to_have_attribute("data-density", "compact")
    # Once (under CI's load, on PostgreSQL) this click left "compact" for 5 s; it was not seen again
    # in eight runs alone. Should it happen again, say what the choice's request met.
    answers = []
    page.on("requestfinished", lambda r: answers.append((r.method, r.url, r.response().status)) if "density" in r.url else None)
    page.on("requestfailed", lambda r: answers.append((r.method, r.url, r.failure)) if "density" in r.url else None)
    page.click("#density-comfortable")
    try:
        expect(page.locator("#inbox")).to_have_attribute("data-density", "comfortable")
    except AssertionError as error:
        stored = Preference.objects.get(user=staff_user).density
        raise AssertionError(f"{error}\nrequests: {answers}; stored: {stored}; errors: {page.errors}") from None
    assert page.errors == []


# Whether the first letter of an element's text lies inside what is shown of it (its own box and
# its row's text column, the narrower).
FIRST_LETTER_SHOWN = """e => {
  const range = document.createRange(); range.setStart(e.firstChild, 0); range.setEnd(e.firstChild, 1);
  const letter = range.getBoundingClientRect(), own = e.getBoundingClientRect();
  const column = e.closest('.text').getBoundingClientRect();
  const left = Math.max(own.left, column.left), right = Math.min(own.right, column.right);
  return letter.width > 0 && letter.left >= left - 1 && letter.right <= right + 1;
}"""


def test_the_name_is_kept_whole_and_right_to_left_text_is_isolated(new_page, staff_user, db):
    CoworkerMessage.objects.bulk_create([
        build_message(coworker_full_name="Anna Virtanen-Lindqvist", coworker_company_name="Helsinki Coworking Oy",
                     subject="Desk booking for next week", body_text="Hello, could we book " * 20),
        build_message(coworker_full_name="ليلى حداد", subject="Re: سؤال عن الفاتورة",
                      body_text="مرحبا، لدي سؤال عن الفاتورة الأخيرة " * 12),
    ])  # fmt: skip
    for density in ("comfortable", "compact"):
        Preference.objects.update_or_create(user=staff_user, defaults={"density": density})
        page = new_page(staff_user, viewport={"width": 1440, "height": 900})
        page.goto("/")
        for name in page.locator("#rows .name").all():
            assert name.evaluate("e => e.scrollWidth <= e.clientWidth"), (density, name.text_content())
        arabic = page.locator("#rows .subject", has_text="سؤال")
        assert arabic.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
        assert arabic.get_attribute("dir") == "auto"
        # A right-to-left preview too long for its row is cut at its end (its left), not its start.
        preview = page.locator("#rows .preview", has_text="مرحبا")
        assert preview.evaluate("e => e.scrollWidth > e.clientWidth"), density  # it is cut
        assert preview.evaluate(FIRST_LETTER_SHOWN), density
        page.close()


# Each row's preview: hidden below its one-line box, or shown at least 4em wide (its dash and "He…").
PREVIEW_SHOWN = """rows => rows.map(text => {
  const rest = text.querySelector('.rest'), box = text.getBoundingClientRect();
  if (!rest) return null;
  const r = rest.getBoundingClientRect();
  return {subject: text.querySelector('.subject').textContent, shown: r.top < box.bottom - 1, width: r.width};
})"""


@pytest.mark.parametrize("width", [320, 390, 1440])
def test_a_preview_is_shown_with_room_to_read_or_not_at_all(new_page, staff_user, db, width):
    """On a phone a long subject left its preview a sliver of one letter, without "…"."""
    words = "Meeting room booking for Thursday afternoon with the whole team please".split()
    CoworkerMessage.objects.bulk_create([
        build_message(subject=" ".join(words[:n]), body_text="Hello, here is the booking we talked about " * 3)
        for n in range(1, len(words) + 1)
    ])  # fmt: skip
    page = new_page(staff_user, viewport={"width": width, "height": 900})
    page.goto("/")
    rows = [r for r in page.eval_on_selector_all("#rows .msg-link .text", PREVIEW_SHOWN) if r]
    said = [(len(r["subject"]), r["shown"], round(r["width"])) for r in rows]
    assert len(rows) == len(words)
    assert all(r["width"] >= 55 for r in rows if r["shown"]), [x for x in said if x[1]]
    assert any(r["shown"] for r in rows), said  # short subjects keep theirs
    if width < 500:
        assert not all(r["shown"] for r in rows), said  # the longest leave no room for one


def test_the_top_bar_says_when_the_last_sync_was_and_keeps_saying_it(new_page, staff_user, db, settings):
    from inbox.models import SyncRun

    settings.LAST_SYNCED_CACHE_SECONDS = 0
    cache.clear()
    finished = timezone.now() - dt.timedelta(minutes=3, seconds=10)
    SyncRun.objects.create(resource="messages", mode="incremental", status="success", started_at=finished,
                           finished_at=finished)  # fmt: skip
    page = new_page(staff_user, viewport={"width": 1440, "height": 900})
    page.clock.install()  # the page's timers, run on demand
    page.goto("/")
    expect(page.locator("#last-synced time")).to_have_text("3 min ago")
    newer = timezone.now()
    SyncRun.objects.create(resource="messages", mode="incremental", status="success", started_at=newer, finished_at=newer)
    page.clock.run_for(31_000)  # the 30-second poll
    expect(page.locator("#last-synced time")).to_have_text("just now")
    assert django_settings.LAST_SYNCED_CACHE_SECONDS == 0


def test_waits_keep_counting_while_the_page_stays_open(new_page, staff_user, db, settings):
    """An inbox left open all day: "waiting 20 min" becomes "waiting 1 h", then "waiting 2 d" in
    red past the reply target, on the list and in the reader, without a reload."""
    settings.HELPDESK_REPLY_TARGET_HOURS = 24
    now = timezone.now()
    CoworkerMessage.objects.bulk_create([
        build_message(id=1, subject="Where is my key card?", created_on=now - dt.timedelta(minutes=20)),
    ])
    from inbox.sync.awaiting import rebuild

    rebuild()
    page = new_page(staff_user, viewport={"width": 1440, "height": 900})
    page.clock.install()
    page.goto("/?awaiting=1&open=1")
    row_wait, reader_wait = page.locator("#rows .waiting"), page.locator("#reader .waiting")
    expect(row_wait).to_have_text("waiting 20 min")
    expect(reader_wait).to_have_text("Awaiting reply · waiting 20 min")
    page.clock.fast_forward("00:45:00")
    page.clock.run_for(31_000)  # the 30-second refresh
    expect(row_wait).to_have_text("waiting 1 h")
    expect(row_wait).not_to_have_class(re.compile(r"\blate\b"))
    page.clock.fast_forward("47:00:00")
    page.clock.run_for(31_000)
    expect(row_wait).to_have_text("waiting 2 d")
    expect(row_wait).to_have_class(re.compile(r"\blate\b"))
    expect(row_wait).to_have_attribute("title", "Waiting longer than the 24 h reply target")
    expect(reader_wait).to_have_text("Awaiting reply · waiting 2 d")
    expect(reader_wait).to_have_class(re.compile(r"\blate\b"))
    # The fake clock is put into every frame, the message body's sandboxed one too, which refuses it.
    assert [e for e in page.errors if not e.startswith("Blocked script execution")] == []


def test_compact_rows_put_the_account_and_the_wait_in_columns(new_page, staff_user, db):
    """Each row is a grid of its own: sized by its content, the wait and the account stood at a
    different place in each row. The longest wait's words ("waiting under 1 min") fit its column:
    they overlapped the end of the preview, cut mid-letter."""
    now = timezone.now()
    waits = [dt.timedelta(seconds=10), dt.timedelta(hours=5), dt.timedelta(hours=10), dt.timedelta(hours=15)]
    CoworkerMessage.objects.bulk_create([
        build_message(id=i, coworker_id=100 + i, incoming=True, created_on=now - wait,
                      email_account_display_name=name, subject=f"Question {i} " + "about the booking " * 8,
                      body=f"<p>{'Could you tell me more about the meeting rooms ' * 6}</p>")
        for i, (name, wait) in enumerate(zip(["Front desk", "Billing and invoices desk", "Events", "Meeting rooms, second floor"], waits), start=1)
    ])  # fmt: skip
    from inbox.sync.awaiting import rebuild

    rebuild()  # each customer waits: under a minute, 5 h, 10 h, 15 h
    Preference.objects.update_or_create(user=staff_user, defaults={"density": "compact"})
    page = new_page(staff_user, viewport={"width": 1440, "height": 900})
    page.goto("/")
    expect(page.locator("#rows .waiting")).to_have_count(4)
    # The wait is right-aligned in its column (its right edges line up), the account starts its own.
    edges = page.eval_on_selector_all("#rows > li.msg", """rows => rows.map(r => [
        Math.round(r.querySelector('.waiting').getBoundingClientRect().right),
        Math.round(r.querySelector('.account').getBoundingClientRect().left),
        Math.round(r.querySelector('time').getBoundingClientRect().right)])""")
    for column in range(3):
        assert len({row[column] for row in edges}) == 1, edges
    expect(page.locator("#rows .waiting").first).to_have_text("waiting under 1 min")
    overlaps = page.eval_on_selector_all("#rows > li.msg", """rows => rows.map(r => {
        const wait = r.querySelector('.waiting'), text = r.querySelector('.text');
        return [wait.textContent.trim(), text.getBoundingClientRect().right <= wait.getBoundingClientRect().left + 0.5,
                wait.scrollWidth <= wait.clientWidth];
    })""")
    assert all(clear and whole for _, clear, whole in overlaps), overlaps
