"""tests/factories.py keeps the defaults its docstring promises (tests lean on them)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from inbox.accounts.rules import assess
from inbox.models import CoworkerMessage, EmailAccount
from tests.factories import (
    BASE_TIME,
    build_account,
    build_message,
    customer,
    make_account,
    make_message,
    make_messages,
    make_mixed_messages,
    make_thread,
)


def test_a_default_message_is_a_read_received_one_from_ada_to_the_front_desk():
    m = build_message()
    assert m.pk is not None and m._state.adding
    assert (m.created_on, m.updated_on) == (BASE_TIME, BASE_TIME)
    assert (m.incoming, m.is_new_message, m.deleted_at) == (True, False, None)
    assert (m.coworker_id, m.coworker_full_name, m.coworker_email) == (4242, "Ada Lovelace", "ada@example.com")
    assert m.coworker_company_name == m.coworker_billing_name == "Analytical Engines Ltd"
    assert (m.email_account_id, m.email_account_display_name, m.email_account_email_address) == (
        5001, "Front desk", "frontdesk@space.example")  # fmt: skip
    assert (m.subject, m.body, m.body_text) == (f"Subject {m.pk}", f"<p>Body of message {m.pk}</p>", f"Body of message {m.pk}")


def test_fields_override_and_ids_do_not_repeat():
    a, b = build_message(), build_message()
    assert a.pk != b.pk
    assert build_message(pk=7).pk == build_message(id=7).pk == 7
    assert build_message(pk=7).subject == "Subject 7"
    with pytest.raises(TypeError):
        build_message(pk=1, id=2)
    later = BASE_TIME + dt.timedelta(hours=1)
    m = build_message(created_on=later, is_new_message=True, **customer(9))
    assert (m.created_on, m.updated_on, m.is_new_message) == (later, later, True)
    assert (m.coworker_id, m.coworker_full_name, m.coworker_company_name) == (9, "Customer 9", None)
    assert build_message(updated_on=None).updated_on is None


def test_an_account_or_none_names_the_messages_account():
    account = build_account(id=12, display_name="Events", email_address="events@example.com")
    m = build_message(email_account=account)
    assert (m.email_account_id, m.email_account_display_name, m.email_account_email_address) == (12, "Events", "events@example.com")
    none = build_message(email_account=None)
    assert (none.email_account_id, none.email_account_display_name, none.email_account_email_address) == (None, None, None)


@pytest.mark.django_db
def test_make_saves_and_make_messages_saves_one_per_time():
    m = make_message(subject="Saved")
    assert CoworkerMessage.objects.get(pk=m.pk).subject == "Saved"
    account = make_account()
    times = [BASE_TIME, BASE_TIME + dt.timedelta(days=1)]
    made = make_messages(times, email_account=account, incoming=False)
    assert [r.created_on for r in CoworkerMessage.objects.filter(pk__in=[r.pk for r in made]).order_by("created_on")] == times
    assert {(r.email_account_id, r.incoming) for r in made} == {(account.pk, False)}


@pytest.mark.django_db
def test_a_default_account_is_healthy_now_and_at_a_given_moment():
    account = make_account()
    assert EmailAccount.objects.filter(pk=account.pk).exists()
    assert assess(account, now=timezone.now()).status.value == "healthy"
    then = timezone.now() - dt.timedelta(days=400)
    old = build_account(now=then)
    assert old.last_check_time == then - dt.timedelta(minutes=5)
    assert assess(old, now=then).status.value == "healthy"


@pytest.mark.django_db
def test_a_thread_and_a_mix_are_what_they_say():
    rows = make_thread(31, 6, start_pk=900)
    assert [r.pk for r in rows] == list(range(900, 906))
    assert [r.incoming for r in rows] == [True, False] * 3
    assert [r.is_new_message for r in rows] == [True, False, False, True, False, False]
    assert {r.coworker_id for r in rows} == {31}
    start = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    mixed = make_mixed_messages(40, start=start)
    assert [m.pk for m in mixed] == list(range(1, 41))
    assert all(start <= m.created_on < start + dt.timedelta(days=20) for m in mixed)
    assert {m.email_account_id for m in mixed} == {11, 12, None}
