"""The list's rows (``inbox/mailbox/rows.py``, drawn by Jinja2): escaped, linked into their view,
and the same in every response that draws them (the page, a page loaded by scrolling, a mark)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.rows import rows_html
from inbox.mailbox.selectors import ROW_FIELDS, for_rows, message_list
from inbox.models import CoworkerMessage
from tests.factories import make_message

pytestmark = pytest.mark.django_db

EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


def row_of(html: str, pk: int) -> str:
    found = re.search(rf'<li id="msg-{pk}".*?</li>', html, re.S)
    assert found, f"no row {pk}"
    return found.group(0)


def test_hostile_text_in_every_field_of_a_row_is_escaped(staff_client):
    m = make_message(
        subject=EVIL, body_text=EVIL, coworker_full_name=EVIL, coworker_company_name=EVIL,
        email_account_display_name=EVIL,
    )
    responses = {
        "page": staff_client.get("/"),
        "rows fragment": staff_client.get("/", headers={"HX-Request": "true", "HX-Target": "results"}),
        "mark": staff_client.post("/inbox/mark/", {"ids": [m.pk], "action": "unread"},
                                  headers={"HX-Request": "true"}),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        row = row_of(response.content.decode(), m.pk)
        assert "<script" not in row and "<img" not in row, name
        # The name, company, account, subject and preview: five escaped copies.
        assert row.count(ESCAPED) == 5, (name, row)


# Every text column the rows read, found from the model (a column added to ROW_FIELDS is covered):
# rows.html prints ids, marks and links without escaping them, for speed, and Nexudus's text must
# never be among them.
TEXT_COLUMNS = sorted(
    field.name
    for field in CoworkerMessage._meta.concrete_fields
    if (field.name in ROW_FIELDS or field.name == "body_text")
    and field.get_internal_type() in {"CharField", "TextField", "EmailField"}
)


def test_the_text_columns_are_the_ones_a_row_shows():
    assert TEXT_COLUMNS == [
        "body_text", "coworker_company_name", "coworker_full_name", "email_account_display_name",
        "email_account_email_address", "subject",
    ]


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_hostile_text_in_any_one_column_is_escaped_in_every_state_of_a_row(column):
    # Unread, received, awaiting a reply (the wait is drawn), open, a view with a query string of
    # hostile text too: every branch of the row's markup is taken. The display name is left empty
    # so that the account's address is what the row shows.
    fields = {"email_account_display_name": "", column: EVIL}
    m = make_message(
        incoming=True, is_new_message=True, awaiting_reply=True, coworker_id=42, **fields,
    )
    filters = InboxFilters(q=EVIL, unread=True)
    html = rows_html(for_rows(message_list(user=None, filters=InboxFilters())), filters=filters, open_id=m.pk)
    row = row_of(html, m.pk)
    assert "<script" not in row and "<img" not in row and "onerror=alert(2)>" not in row, row
    assert ESCAPED in row, row
    # The view's query string (URL-encoded) is escaped for HTML too: its "&" in both links.
    assert row.count("unread=1&amp;q=%3Cscript%3E") == 2, row
    assert "waiting" in row and " open current" in row and " unread" in row


def test_rows_link_into_their_view_and_mark_the_open_one():
    first, second = make_message(), make_message()
    filters = InboxFilters(unread=False, direction="incoming")
    rows = for_rows(message_list(user=None, filters=filters))
    html = str(rows_html(rows, filters=filters, open_id=second.pk))
    row = row_of(html, first.pk)
    assert f'href="/messages/{first.pk}/?direction=incoming"' in row
    assert f'hx-push-url="/?direction=incoming&amp;open={first.pk}"' in row
    assert f'data-read-url="/messages/{first.pk}/read/"' in row
    assert 'class="msg"' in row and "hx-swap-oob" not in row
    assert 'class="msg open current"' in row_of(html, second.pk)
    oob = str(rows_html(rows, filters=InboxFilters(), oob=True))
    assert f'href="/messages/{first.pk}/"' in oob and f'hx-push-url="/?open={first.pk}"' in oob
    assert oob.count('hx-swap-oob="true"') == 2


def test_every_row_of_a_page_is_timed_from_one_instant():
    now = timezone.now()
    make_message(created_on=now - dt.timedelta(minutes=5), incoming=True, awaiting_reply=True)
    make_message(created_on=now - dt.timedelta(hours=30), incoming=True, awaiting_reply=True)
    rows = for_rows(message_list(user=None, filters=InboxFilters()))
    html = str(rows_html(rows, filters=InboxFilters(), now=now + dt.timedelta(hours=1)))
    assert ">1 h ago</time>" in html and ">waiting 1 h</span>" in html
    assert re.search(r'class="waiting late"[^>]*title="Waiting longer than the 24 h reply target">waiting 31 h<', html)


@pytest.mark.parametrize("query", ["", "?unread=1", "?awaiting=1&order=oldest"])
def test_a_page_of_rows_costs_the_same_queries_for_one_row_or_fifty(staff_client, query):
    """The rows read only ``ROW_FIELDS``: a field the row drew without reading it would cost one
    query a row (Django loads a deferred field on first use)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    hx = {"HX-Request": "true", "HX-Target": "results"}
    make_message(incoming=True, awaiting_reply=True, is_new_message=True)
    staff_client.get(f"/{query}", headers=hx)  # warm what is cached (the session, the user)
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(f"/{query}", headers=hx).status_code == 200
    for _ in range(49):
        make_message(incoming=True, awaiting_reply=True, is_new_message=True, coworker_company_name="Acme")
    with CaptureQueriesContext(connection) as fifty:
        html = staff_client.get(f"/{query}", headers=hx).content.decode()
    assert html.count('<li id="msg-') == 50
    assert len(fifty) == len(one), [q["sql"] for q in fifty.captured_queries]
