"""Date filters at the edges of the calendar, in zones west and east of UTC: never a 500.

A day's bounds are midnights in the help desk's zone (HELPDESK_TIME_ZONE) turned into UTC for the
database; near year 1 or 9999 that moment does not exist in UTC. Every date input (``since`` and
``until`` of the inbox, its counts, the live poll, the reader, "mark all", ``/export.csv`` and
``export_messages``) goes through ``InboxFilterForm``, which takes only days in
FILTER_DATE_MIN..FILTER_DATE_MAX and says so beside the field (a 400 naming it for the CSV).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from inbox.mailbox.filters import InboxFilterForm
from inbox.models import CoworkerMessage, MessageMark
from inbox.mailbox.filters import FILTER_DATE_MAX, FILTER_DATE_MIN
from tests.exports.fixtures import read_csv, response_bytes
from tests.factories import make_message

# West to east: UTC-12, UTC-8/-7, UTC, UTC+1/+2, UTC+9, UTC+14.
ZONES = ["Etc/GMT+12", "America/Los_Angeles", "UTC", "Europe/Berlin", "Asia/Tokyo", "Pacific/Kiritimati"]
OUT_OF_RANGE = ["0001-01-01", "0001-01-02", "1899-12-31", "9999-12-31"]
IN_RANGE = [f"{FILTER_DATE_MIN:%Y-%m-%d}", f"{FILTER_DATE_MAX:%Y-%m-%d}", "2025-03-10"]
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
ROW_ID = re.compile(r'<li id="msg-(\d+)"')


def test_the_range_is_the_one_the_messages_quote():
    assert (FILTER_DATE_MIN, FILTER_DATE_MAX) == (dt.date(1900, 1, 1), dt.date(9999, 12, 30))


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("value", OUT_OF_RANGE + IN_RANGE)
@pytest.mark.parametrize("field", ["since", "until"])
def test_the_form_takes_only_days_inside_the_range(settings, zone, value, field):
    settings.HELPDESK_TIME_ZONE = zone
    form = InboxFilterForm({field: value})
    if value in IN_RANGE:
        assert form.is_valid(), form.errors
        assert getattr(form.filters, field) == dt.date.fromisoformat(value)
    else:
        assert list(form.errors) == [field]
        assert "outside the dates the inbox can filter on (1900-01-01 to 9999-12-30)" in form.errors[field][0]
        assert getattr(form.filters, field) is None


@pytest.fixture
def message(db) -> CoworkerMessage:
    return make_message(created_on=dt.datetime(2025, 3, 10, 9, tzinfo=dt.UTC))



@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("field", ["since", "until"])
def test_a_day_outside_the_range_is_said_beside_its_field_everywhere(staff_client, settings, message, zone, value, field):
    settings.HELPDESK_TIME_ZONE = zone
    query = f"{field}={value}"

    for headers in ({}, HTMX):  # the page and its #results fragment: the message beside the field
        response = staff_client.get(f"/?{query}", **headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert re.search(rf'<p id="err-{field}" class="field-error"[^>]*>[^<]*outside the dates', html)
        assert ROW_ID.findall(html) == [str(message.pk)]  # the view without that filter

    for url in (reverse("inbox-counts"), reverse("inbox-live"), reverse("message-detail", args=[message.pk])):
        for headers in ({}, HTMX):
            assert staff_client.get(f"{url}?{query}", **headers).status_code == 200, url

    response = staff_client.get(f"/export.csv?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert f"{field}={value}: “{value}” is outside the dates" in response.content.decode()

    with pytest.raises(CommandError, match=rf"--{field}: “{value}” is outside the dates"):
        call_command("export_messages", f"--{field}", value, stdout=io.StringIO(), stderr=io.StringIO())

    MessageMark.objects.all().delete()  # opening the message above read it
    response = staff_client.post(reverse("inbox-mark-matching"), {field: value, "action": "read"}, follow=True)
    assert response.status_code == 200
    assert "Nothing was marked" in response.content.decode()
    assert not MessageMark.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
def test_the_edge_days_filter_exactly_in_every_zone(staff_client, settings, zone):
    """Messages a second either side of the range's first and last instants in the zone: the
    edge days are whole, inclusive, and everything that shows them answers."""
    settings.HELPDESK_TIME_ZONE = zone
    tz = ZoneInfo(zone)
    first = dt.datetime.combine(FILTER_DATE_MIN, dt.time.min, tzinfo=tz)
    after_last = dt.datetime.combine(FILTER_DATE_MAX + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    times = {
        "before_first": first - dt.timedelta(seconds=1),
        "first": first,
        "middle": dt.datetime(2025, 3, 10, 9, tzinfo=dt.UTC),
        "last": after_last - dt.timedelta(seconds=1),
        "after_last": after_last,
    }
    ids = {name: make_message(created_on=when).pk for name, when in times.items()}
    newest_first = ["after_last", "last", "middle", "first", "before_first"]

    cases = {
        f"since={FILTER_DATE_MIN}": ["after_last", "last", "middle", "first"],
        f"until={FILTER_DATE_MAX}": ["last", "middle", "first", "before_first"],
        f"since={FILTER_DATE_MIN}&until={FILTER_DATE_MAX}": ["last", "middle", "first"],
        f"since={FILTER_DATE_MIN}&until={FILTER_DATE_MIN}": ["first"],
        f"since={FILTER_DATE_MAX}&until={FILTER_DATE_MAX}": ["last"],
        "": newest_first,
    }
    for query, names in cases.items():
        expected = [str(ids[name]) for name in names]
        response = staff_client.get(f"/?{query}")
        assert response.status_code == 200
        assert 'role="alert"' not in response.content.decode(), query
        assert ROW_ID.findall(response.content.decode()) == expected, query

        csv_rows = read_csv(response_bytes(staff_client.get(f"/export.csv?{query}")))
        assert [row[0] for row in csv_rows[1:]] == expected, query

        for url in (reverse("inbox-counts"), reverse("inbox-live"), reverse("message-detail", args=[ids["middle"]])):
            assert staff_client.get(f"{url}?{query}").status_code == 200, (url, query)

        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        options = [f"--{part.replace('=', ' ')}".split() for part in query.split("&") if part]
        call_command("export_messages", *sum(options, []), "-v", "0", stdout=out)
        out.flush()
        assert [row[0] for row in read_csv(out.buffer.getvalue())[1:]] == expected, query
