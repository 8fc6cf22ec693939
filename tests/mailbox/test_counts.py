"""Bounded counts (exact up to INBOX_COUNT_CAP, then "at least"), nobody's unread, the accounts index."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import CoworkerMessage
from inbox.mailbox.counts import cached_message_counts, message_counts
from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import message_list
from tests.factories import build_message
from tests.mailbox.inbox_fixtures import ACCOUNT_A, ACCOUNT_B, BASE_TIME

pytestmark = pytest.mark.django_db


def _lima(n: int, start: int = 9000) -> list[CoworkerMessage]:
    """n messages that say "lima": a third unread, alternating direction, two accounts, one customer."""
    messages = [
        build_message(id=start + i, subject=f"lima {i}", is_new_message=i % 3 == 0, incoming=i % 2 == 0,
                      coworker_id=7001, email_account_id=[ACCOUNT_A, ACCOUNT_B][i % 2 and (i // 2) % 2],
                      created_on=BASE_TIME - dt.timedelta(minutes=i))
        for i in range(n)
    ]
    CoworkerMessage.objects.bulk_create(messages)
    return messages


@pytest.mark.parametrize("filters", [
    InboxFilters(q="lima"),
    InboxFilters(q="lima", direction="incoming"),
    InboxFilters(q="lima", unread=True, account=ACCOUNT_B),
    InboxFilters(since=(BASE_TIME - dt.timedelta(days=1)).date()),
    InboxFilters(q="lima", since=(BASE_TIME - dt.timedelta(days=1)).date(), direction="outgoing"),
    InboxFilters(q="lima", customer=7001),
])
def test_at_the_cap_the_counts_are_exact(staff_user, settings, filters):
    messages = _lima(12)
    settings.INBOX_COUNT_CAP = 12  # exactly as many as match: nothing is cut
    counts = message_counts(user=staff_user, filters=filters)
    assert not counts.capped

    def n(**changes):
        view = InboxFilters(**{**filters.__dict__, **changes})
        return sum(1 for m in messages
                   if (not view.unread or m.is_new_message)
                   and (view.direction is None or m.incoming == (view.direction == "incoming"))
                   and (view.account is None or m.email_account_id == view.account))

    assert counts.total == n()
    assert counts.unread == n(unread=True)
    assert (counts.incoming, counts.outgoing) == (n(direction="incoming"), n(direction="outgoing"))
    assert {a.account: a.count for a in counts.accounts} == {
        a: n(account=a) for a in (ACCOUNT_A, ACCOUNT_B) if n(account=a)
    }


def test_beyond_the_cap_every_count_is_a_lower_bound_read_from_cap_messages(staff_user, settings):
    messages = _lima(30)
    settings.INBOX_COUNT_CAP = 10
    view = InboxFilters(q="lima")
    counts = message_counts(user=staff_user, filters=view)
    assert counts.capped and counts.cap == 10
    assert counts.total == 10  # the first 10 found, whichever they are
    assert counts.incoming + counts.outgoing == 10
    assert sum(a.count for a in counts.accounts) == 10
    true_unread = sum(m.is_new_message for m in messages)
    assert counts.unread <= true_unread
    # "At least": each number is no more than the truth for its view.
    assert counts.incoming <= sum(m.incoming for m in messages)
    assert counts.outgoing <= sum(not m.incoming for m in messages)


@pytest.mark.parametrize("counted", [message_counts, cached_message_counts])
def test_a_chosen_account_under_the_cap_is_counted_exactly_in_a_capped_base(staff_user, settings, counted):
    """The words match more than the cap, one account's share of them does not: the view's numbers
    are that account's, exact (not those of its messages among the base's first ``cap``)."""
    messages = _lima(30)
    settings.INBOX_COUNT_CAP = 10
    mine = [m for m in messages if m.email_account_id == ACCOUNT_B]
    assert 0 < len(mine) <= 10 < len(messages)
    for view in (InboxFilters(q="lima", account=ACCOUNT_B), InboxFilters(q="lima", account=ACCOUNT_B, unread=True)):
        counts = counted(user=staff_user, filters=view)
        assert not counts.capped and counts.accounts_capped
        shown = [m for m in mine if m.is_new_message or not view.unread]
        assert counts.total == len(shown)
        assert counts.unread == sum(m.is_new_message for m in mine)
        assert (counts.incoming, counts.outgoing) == (sum(m.incoming for m in shown), sum(not m.incoming for m in shown))
        by_account = {a.account: a for a in counts.accounts}
        assert (by_account[ACCOUNT_B].count, by_account[ACCOUNT_B].at_least, by_account[ACCOUNT_B].selected) == (len(shown), False, True)
        assert by_account[ACCOUNT_A].at_least and by_account[ACCOUNT_A].count <= 10
    # Past the cap on its own too: "at least" throughout.
    settings.INBOX_COUNT_CAP = 3
    counts = counted(user=staff_user, filters=InboxFilters(q="lima", account=ACCOUNT_B))
    assert counts.capped and counts.total == 3 and all(a.at_least for a in counts.accounts)


def test_the_counts_fragment_of_a_chosen_account_says_which_numbers_are_at_least(staff_client, settings):
    _lima(30)
    settings.INBOX_COUNT_CAP = 10
    settings.INBOX_COUNTS_CACHE_SECONDS = 0
    html = staff_client.get(f"/inbox/counts/?q=lima&account={ACCOUNT_B}", HTTP_HX_REQUEST="true").content.decode()
    assert '<span class="num">7</span>' in html and "More than 10 messages match" not in html
    assert re.search(rf'data-account="{ACCOUNT_B}">7<', html) and re.search(rf'data-account="{ACCOUNT_A}">\d+\+<', html)
    assert "The other accounts are counted among the first 10 messages found" in html
    html = staff_client.get("/inbox/counts/?q=lima&direction=incoming", HTTP_HX_REQUEST="true").content.decode()
    assert "Counting stopped at the first 10 messages found: each number is “at least”." in html


def test_a_capped_view_reads_at_most_cap_plus_one_rows(staff_user, settings):
    _lima(40)
    settings.INBOX_COUNT_CAP = 7
    with CaptureQueriesContext(connection) as ctx:
        message_counts(user=staff_user, filters=InboxFilters(q="lima"))
    sample = [q["sql"] for q in ctx.captured_queries if "inbox_coworkermessage" in q["sql"] and "LIMIT" in q["sql"].upper()]
    assert sample and re.search(r"LIMIT 8\b", sample[0], re.I), sample


def test_marks_change_only_what_was_counted(staff_user, settings):
    """A person's marks move messages between unread and read in the counted sample, never
    outside it: the numbers stay lower bounds (never below zero, never above the sample)."""
    messages = _lima(30)
    settings.INBOX_COUNT_CAP = 10
    from inbox.models import MessageMark

    MessageMark.objects.bulk_create([MessageMark(user=staff_user, message_id=m.pk, is_read=m.is_new_message) for m in messages])
    counts = message_counts(user=staff_user, filters=InboxFilters(q="lima"))
    assert counts.capped and counts.total == 10
    flipped_everything = message_counts(user=staff_user, filters=InboxFilters(q="lima", unread=True))
    assert 0 <= flipped_everything.total <= 10
    # Every message's state is flipped by its mark: unread in the sample = old ones in the sample.
    sample_unread = counts.unread
    assert sample_unread == 10 - message_counts(user=None, filters=InboxFilters(q="lima")).unread


def test_many_marks_are_matched_by_the_database(staff_user, settings, monkeypatch):
    from inbox.mailbox import counts as counts_module
    from inbox.models import MessageMark

    messages = _lima(20)
    MessageMark.objects.bulk_create([MessageMark(user=staff_user, message_id=m.pk, is_read=True) for m in messages if m.is_new_message])
    expected = message_counts(user=staff_user, filters=InboxFilters(q="lima"))
    monkeypatch.setattr(counts_module, "MARKS_FETCHED", 2)  # fewer than the person has
    assert message_counts(user=staff_user, filters=InboxFilters(q="lima")) == expected
    assert expected.unread == 0


def test_the_counts_fragment_says_at_least(staff_client, settings):
    _lima(25)
    settings.INBOX_COUNT_CAP = 10
    settings.INBOX_COUNTS_CACHE_SECONDS = 0
    html = staff_client.get("/inbox/counts/?q=lima", HTTP_HX_REQUEST="true").content.decode()
    assert '<span class="num">10+</span>' in html
    assert "More than 10 messages match" in html
    assert re.search(r'data-count="incoming">\d+\+<', html)
    assert "Mark all 10 messages" not in html and "(at least 10)" in html
    settings.INBOX_COUNT_CAP = 100
    html = staff_client.get("/inbox/counts/?q=lima", HTTP_HX_REQUEST="true").content.decode()
    assert '<span class="num">25</span>' in html and "at least" not in html


def test_a_capped_count_of_none_says_not_counted_not_0_plus(staff_client, settings):
    """Counting stopped at the cap and none of the messages found is unread: "0+" read as "none",
    when any number may be unread past the cap."""
    CoworkerMessage.objects.bulk_create(
        build_message(id=9100 + i, subject=f"lima {i}", is_new_message=False, incoming=True, coworker_id=7001,
                      email_account_id=ACCOUNT_A, created_on=BASE_TIME - dt.timedelta(minutes=i))
        for i in range(15)
    )
    settings.INBOX_COUNT_CAP = 10
    settings.INBOX_COUNTS_CACHE_SECONDS = 0
    html = staff_client.get("/inbox/counts/?q=lima", HTTP_HX_REQUEST="true").content.decode()
    unread = html.split('data-count="unread">')[1].split("</li>")[0]
    assert "0+" not in unread and '<span class="visually-hidden">not counted</span>' in unread
    assert 'title="Not counted: counting stopped at the first 10 messages found"' in unread
    assert 'data-count="incoming">10+</span>' in html
    assert "<title>Search" in html and "(0" not in html.split("</title>")[0]


def test_cached_capped_counts_keep_the_cap(staff_user, settings):
    _lima(25)
    settings.INBOX_COUNT_CAP = 10
    settings.INBOX_COUNTS_CACHE_SECONDS = 60
    cache.clear()
    first = cached_message_counts(user=staff_user, filters=InboxFilters(q="lima"))
    second = cached_message_counts(user=staff_user, filters=InboxFilters(q="lima"))
    assert first.capped and second.capped and first == second
    settings.INBOX_COUNT_CAP = 100  # another cap is another cache entry
    assert not cached_message_counts(user=staff_user, filters=InboxFilters(q="lima")).capped


# --- Nobody: user=None ------------------------------------------------------------------------


@pytest.mark.parametrize("nobody", [None, AnonymousUser()], ids=["None", "anonymous"])
def test_for_nobody_unread_is_nexudus_flag_alone(inbox_data, staff_user, nobody):
    """The command-line export has no person: no marks apply, whoever made them."""
    some_new = next(m for m in inbox_data.messages if m.is_new_message)
    some_old = next(m for m in inbox_data.messages if not m.is_new_message)
    inbox_data.mark(staff_user, some_new.pk, is_read=True)
    inbox_data.mark(staff_user, some_old.pk, is_read=False)
    rows = {m.pk: m.is_unread for m in message_list(user=nobody, filters=InboxFilters())}
    assert rows == {m.pk: m.is_new_message for m in inbox_data.messages}
    unread = list(message_list(user=nobody, filters=InboxFilters(unread=True)).values_list("pk", flat=True))
    assert unread == [m.pk for m in sorted(inbox_data.messages, key=lambda m: (m.created_on, m.pk), reverse=True) if m.is_new_message]
    counts = message_counts(user=nobody, filters=InboxFilters())
    assert counts.unread == sum(m.is_new_message for m in inbox_data.messages)
    # ...while the person who marked sees their marks.
    assert some_new.pk not in message_list(user=staff_user, filters=InboxFilters(unread=True)).values_list("pk", flat=True)


def test_nobodys_list_needs_no_marks_subquery():
    sql = str(message_list(user=None, filters=InboxFilters(unread=True)).query)
    assert "inbox_messagemark" not in sql


# --- The accounts page's index (migration 0006) ------------------------------------------------


def test_newest_received_per_account_reads_the_received_index():
    """The accounts page's "last received" and silent-window counts (inbox/accounts/selectors.py)
    seek on (account, created_on) among live received messages; without migration 0006 SQLite
    sorted every incoming message of each account (2.3 s at a million)."""
    from inbox.accounts.selectors import accounts_with_last_received

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            sql, params = accounts_with_last_received().query.sql_with_params()
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "msg_account_received_newest" in plan, plan
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'msg_account_received_newest'")
            definition = cursor.fetchone()[0]
            assert "(email_account_id, created_on DESC, id DESC)" in definition and "incoming" in definition


@pytest.mark.parametrize("filters", [InboxFilters(q="kilo"), InboxFilters(customer=7002), InboxFilters(q="kilo", direction="incoming")])
def test_the_sample_groups_every_kind_of_message_as_the_rows_say(settings, filters):
    """The sample's rows pack the account and three flags into one number (``_FLAG_KEY``): every
    combination, no account included, comes back as the rows have it, on either database. (The
    sample is of the view's words, customer and dates: direction, account and unread are applied
    to its groups, facet by facet.)"""
    from collections import Counter
    from itertools import product

    from inbox.mailbox.counts import _flag_sample

    combos = list(product([None, ACCOUNT_A, ACCOUNT_B], [False, True], [False, True], [False, True]))
    messages = [
        build_message(id=9500 + i, subject=f"kilo {i}", coworker_id=7002, email_account_id=account,
                      incoming=incoming, is_new_message=is_new, awaiting_reply=awaiting,
                      created_on=BASE_TIME - dt.timedelta(minutes=i))
        for i, (account, incoming, is_new, awaiting) in enumerate(combos * 2)
    ]
    CoworkerMessage.objects.bulk_create(messages)
    sample = _flag_sample(filters.base)
    assert not sample.capped
    assert sample.groups == Counter((m.email_account_id, m.incoming, m.is_new_message, m.awaiting_reply) for m in messages)
    assert all(type(flag) is bool for key in sample.groups for flag in key[1:])
    assert sample.ids == {m.pk for m in messages}
