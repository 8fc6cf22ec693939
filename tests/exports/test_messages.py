"""The inbox CSV export: the file's name and ``/export.csv`` itself (cells and the writer:
test_cells.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox.exports.cells import export_timezone, time_cell
from inbox.exports.messages import EXPORT_SQLITE_CACHE_KIB, MESSAGE_HEADER, message_filename
from inbox.exports.views import export_csv
from inbox.models import MessageMark
from inbox.mailbox.filters import InboxFilters
from tests.exports.fixtures import HOSTILE, expected_text, read_csv, response_bytes, storable
from tests.factories import BASE_TIME, make_account, make_message

URL = "/export.csv"


# --- File names -----------------------------------------------------------------------------------


class TestFilename:
    DAY = dt.date(2026, 11, 21)

    @pytest.mark.parametrize(
        ("filters", "name"),
        [
            (InboxFilters(), "messages-all-2026-11-21.csv"),
            (InboxFilters(unread=True, direction="incoming"), "messages-unread-incoming-2026-11-21.csv"),
            (InboxFilters(account=12, customer=7), "messages-account-12-customer-7-2026-11-21.csv"),
            (InboxFilters(account="none", direction="outgoing"), "messages-outgoing-account-none-2026-11-21.csv"),
            (
                InboxFilters(since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31)),
                "messages-since-2026-01-01-until-2026-01-31-2026-11-21.csv",
            ),
            (InboxFilters(q='Wi-Fi "down" / Café'), "messages-search-wi-fi-down-cafe-2026-11-21.csv"),
            (InboxFilters(q="日本語"), "messages-search-2026-11-21.csv"),
            (InboxFilters(q="../../etc/passwd\r\nX: y"), "messages-search-etcpasswd-x-y-2026-11-21.csv"),
        ],
    )
    def test_names_say_what_and_when_in_safe_characters(self, filters, name):
        result = message_filename(filters, today=self.DAY)
        assert result == name
        assert set(result) <= set("abcdefghijklmnopqrstuvwxyz0123456789-.")

    def test_long_searches_are_cut(self):
        assert len(message_filename(InboxFilters(q="word " * 100), today=self.DAY)) < 80


# --- The view -------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestExportView:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(URL + "?unread=1")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_post_is_refused(self, staff_client):
        assert staff_client.post(URL).status_code == 405

    def test_headers_name_the_file_and_forbid_caching(self, staff_client):
        response = staff_client.get(URL + "?unread=1&direction=incoming")
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert response["Content-Disposition"] == f'attachment; filename="messages-unread-incoming-{today}.csv"'
        assert "no-store" in response["Cache-Control"]

    def test_columns_and_values(self, staff_client):
        make_account(id=11, display_name="Front desk")
        make_message(
            pk=5,
            created_on=dt.datetime(2026, 11, 20, 8, 15, 1, 999, tzinfo=dt.UTC),
            updated_on=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
            incoming=False,
            is_new_message=True,
            coworker_id=77,
            coworker_full_name="Ana Díaz",
            coworker_email="ana@example.com",
            coworker_company_name="Acme",
            email_account_id=11,
            email_account_display_name="Front desk",
            subject="Your booking",
            body="<p>See <b>you</b></p>",
            body_text="See you",
        )
        rows = read_csv(response_bytes(staff_client.get(URL)))
        assert rows == [
            list(MESSAGE_HEADER),
            [
                "5",
                "2026-11-20T08:15:01+00:00",
                "2026-11-20T09:00:00+00:00",
                "outgoing",
                "yes",
                "77",
                "Ana Díaz",
                "ana@example.com",
                "Acme",
                "11",
                "Front desk",
                "Your booking",
                "See you",
            ],
        ]
        assert MESSAGE_HEADER == (
            "Id", "CreatedOn", "UpdatedOn", "Direction", "Unread", "CoworkerId", "Customer",
            "CustomerEmail", "Company", "EmailAccountId", "EmailAccount", "Subject", "Body",
        )  # fmt: skip

    def test_missing_values_are_empty_cells(self, staff_client):
        make_message(
            pk=1, coworker_id=None, coworker_full_name=None, coworker_email=None, coworker_company_name=None,
            coworker_billing_name=None, subject=None, body_text="", updated_on=None, email_account=None,
        )  # fmt: skip
        row = read_csv(response_bytes(staff_client.get(URL)))[1]
        assert row[2] == "" and row[5] == "" and row[6] == "" and row[9] == "" and row[11] == ""
        assert row[10] == "Default location settings"  # as the inbox names "no account"

    def test_the_account_is_named_as_the_inbox_names_it(self, staff_client):
        make_message(pk=1, email_account_id=7, email_account_display_name=None, email_account_email_address="a@x.org")
        make_message(pk=2, email_account_id=8, email_account_display_name=None, email_account_email_address=None)
        names = {r[0]: r[10] for r in read_csv(response_bytes(staff_client.get(URL)))[1:]}
        assert names == {"1": "a@x.org", "2": "Account 8"}

    def test_hostile_values_round_trip_and_no_cell_starts_a_formula(self, staff_client):
        hostile = storable(HOSTILE)
        for pk, (name, value) in enumerate(hostile.items(), start=1):
            make_message(
                pk=pk, subject=value, body_text=value, coworker_full_name=value,
                coworker_company_name=value, coworker_email=f"{name}@example.com",
            )  # fmt: skip
        rows = read_csv(response_bytes(staff_client.get(URL)))
        by_id = {int(r[0]): r for r in rows[1:]}
        assert len(by_id) == len(hostile)
        for pk, value in enumerate(hostile.values(), start=1):
            row = by_id[pk]
            for column in ("Customer", "Company", "Subject", "Body"):
                assert row[MESSAGE_HEADER.index(column)] == expected_text(value), (column, value)
        for row in rows:
            for cell in row:
                assert not cell or cell[0] not in "=+-@\t\r＝＋－＠", cell
                assert "\x00" not in cell

    def test_times_formatted_by_the_database_equal_python_formatting(self, staff_client, settings):
        times = [
            dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt.UTC),  # DST starts in Madrid at 01:00 UTC
            dt.datetime(2026, 10, 25, 1, 30, 0, 500, tzinfo=dt.UTC),
            dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        ]
        for pk, when in enumerate(times, start=1):
            make_message(pk=pk, created_on=when, updated_on=None if pk == 2 else when + dt.timedelta(hours=1))
        for zone in (None, "UTC", "Europe/Madrid", "America/St_Johns"):
            settings.HELPDESK_TIME_ZONE = zone
            tz = export_timezone()
            rows = read_csv(response_bytes(staff_client.get(URL)))[1:]
            by_id = {int(r[0]): r for r in rows}
            for pk, when in enumerate(times, start=1):
                assert by_id[pk][1] == time_cell(when, tz), zone
                updated = None if pk == 2 else when + dt.timedelta(hours=1)
                assert by_id[pk][2] == time_cell(updated, tz), zone
                assert dt.datetime.fromisoformat(by_id[pk][1]) == when.replace(microsecond=0)
        settings.HELPDESK_TIME_ZONE = "Europe/Madrid"
        madrid = {int(r[0]): r for r in read_csv(response_bytes(staff_client.get(URL)))[1:]}
        assert madrid[2][1] == "2026-03-29T01:59:59+01:00" and madrid[2][2] == ""
        assert madrid[1][1] == "2026-01-01T01:00:00+01:00"

    def test_numbers_stay_numbers(self, staff_client):
        make_message(pk=3, coworker_id=-5, subject="-5", email_account_id=9)
        row = read_csv(response_bytes(staff_client.get(URL)))[1]
        assert row[0] == "3" and row[5] == "-5" and row[9] == "9"  # numeric columns: never prefixed
        assert row[11] == "'-5"  # a text column: always text

    def test_unread_is_as_the_exporting_person_sees_it(self, staff_client, staff_user, admin_user):
        make_message(pk=1, is_new_message=True)
        make_message(pk=2, is_new_message=True)
        make_message(pk=3, is_new_message=False)
        MessageMark.objects.create(user=staff_user, message_id=1, is_read=True)
        MessageMark.objects.create(user=staff_user, message_id=3, is_read=False)
        MessageMark.objects.create(user=admin_user, message_id=2, is_read=True)  # not staff's
        rows = read_csv(response_bytes(staff_client.get(URL)))
        assert {r[0]: r[4] for r in rows[1:]} == {"1": "no", "2": "yes", "3": "yes"}
        unread = read_csv(response_bytes(staff_client.get(URL + "?unread=1")))
        assert [r[0] for r in unread[1:]] == ["3", "2"]

    def test_whole_view_not_one_page_and_the_cursor_is_ignored(self, staff_client, settings):
        settings.INBOX_PAGE_SIZE = 5
        for pk in range(1, 24):
            make_message(pk=pk, created_on=BASE_TIME + dt.timedelta(minutes=pk))
        rows = read_csv(response_bytes(staff_client.get(URL + "?after=garbage!!")))
        assert [int(r[0]) for r in rows[1:]] == list(range(23, 0, -1))

    def test_deleted_messages_are_not_exported(self, staff_client):
        make_message(pk=1)
        make_message(pk=2, deleted_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
        rows = read_csv(response_bytes(staff_client.get(URL)))
        assert [r[0] for r in rows[1:]] == ["1"]

    def test_one_query_of_only_the_needed_columns(self, staff_client):
        for pk in range(1, 6):
            make_message(pk=pk, incoming=True)
        with CaptureQueriesContext(connection) as queries:
            data = response_bytes(staff_client.get(URL + "?direction=incoming"))
        message_queries = [q["sql"] for q in queries if "inbox_coworkermessage" in q["sql"]]
        assert len(message_queries) == 1
        sql = message_queries[0]
        assert '"inbox_coworkermessage"."body"' not in sql  # never the HTML
        assert '"inbox_coworkermessage"."body_text"' in sql
        assert len(read_csv(data)) == 6


@pytest.mark.django_db
class TestInvalidFilters:
    @pytest.mark.parametrize(
        ("query", "parameter"),
        [
            ("since=2026-13-01", "since"),
            ("until=yesterday", "until"),
            ("direction=sideways", "direction"),
            ("account=abc", "account"),
            ("account=-3", "account"),
            ("customer=99999999999999999999999", "customer"),
            ("unread=maybe", "unread"),
            ("q=%21%21%21", "q"),
            ("since=2026-02-01&until=2026-01-01", "until"),
        ],
    )
    def test_a_bad_filter_is_a_400_naming_it(self, staff_client, query, parameter):
        make_message(pk=1)
        response = staff_client.get(f"{URL}?{query}")
        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        text = response.content.decode()
        assert f"  {parameter}=" in text
        assert "No export was made" in text
        assert "ignored" not in text
        assert "Content-Disposition" not in response

    def test_a_browser_gets_a_page_naming_it_and_the_way_back_to_the_view(self, staff_client):
        """An export's address edited by hand in the address bar: the same refusal as a page, not
        bare text, with a link to the view on its page (which shows the same filter ignored)."""
        make_message(pk=1)
        query = "unread=1&since=2026-13-01&q=%3Cscript%3Ex%3C%2Fscript%3E"
        response = staff_client.get(f"{URL}?{query}", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "Content-Disposition" not in response
        html = response.content.decode()
        assert "<title>No export made · Help desk</title>" in html
        assert '<li><code dir="auto">since=2026-13-01</code>: ' in html
        assert "ignored" not in html.split("<main")[1]
        assert "<script>x" not in html
        back = html.split('<a class="button" href="')[1].split('"')[0]
        assert back == "/?" + query.replace("&", "&amp;")
        page = staff_client.get(back.replace("&amp;", "&")).content.decode()
        assert "Some of the filters were not understood, so they were ignored:" in page

    def test_the_message_is_short_even_for_a_huge_value(self, staff_client):
        response = staff_client.get(URL + "?since=" + "9" * 5000)
        assert response.status_code == 400
        assert len(response.content) < 600

    def test_unknown_parameters_are_ignored_like_the_page(self, staff_client):
        make_message(pk=1)
        response = staff_client.get(URL + "?utm_source=mail&page=3")
        assert response.status_code == 200
        assert len(read_csv(response_bytes(response))) == 2


def _cache_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_on_sqlite_an_export_reads_with_a_small_page_cache_and_gives_it_back(staff_client, staff_user, rf):
    if connection.vendor != "sqlite":
        pytest.skip("the page cache is SQLite's")
    for pk in range(1, 400):
        make_message(pk=pk, body_text="words " * 60)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size = -12345")  # whatever the connection had before
    before = _cache_size()

    # As a WSGI server runs it: iterate, and close the response when the client goes away.
    request = rf.get(URL)
    request.user = staff_user
    response = export_csv(request)
    next(iter(response))
    assert _cache_size() == -EXPORT_SQLITE_CACHE_KIB  # while it streams
    # (close_old_connections would close the test's own connection at the end of the request)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert _cache_size() == before

    response_bytes(staff_client.get(URL))  # read to the end
    assert _cache_size() == before


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_export_streams_inside_a_transaction_it_ends(staff_user, rf):
    """Outside a transaction Django declares the cursor WITH HOLD, and PostgreSQL computes the
    whole result before the first row; inside one, rows stream at once."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's cursors only")
    for pk in range(1, 300):
        make_message(pk=pk, body_text="words " * 60)
    with connection.cursor() as cursor:
        cursor.execute("SET jit = on")
    request = rf.get(URL)
    request.user = staff_user
    response = export_csv(request)
    assert connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        assert cursor.fetchall() == [(False,)]
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
    data = b"".join(response)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("on",)  # only the export's transaction went without
    assert len(read_csv(data)) == 300
