"""Applying pages to the mirror: every field, unchanged rows skipped, cleaning, one transaction a page.

Real database; records come from the client's own parser.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone as dj_timezone

from inbox.models import CoworkerMessage, EmailAccount, MessageMark
from inbox.nexudus.records import parse_account, parse_message
from inbox.sync.upsert import apply_account_page, apply_message_page

UTC = timezone.utc


def raw_message(i: int, **overrides) -> dict:
    raw = {
        "Id": 1000 + i,
        "UniqueId": f"00000000-0000-4000-8000-{i:012d}",
        "CoworkerId": 500 + i % 7,
        "CoworkerFullName": f"Customer {i}",
        "CoworkerEmail": f"c{i}@example.com",
        "CoworkerBillingName": None,
        "CoworkerCompanyName": "Acme",
        "EmailAccountId": 7 if i % 3 else None,
        "EmailAccountDisplayName": "Hello" if i % 3 else None,
        "EmailAccountEmailAddress": "hello@space.example" if i % 3 else None,
        "Subject": f"Subject {i}",
        "Body": f"<p>Hello <b>{i}</b></p><script>x()</script>",
        "IsNewMessage": i % 2 == 0,
        "Incoming": True,
        "MessageId": None,
        "ReminderUniqueId": None,
        "CreatedOn": "2025-05-01T10:00:00Z",
        "UpdatedOn": "2025-05-02T10:00:00Z",
        "UpdatedBy": "staff@space.example",
        "IsNew": False,
        "SystemId": None,
        "ToStringText": f"Subject {i}",
    }
    raw.update(overrides)
    return raw


def page(n: int, start: int = 0, **overrides):
    return [parse_message(raw_message(i, **overrides)) for i in range(start, start + n)]


def snapshot() -> list[tuple]:
    return list(CoworkerMessage.objects.order_by("pk").values_list())


@pytest.mark.django_db
class TestApplyPage:
    def test_creates_rows_with_every_field_and_the_text(self):
        created, updated = apply_message_page(page(5))
        assert (created, updated) == (5, 0)
        row = CoworkerMessage.objects.get(pk=1001)
        assert row.subject == "Subject 1"
        assert row.body == "<p>Hello <b>1</b></p><script>x()</script>"
        assert row.body_text == "Hello 1"
        assert row.email_account_id == 7 and row.email_account_display_name == "Hello"
        assert row.created_on == datetime(2025, 5, 1, 10, tzinfo=UTC)
        assert row.updated_on == datetime(2025, 5, 2, 10, tzinfo=UTC)
        assert row.is_new_message is False and row.incoming is True
        assert row.to_string_text == "Subject 1"
        assert row.deleted_at is None and row.synced_at is not None
        assert CoworkerMessage.objects.get(pk=1003).email_account_id is None

    def test_a_page_applied_twice_changes_nothing(self):
        records = page(30)
        assert apply_message_page(records) == (30, 0)
        before = snapshot()
        assert apply_message_page(records) == (0, 0)
        assert snapshot() == before  # synced_at included: unchanged rows are not even written

    def test_counts_only_real_changes(self):
        apply_message_page(page(10))
        changed = page(10, UpdatedOn="2025-05-03T10:00:00Z")[:3] + page(10)[3:]
        assert apply_message_page(changed) == (0, 3)
        assert apply_message_page(page(12)) == (2, 3)  # 2 new; the 3 go back to the old UpdatedOn

    def test_a_field_changing_without_updatedon_is_still_applied(self):
        apply_message_page(page(3))
        assert apply_message_page(page(3, IsNewMessage=True)) == (0, 1)  # 1001 was read, now unread
        assert CoworkerMessage.objects.filter(is_new_message=True).count() == 3

    def test_duplicate_ids_within_a_page_keep_the_last(self):
        records = page(2) + [parse_message(raw_message(0, Subject="Second copy"))]
        assert apply_message_page(records) == (2, 0)
        assert CoworkerMessage.objects.get(pk=1000).subject == "Second copy"

    def test_a_record_that_reappears_is_live_again(self):
        apply_message_page(page(3))
        CoworkerMessage.objects.filter(pk=1001).update(deleted_at=dj_timezone.now())
        assert apply_message_page(page(3)) == (0, 1)
        assert CoworkerMessage.objects.get(pk=1001).deleted_at is None

    def test_local_marks_are_never_touched(self):
        user = get_user_model().objects.create_user("ana", password="x-123-secret")
        apply_message_page(page(3))
        MessageMark.objects.create(user=user, message_id=1000, is_read=True)
        MessageMark.objects.create(user=user, message_id=1001, is_read=False)
        marks = list(MessageMark.objects.order_by("pk").values_list("message_id", "is_read", "marked_at"))
        apply_message_page(page(3, IsNewMessage=True, Subject="Changed", UpdatedOn="2025-06-01T00:00:00Z"))
        assert list(MessageMark.objects.order_by("pk").values_list("message_id", "is_read", "marked_at")) == marks

    def test_values_a_database_would_refuse_are_cleaned(self):
        records = [
            parse_message(raw_message(0, Subject="nul\x00byte", CoworkerFullName="x" * 600)),
            parse_message(raw_message(1, MessageId=2**40, Body="bad \ud800 surrogate")),
            parse_message(raw_message(2, CreatedOn=None, IsNewMessage=None, Incoming=None)),
            parse_message(raw_message(3, CreatedOn=None, UpdatedOn=None)),
        ]
        before = dj_timezone.now()
        assert apply_message_page(records) == (4, 0)
        rows = {m.pk: m for m in CoworkerMessage.objects.all()}
        assert rows[1000].subject == "nulbyte"
        assert rows[1000].coworker_full_name == "x" * 255
        assert rows[1001].message_id is None  # does not fit the column: unknown
        assert rows[1001].body == "bad \ufffd surrogate"
        assert rows[1002].created_on == rows[1002].updated_on  # no CreatedOn: the best date known
        assert rows[1002].is_new_message is False and rows[1002].incoming is False
        assert rows[1003].created_on >= before
        # ... and applying them again still changes nothing.
        assert apply_message_page(records) == (0, 0)

    def test_accounts_keep_only_whether_a_token_is_set(self):
        raw = {
            "Id": 9, "DisplayName": "Hello", "EmailAddress": "hello@x.example", "Active": True,
            "GoogleAccessToken": "ya29.SECRET", "Office365AccessToken": None, "ErrorCount": 3,
            "LastCheckTime": "2025-06-01T09:00:00Z", "UpdatedOn": "2025-06-01T09:00:00Z",
        }
        assert apply_account_page([parse_account(raw)]) == (1, 0)
        account = EmailAccount.objects.get(pk=9)
        assert account.has_google_token is True and account.has_office365_token is False
        assert account.error_count == 3
        assert apply_account_page([parse_account(raw)]) == (0, 0)
        assert apply_account_page([parse_account({**raw, "ErrorCount": 4})]) == (0, 1)

    def test_rows_are_stored_as_django_itself_stores_them(self):
        """The upsert bypasses ``bulk_create``: what it writes must be what Django's own ``save``
        writes, value for value (SQLite keeps datetimes as text, so even the format counts)."""
        apply_message_page(page(3, MessageId=12) + [parse_message(raw_message(3, CreatedOn=None))])
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in CoworkerMessage._meta.concrete_fields)

        def stored() -> list[tuple]:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {qn(CoworkerMessage._meta.db_table)} ORDER BY 1")
                return cursor.fetchall()

        written = stored()
        for message in CoworkerMessage.objects.all():
            message.save()
        assert stored() == written and len(written) == 4

    def test_pages_applied_inside_one_transaction_do_not_mix(self):
        """A caller (or a test) may hold several pages in one transaction: each page writes only its
        own rows (PostgreSQL stages them in a temporary table that only commits would empty)."""
        with transaction.atomic():
            apply_message_page(page(2))
            apply_message_page(page(1, start=5))
            assert apply_message_page(page(2, Subject="Again")) == (0, 2)
        assert sorted(CoworkerMessage.objects.values_list("pk", "subject")) == [
            (1000, "Again"), (1001, "Again"), (1005, "Subject 5")
        ]

    def test_one_transaction_per_page(self, django_assert_max_num_queries):
        records = page(1000)
        # SAVEPOINT/BEGIN + one IN query per 900 ids + the upsert (SQLite: one executemany;
        # PostgreSQL: the staging table, its COPY (not counted here) and one INSERT).
        with django_assert_max_num_queries(10):
            apply_message_page(records)
        assert CoworkerMessage.objects.count() == 1000


@pytest.mark.django_db
def test_a_page_of_1000_applies_in_a_fraction_of_a_second():
    records = page(1000)
    started = time.perf_counter()
    apply_message_page(records)
    elapsed = time.perf_counter() - started
    # ~0.15 s here (most of it SQLite's full-text index); an update_or_create loop takes seconds.
    # A loose bound, for a shared machine.
    assert elapsed < 1.0, f"{elapsed:.2f} s for 1,000 records ({connection.vendor})"
