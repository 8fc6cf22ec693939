"""``company=<CoworkerCompanyName>``: the customer's company, matched whole (letters' case aside),
in the list, the counts, the live banner, the URL and its control, the marks and the CSV."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.http import QueryDict

from inbox.mailbox.counts import message_counts
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.filters import InboxFilterForm, InboxFilters
from inbox.models import CoworkerMessage
from tests.exports.fixtures import read_csv, response_bytes
from tests.factories import BASE_TIME, build_message
from tests.mailbox.inbox_fixtures import ACCOUNT_A, ACCOUNT_B

pytestmark = pytest.mark.django_db

ROW_ID = re.compile(r'<li id="msg-(\d+)"')


@pytest.fixture
def companies():
    """Messages of three companies (one spelled in two cases), one with none, one deleted."""
    rows = [
        build_message(id=1, coworker_company_name="Acme Ltd", incoming=True, is_new_message=True,
                      email_account_id=ACCOUNT_A, created_on=BASE_TIME),
        build_message(id=2, coworker_company_name="ACME LTD", incoming=False, is_new_message=False,
                      email_account_id=ACCOUNT_B, created_on=BASE_TIME + dt.timedelta(minutes=1)),
        build_message(id=3, coworker_company_name="Acme Ltd", incoming=True, is_new_message=False,
                      email_account_id=None, created_on=BASE_TIME + dt.timedelta(minutes=2)),
        build_message(id=4, coworker_company_name="Acme Ltd Holdings", incoming=True, is_new_message=True,
                      created_on=BASE_TIME + dt.timedelta(minutes=3)),
        build_message(id=5, coworker_company_name="Café Nord", incoming=True, is_new_message=True,
                      created_on=BASE_TIME + dt.timedelta(minutes=4)),
        build_message(id=6, coworker_company_name=None, created_on=BASE_TIME + dt.timedelta(minutes=5)),
        build_message(id=7, coworker_company_name="Acme Ltd", deleted_at=BASE_TIME,
                      created_on=BASE_TIME + dt.timedelta(minutes=6)),
    ]  # fmt: skip
    CoworkerMessage.objects.bulk_create(rows)
    return rows


def shown_ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(i) for i in ROW_ID.findall(response.content.decode())]


def test_the_list_shows_that_companys_messages_newest_first(staff_client, companies):
    assert shown_ids(staff_client.get("/", {"company": "Acme Ltd"})) == [3, 2, 1]
    assert shown_ids(staff_client.get("/", {"company": "acme ltd", "direction": "incoming"})) == [3, 1]
    assert shown_ids(staff_client.get("/", {"company": "Café Nord"})) == [5]
    assert shown_ids(staff_client.get("/", {"company": "Acme"})) == []  # the whole name, not a part


def test_the_counts_count_that_company(staff_user, staff_client, companies):
    counts = message_counts(user=staff_user, filters=InboxFilters(company="acme LTD"))
    assert (counts.total, counts.unread, counts.incoming, counts.outgoing) == (3, 1, 2, 1)
    assert {a.account: a.count for a in counts.accounts} == {ACCOUNT_A: 1, ACCOUNT_B: 1, "none": 1}
    assert all("company=acme+LTD" in a.querystring for a in counts.accounts)
    html = staff_client.get("/inbox/counts/", {"company": "Acme Ltd"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-count="incoming">2<' in html and 'data-count="unread">1<' in html


def test_the_url_round_trips_and_the_form_draws_the_control(staff_client, companies):
    filters = InboxFilters(company="Acme & Sons, Ltd.", unread=True)
    assert filters.to_params() == {"unread": "1", "company": "Acme & Sons, Ltd."}
    assert InboxFilterForm(QueryDict(filters.querystring())).filters == filters
    assert InboxFilterForm({"company": "  Acme Ltd  "}).filters == InboxFilters(company="Acme Ltd")
    assert InboxFilterForm({"company": ""}).filters == InboxFilters()
    html = staff_client.get("/", {"company": "Acme Ltd"}).content.decode()
    assert 'name="company" value="Acme Ltd"' in html
    assert 'href="/export.csv?company=Acme+Ltd"' in html  # the export of this view
    assert 'name="company" value="Acme Ltd"' in staff_client.get("/", {"company": "Acme Ltd"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results").content.decode()  # the mark forms carry it


def test_a_name_longer_than_any_company_is_ignored_and_said(staff_client, companies):
    form = InboxFilterForm({"company": "x" * 300})
    assert form.filters == InboxFilters() and "company" in form.errors
    response = staff_client.get("/", {"company": "x" * 300})
    assert shown_ids(response) == [6, 5, 4, 3, 2, 1]
    assert "is not a company name" in response.content.decode()


def test_the_live_banner_counts_only_that_company(staff_client, companies):
    newest = Cursor.of(companies[5]).encode()
    CoworkerMessage.objects.bulk_create([
        build_message(id=20, coworker_company_name="acme ltd", created_on=BASE_TIME + dt.timedelta(hours=1)),
        build_message(id=21, coworker_company_name="Café Nord", created_on=BASE_TIME + dt.timedelta(hours=1)),
    ])
    html = staff_client.get("/inbox/live/", {"company": "Acme Ltd", "newest": newest}, HTTP_HX_REQUEST="true").content.decode()
    assert "1 new message" in html and 'hx-get="/?company=Acme+Ltd"' in html


def test_marking_all_marks_that_company_only(staff_client, staff_user, companies):
    staff_client.post("/inbox/mark-all/", {"action": "read", "company": "Acme Ltd"})
    counts = message_counts(user=staff_user, filters=InboxFilters())
    assert counts.unread == 2  # 4 and 5 are still unread; 1 (Acme Ltd) was marked read


def test_the_csv_holds_that_company_and_says_so_in_its_name(staff_client, companies):
    response = staff_client.get("/export.csv", {"company": "acme ltd"})
    rows = read_csv(response_bytes(response))
    assert [r[0] for r in rows[1:]] == ["3", "2", "1"]
    assert {r[8] for r in rows[1:]} == {"Acme Ltd", "ACME LTD"}
    assert 'filename="messages-company-acme-ltd-' in response["Content-Disposition"]
    refused = staff_client.get("/export.csv", {"company": "x" * 300})
    assert refused.status_code == 400 and "company=" in refused.content.decode()
