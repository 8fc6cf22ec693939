"""Awaiting reply, end to end: the sandbox over real HTTP, the real sync, the inbox's own view.

The expected answer is computed here, independently, from the sandbox's records (the source), never
from the mirror: a received message with a customer is awaiting when no message sent to that
customer, through any mail account, was created after it; deleted messages count for nothing.
"""

from __future__ import annotations

import pytest

from inbox.mailbox.counts import message_counts
from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import message_list
from inbox.models import CoworkerMessage
from inbox.sync import awaiting
from inbox.sync import services as sync
from sandbox import models as sbx
from sandbox import services as sandbox
from tests.sync.fixtures import BOTH_DBS, nexudus_sandbox, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)


def expected_from_source() -> set[int]:
    """The awaiting messages as the source's records say (sandbox deletions remove records)."""
    latest_sent: dict[int, object] = {}
    received = []
    for pk, coworker, incoming, created in sbx.CoworkerMessage.objects.values_list(
        "id", "coworker_id", "incoming", "created_on"
    ):
        if coworker is None:
            continue
        if incoming:
            received.append((pk, coworker, created))
        elif coworker not in latest_sent or created > latest_sent[coworker]:
            latest_sent[coworker] = created
    return {pk for pk, coworker, created in received if coworker not in latest_sent or created > latest_sent[coworker]}


def mirror_awaiting() -> set[int]:
    return set(CoworkerMessage.objects.live().filter(awaiting_reply=True).values_list("pk", flat=True))


def view_awaiting(**filters) -> list[int]:
    return list(message_list(user=None, filters=InboxFilters(awaiting=True, **filters)).values_list("pk", flat=True))


def sync_now(mode: str = "incremental") -> None:
    assert sync.sync_accounts(trigger="test").status == "success"
    run = sync.sync_messages(mode=mode, trigger="test")
    assert run.status == "success", run.error


def assert_agrees_with_source() -> set[int]:
    expected = expected_from_source()
    assert mirror_awaiting() == expected
    assert set(view_awaiting()) == expected
    assert message_counts(user=None, filters=InboxFilters()).awaiting == len(expected)
    return expected


def a_waiting_customer() -> tuple[int, list[int]]:
    """A customer with messages awaiting a reply, and those messages (source side)."""
    expected = expected_from_source()
    by_customer: dict[int, list[int]] = {}
    for pk, coworker in sbx.CoworkerMessage.objects.filter(pk__in=expected).values_list("id", "coworker_id"):
        by_customer.setdefault(coworker, []).append(pk)
    coworker = max(by_customer, key=lambda c: (len(by_customer[c]), c))
    return coworker, sorted(by_customer[coworker])


def test_the_first_sync_flags_exactly_the_unanswered_messages(seeded):
    sync_now("full")
    expected = assert_agrees_with_source()
    # The generated data has both kinds of customer: some waiting, most answered.
    assert 0 < len(expected) < sbx.CoworkerMessage.objects.filter(incoming=True).count()
    # Newest first like every view; order=oldest reverses it.
    newest_first = view_awaiting()
    assert view_awaiting(order="oldest") == newest_first[::-1]
    created = dict(CoworkerMessage.objects.filter(pk__in=newest_first).values_list("pk", "created_on"))
    assert [created[pk] for pk in newest_first] == sorted((created[pk] for pk in newest_first), reverse=True)


def test_a_reply_made_in_nexudus_clears_the_wait_at_the_next_sync(seeded):
    sync_now("full")
    coworker, waiting = a_waiting_customer()
    assert set(waiting) <= mirror_awaiting()
    # The reply goes out through another mail account than the customer's messages came in by:
    # waiting is per customer, whatever the account.
    used = set(sbx.CoworkerMessage.objects.filter(pk__in=waiting).values_list("email_account_id", flat=True))
    other = sbx.EmailAccount.objects.exclude(id__in=[a for a in used if a is not None]).order_by("id").first()
    sandbox.add_messages(1, incoming=False, coworker_id=coworker, account_id=other.id)
    assert mirror_awaiting() >= set(waiting)  # nothing changes before the sync
    sync_now()
    assert not mirror_awaiting() & set(waiting)
    assert not CoworkerMessage.objects.filter(coworker_id=coworker, awaiting_reply=True).exists()
    assert_agrees_with_source()


def test_a_new_message_from_an_answered_customer_waits_again(seeded):
    sync_now("full")
    answered = (
        sbx.CoworkerMessage.objects.filter(incoming=False, coworker_id__isnull=False)
        .order_by("coworker_id").values_list("coworker_id", flat=True).first()
    )
    [new] = sandbox.add_messages(1, incoming=True, coworker_id=answered)
    sync_now()
    assert new in mirror_awaiting()
    # Their older messages answered before stay answered; the new one is the first of the view.
    assert view_awaiting()[0] == new
    assert_agrees_with_source()


def test_deleted_messages_count_for_nothing(seeded):
    sync_now("full")
    # A customer whose latest message is a reply: delete that reply and their messages before
    # it wait again (once the full sync has found the deletion).
    replied = None
    for coworker in sbx.CoworkerMessage.objects.filter(coworker_id__isnull=False).values_list(
        "coworker_id", flat=True
    ).distinct().order_by("coworker_id"):
        newest = sbx.CoworkerMessage.objects.filter(coworker_id=coworker).order_by("-created_on", "-id").first()
        if not newest.incoming and sbx.CoworkerMessage.objects.filter(
            coworker_id=coworker, incoming=True, created_on__lt=newest.created_on
        ).exists():
            replied = newest
            break
    assert replied is not None, "the generated data has a customer whose last message is a reply"
    before = mirror_awaiting()
    # And an awaiting message deleted at the source leaves the view.
    coworker, waiting = a_waiting_customer()
    sandbox.delete_messages([replied.id, waiting[-1]])
    sync_now("full")
    expected = assert_agrees_with_source()
    assert waiting[-1] not in expected
    assert expected - before, "the deleted reply's customer is waiting again"
    assert all(
        CoworkerMessage.objects.get(pk=pk).coworker_id == replied.coworker_id for pk in expected - before
    )


def test_rebuilding_everything_agrees_with_what_the_sync_kept(seeded):
    sync_now("full")
    coworker, _ = a_waiting_customer()
    sandbox.add_messages(2, incoming=False, coworker_id=coworker)
    sandbox.add_messages(5, incoming=True)
    sync_now()
    kept = mirror_awaiting()
    assert awaiting.rebuild() == 0  # nothing to correct
    assert mirror_awaiting() == kept
    CoworkerMessage.objects.filter(pk__in=list(kept)[:3]).update(awaiting_reply=False)
    assert awaiting.rebuild() == 3
    assert mirror_awaiting() == kept == expected_from_source()
