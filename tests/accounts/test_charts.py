"""The accounts page's SVG charts (inbox/accounts/charts.py, templates/accounts/*_chart.html).

The expected markup is what the charts were before they moved into templates (then built with
f-strings in Python): byte for byte, also where the language writes decimals with a comma.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from inbox.accounts.charts import error_chart, volume_chart

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)

VOLUME_SVG = (
    '<svg class="chart chart-volume" role="img" aria-label="Messages per day over 3 days: 11 received (up), '
    '1 sent (down); busiest day 8" width="15" height="40" viewBox="0 0 15 40">'
    '<line class="chart-axis" x1="0" y1="20.0" x2="15" y2="20.0"/>'
    '<g><title>Sun 1 Nov: 0 received, 0 sent</title><rect class="chart-day" x="0" y="0" width="5" height="40"/></g>'
    '<g><title>Mon 2 Nov: 3 received, 1 sent</title><rect class="chart-day" x="5" y="0" width="5" height="40"/>'
    '<rect class="chart-in" x="5.5" y="12.5" width="4" height="7.5"/>'
    '<rect class="chart-out" x="5.5" y="20.0" width="4" height="2.5"/></g>'
    '<g><title>Tue 3 Nov: 8 received, 0 sent</title><rect class="chart-day" x="10" y="0" width="5" height="40"/>'
    '<rect class="chart-in" x="10.5" y="0.0" width="4" height="20.0"/></g></svg>'
)
ERROR_SVG = (
    '<svg class="chart chart-errors-over-time" role="img" aria-label="Error count over 7 days: now 9, at most 9" '
    'width="150" height="28" viewBox="0 0 150 28"><title>Error count over 7 days: now 9, at most 9</title>'
    '<line class="chart-axis" x1="0" y1="26" x2="150" y2="26"/>'
    '<polyline class="chart-errors" points="85.7,20.7 144.6,20.7 144.6,2.0 150.0,2.0"/></svg>'
)


def daily():
    start = dt.date(2026, 11, 1)
    volumes = [(0, 0), (3, 1), (8, 0)]
    return [
        SimpleNamespace(day=start + dt.timedelta(days=i), received=received, sent=sent)
        for i, (received, sent) in enumerate(volumes)
    ]


def render(template: str, chart) -> str:
    return render_to_string(template, {"chart": chart}).strip()


@pytest.mark.parametrize("language", ["en-gb", "de"])
def test_volume_chart(language):
    with translation.override(language):
        assert render("accounts/volume_chart.html", volume_chart(daily())) == VOLUME_SVG


@pytest.mark.parametrize("language", ["en-gb", "de"])
def test_error_chart(language):
    history = [(NOW - dt.timedelta(days=3), 2), (NOW - dt.timedelta(hours=6), 9)]
    with translation.override(language):
        assert render("accounts/error_chart.html", error_chart(history, now=NOW)) == ERROR_SVG


def test_no_history_draws_nothing():
    assert error_chart([], now=NOW) is None
    assert render("accounts/error_chart.html", None) == ""


def test_the_pages_chart_tag_draws_the_template_once_per_numbers():
    from django.template import Context, Template

    from inbox.templatetags.account_charts import _drawn

    page = Template('{% load account_charts %}{% chart "accounts/volume_chart.html" chart %}')
    drawn = page.render(Context({"chart": volume_chart(daily())})).strip()
    hits = _drawn.cache_info().hits
    again = page.render(Context({"chart": volume_chart(daily())})).strip()  # equal numbers, new objects
    assert drawn == again == VOLUME_SVG
    assert _drawn.cache_info().hits == hits + 1
    assert Template('{% load account_charts %}{% chart "accounts/error_chart.html" None %}').render(Context()) == ""
