"""The one way to write a time (inbox/timefmt.py and ``{% when %}``), against the table of cases
that static/js/timefmt.js is tested against too (tests/browser/test_timefmt_browser.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from inbox import timefmt

CASES = json.loads((Path(__file__).parent / "timefmt_cases.json").read_text())


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", CASES["relative"], ids=lambda c: f"{c['zone']}:{c['text']}")
def test_relative(case):
    assert timefmt.relative(instant(case["value"]), instant(case["now"]), ZoneInfo(case["zone"])) == case["text"]


@pytest.mark.parametrize("case", CASES["point"], ids=lambda c: f"{c['zone']}:{c['text']}")
def test_point(case):
    assert timefmt.point(instant(case["value"]), instant(case["now"]), ZoneInfo(case["zone"])) == case["text"]


@pytest.mark.parametrize("case", CASES["age"], ids=lambda c: c["text"])
def test_age(case):
    assert timefmt.age(instant(case["value"]), instant(case["now"])) == case["text"]


@pytest.mark.parametrize("case", CASES["exact"], ids=lambda c: c["text"])
def test_exact(case):
    assert timefmt.exact(instant(case["value"]), ZoneInfo(case["zone"])) == case["text"]


@pytest.mark.parametrize("case", CASES["time"], ids=lambda c: c["text"])
def test_time_of_day(case):
    assert timefmt.time_of_day(instant(case["value"]), ZoneInfo(case["zone"])) == case["text"]


@pytest.mark.parametrize("case", CASES["wait"], ids=lambda c: f"{c['seconds']}:{c['text']}")
def test_wait_length(case):
    assert timefmt.wait_length(case["seconds"]) == case["text"]


@pytest.mark.parametrize("seconds, text", [
    (5, "in under 1 min"), (29, "in under 1 min"), (30, "in 1 min"), (40, "in 1 min"),  # as relative() rounds ahead
    (299, "in 5 min"), (3540, "in 59 min"), (3599, "in 1 h"), (16 * 3600 - 60, "in 16 h"),
])
def test_ahead_is_the_rule_of_relative_for_times_ahead(seconds, text):
    assert timefmt.ahead(seconds) == text
    if seconds >= timefmt.JUST_NOW_AHEAD:  # where relative() no longer says "just now", it writes the same
        now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        assert timefmt.relative(now + dt.timedelta(seconds=seconds), now, ZoneInfo("UTC")) == text


@pytest.mark.parametrize("seconds, text", [
    (60, "every minute"), (300, "every 5 min"), (3600, "every hour"), (7200, "every 2 h"),
    (86400, "every day"), (2 * 86400, "every 2 d"), (90, "every 90 s"), (30, "every 30 s"), (5400, "every 90 min"),
])
def test_every(seconds, text):
    assert timefmt.every(seconds) == text


def test_no_leading_zero_and_english_names_whatever_the_locale(settings):
    settings.LANGUAGE_CODE = "fr"
    value = dt.datetime(2026, 3, 2, 5, 7, tzinfo=dt.UTC)
    assert timefmt.exact(value, ZoneInfo("UTC")) == "Mon 2 Mar 2026, 5:07:00 UTC"
    assert timefmt.relative(value, value + dt.timedelta(days=2), ZoneInfo("UTC")) == "Mon 5:07"


def test_the_zone_is_the_help_desks(settings):
    """Without an explicit zone: HELPDESK_TIME_ZONE (inbox.clock), else TIME_ZONE."""
    value = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
    settings.HELPDESK_TIME_ZONE = "Asia/Tokyo"
    assert timefmt.exact(value) == "Fri 27 Nov 2026, 8:30:00 Asia/Tokyo"
    assert timefmt.relative(value, value + dt.timedelta(days=3)) == "Fri 8:30"
    settings.HELPDESK_TIME_ZONE = None
    assert timefmt.exact(value) == "Thu 26 Nov 2026, 23:30:00 UTC"


def render(source: str, **context) -> str:
    return Template("{% load times %}" + source).render(Context(context))


def test_the_tag_writes_a_time_element_with_the_exact_time_as_tooltip(settings):
    settings.HELPDESK_TIME_ZONE = "Europe/Paris"
    value = dt.datetime(2026, 11, 24, 16, 21, 5, tzinfo=dt.UTC)
    now = dt.datetime(2026, 11, 26, 18, 35, tzinfo=dt.UTC)
    assert render("{% when v now=now %}", v=value, now=now) == (
        '<time datetime="2026-11-24T16:21:05+00:00" title="Tue 24 Nov 2026, 17:21:05 Europe/Paris">Tue 17:21</time>'
    )
    assert render('{% when v "time" %}', v=value) == (
        '<time datetime="2026-11-24T16:21:05+00:00" title="Tue 24 Nov 2026, 17:21:05 Europe/Paris" '
        'data-time-format="time">17:21</time>'
    )
    assert '>Tue 24 Nov 2026, 17:21:05 Europe/Paris</time>' in render('{% when v "exact" %}', v=value)
    assert ">24 Nov 2026</time>" in render('{% when v "day" %}', v=value)
    assert '>2 days ago</time>' in render('{% when v "age" now=now %}', v=value, now=now)
    assert render("{% when v %}", v=None) == ""


def test_the_tag_uses_now_when_not_given():
    value = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=4, seconds=10)
    assert ">4 min ago</time>" in render("{% when v %}", v=value)


def test_the_local_filter_gives_the_day_in_the_help_desks_zone(settings):
    settings.HELPDESK_TIME_ZONE = "America/New_York"
    value = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    assert render('{{ v|local|date:"l j F Y" }}', v=value) == "Wednesday 25 November 2026"


@pytest.mark.parametrize("since, until, text", [
    (dt.date(2026, 3, 1), None, "Since 1 Mar 2026"),
    (None, dt.date(2026, 3, 20), "Until 20 Mar 2026"),
    (dt.date(2026, 3, 1), dt.date(2026, 3, 20), "1 Mar – 20 Mar 2026"),
    (dt.date(2025, 12, 20), dt.date(2026, 1, 5), "20 Dec 2025 – 5 Jan 2026"),
    (dt.date(2026, 3, 1), dt.date(2026, 3, 1), "1 Mar 2026"),
])
def test_a_range_of_days_in_words(since, until, text):
    assert timefmt.day_range(since, until) == text
