"""Local read marks: per person, set-based, never a loop over rows, never a word to Nexudus."""

from __future__ import annotations

import pytest
import responses

from inbox.models import CoworkerMessage, MessageMark
from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import message_list
from inbox.mailbox.marks import mark_matching, mark_read, mark_unread
from tests.factories import make_message, make_thread

pytestmark = pytest.mark.django_db


def unread_ids(user, **filters) -> set[int]:
    return set(message_list(user=user, filters=InboxFilters(unread=True, **filters)).values_list("pk", flat=True))


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="other", password="other-pass-123")


def test_mark_read_then_unread_for_one_person(staff_user, other_user):
    new = make_message(is_new_message=True)
    assert mark_read(user=staff_user, message_ids=[new.pk]) == 1
    assert new.pk not in unread_ids(staff_user)
    assert new.pk in unread_ids(other_user)  # the other person has not read it

    assert mark_unread(user=staff_user, message_ids=[new.pk]) == 1
    assert new.pk in unread_ids(staff_user)
    assert MessageMark.objects.get(user=staff_user, message=new).is_read is False


def test_unread_mark_overrides_an_old_message(staff_user, other_user):
    old = make_message(is_new_message=False)
    mark_unread(user=staff_user, message_ids=[old.pk])
    assert old.pk in unread_ids(staff_user)
    assert old.pk not in unread_ids(other_user)


def test_marking_is_idempotent_and_keeps_one_row(staff_user):
    m = make_message()
    for _ in range(3):
        mark_read(user=staff_user, message_ids=[m.pk, m.pk])
    assert MessageMark.objects.filter(user=staff_user, message=m).count() == 1


def test_unknown_ids_are_skipped_and_counted_out(staff_user):
    m = make_message()
    assert mark_read(user=staff_user, message_ids=[m.pk, 999_999_999, 2**62]) == 1
    assert MessageMark.objects.count() == 1


def test_many_ids_go_as_one_parameter(staff_user, django_assert_num_queries):
    make_thread(77, 1200, start_pk=8_000_000)
    ids = list(CoworkerMessage.objects.values_list("pk", flat=True))
    with django_assert_num_queries(1):  # far past SQLite's bound-parameter limit
        assert mark_read(user=staff_user, message_ids=ids) == 1200
    assert unread_ids(staff_user) == set()


def test_mark_matching_marks_the_whole_filter_not_a_page(staff_user, other_user):
    make_thread(1, 25, start_pk=100)  # incoming: even positions
    make_thread(2, 10, start_pk=500)
    view = message_list(user=staff_user, filters=InboxFilters(unread=True, customer=1, direction="incoming"))
    expected = set(view.values_list("pk", flat=True))
    assert expected

    assert mark_matching(user=staff_user, queryset=view, is_read=True, batch_size=2) == len(expected)

    assert unread_ids(staff_user, customer=1, direction="incoming") == set()
    assert unread_ids(staff_user, customer=2)  # other customers untouched
    assert unread_ids(other_user, customer=1, direction="incoming") == expected


def test_mark_matching_unread_then_read_round_trip(staff_user):
    make_thread(3, 40, start_pk=1000)  # every third message is new in Nexudus: 14 of 40
    everything = message_list(user=staff_user, filters=InboxFilters(customer=3))
    assert mark_matching(user=staff_user, queryset=everything, is_read=False, batch_size=7) == 40 - 14
    assert len(unread_ids(staff_user, customer=3)) == 40
    assert mark_matching(user=staff_user, queryset=everything, is_read=True) == 40
    assert unread_ids(staff_user, customer=3) == set()
    assert mark_matching(user=staff_user, queryset=everything, is_read=True) == 0  # nothing left to change


def test_mark_matching_writes_marks_only_where_the_state_changes(staff_user):
    make_thread(5, 30, start_pk=1500)  # 10 new in Nexudus, 20 already read
    everything = message_list(user=staff_user, filters=InboxFilters(customer=5))
    assert mark_matching(user=staff_user, queryset=everything, is_read=True) == 10
    assert MessageMark.objects.filter(user=staff_user).count() == 10
    assert unread_ids(staff_user, customer=5) == set()


def test_mark_matching_with_a_search_filter(staff_user):
    make_message(subject="Broken heating on floor 2", body_text="It is cold", is_new_message=True)
    make_message(subject="Invoice", body_text="Please pay", is_new_message=True)
    view = message_list(user=staff_user, filters=InboxFilters(q="heating"))
    assert mark_matching(user=staff_user, queryset=view, is_read=True) == 1
    assert {m.subject for m in message_list(user=staff_user, filters=InboxFilters(unread=True))} == {"Invoice"}


def test_mark_matching_reads_once_and_writes_once_per_batch(staff_user, django_assert_num_queries):
    make_thread(4, 60, start_pk=3000)
    view = message_list(user=staff_user, filters=InboxFilters(customer=4))
    with django_assert_num_queries(1 + 1):  # the filter once, then one INSERT ... SELECT
        assert mark_matching(user=staff_user, queryset=view, is_read=False, batch_size=1000) == 40
    with django_assert_num_queries(1 + 3):
        assert mark_matching(user=staff_user, queryset=view, is_read=True, batch_size=25) == 60


def test_bad_ids_are_ignored(staff_user):
    m = make_message()
    assert mark_read(user=staff_user, message_ids=[0, -5, 2**63, 2**70, m.pk]) == 1


def test_nothing_matching_marks_nothing(staff_user):
    view = message_list(user=staff_user, filters=InboxFilters(customer=12345))
    assert mark_matching(user=staff_user, queryset=view, is_read=True) == 0
    assert not MessageMark.objects.exists()


@responses.activate
def test_marks_never_talk_to_nexudus(staff_user):
    m = make_message(is_new_message=True)
    mark_read(user=staff_user, message_ids=[m.pk])
    mark_unread(user=staff_user, message_ids=[m.pk])
    mark_matching(user=staff_user, queryset=CoworkerMessage.objects.all(), is_read=True)
    assert len(responses.calls) == 0  # any HTTP request would have failed as unregistered
    m.refresh_from_db()
    assert m.is_new_message is True  # the mirror's copy of Nexudus's flag is untouched


def test_unread_as_a_value_and_as_a_condition_agree_with_the_marks_in_any_query(staff_user, other_user):
    """``inbox/mailbox/unread.py`` writes its subqueries itself: computed here from the rows, the
    person's unread messages are the same as a value, as a filter, excluded, and with the list
    nested in another query (where the ORM relabels its tables)."""
    from django.db.models import OuterRef, Subquery

    from inbox.mailbox.unread import unread_condition, unread_value

    messages = [make_message(is_new_message=i % 2 == 0) for i in range(8)]
    mark_read(user=staff_user, message_ids=[messages[0].pk, messages[1].pk])  # new, then old
    mark_unread(user=staff_user, message_ids=[messages[2].pk, messages[3].pk])
    mark_unread(user=other_user, message_ids=[messages[5].pk])  # someone else's mark
    marks = {(m.user_id, m.message_id): m.is_read for m in MessageMark.objects.all()}
    expected = {
        m.pk for m in messages
        if (not marks[(staff_user.pk, m.pk)] if (staff_user.pk, m.pk) in marks else m.is_new_message)
    }
    assert expected == {messages[i].pk for i in (2, 3, 4, 6)}

    values = dict(CoworkerMessage.objects.annotate(u=unread_value(staff_user)).values_list("pk", "u"))
    assert {pk for pk, unread in values.items() if unread} == expected
    assert all(isinstance(unread, bool) for unread in values.values())
    assert set(CoworkerMessage.objects.filter(unread_condition(staff_user)).values_list("pk", flat=True)) == expected
    assert set(CoworkerMessage.objects.exclude(unread_condition(staff_user)).values_list("pk", flat=True)) == (
        {m.pk for m in messages} - expected
    )
    unread_list = message_list(user=staff_user, filters=InboxFilters(unread=True))
    nested = CoworkerMessage.objects.filter(pk__in=unread_list.values("pk"))
    assert set(nested.values_list("pk", flat=True)) == expected
    by_value = CoworkerMessage.objects.annotate(
        u=Subquery(message_list(user=staff_user, filters=InboxFilters()).filter(pk=OuterRef("pk")).values("is_unread")[:1])
    )
    assert {pk for pk, unread in by_value.values_list("pk", "u") if unread} == expected
    assert set(message_list(user=staff_user, filters=InboxFilters(unread=True)).values_list("pk", flat=True)) == expected
    # Nobody has no marks: Nexudus's flag alone.
    assert set(message_list(user=None, filters=InboxFilters(unread=True)).values_list("pk", flat=True)) == {
        m.pk for m in messages if m.is_new_message
    }
