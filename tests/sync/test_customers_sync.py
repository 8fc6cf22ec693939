"""The customers table kept by the messages sync (``inbox/sync/customers.py``), end to end: the
sandbox over real HTTP, checked against the source's messages computed here independently."""

from __future__ import annotations

import pytest

from inbox.models import Customer
from inbox.sync import services as sync
from sandbox import models as sbx
from sandbox import services as sandbox
from tests.sync.fixtures import BOTH_DBS, nexudus_sandbox, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)


def expected_customers() -> dict[int, tuple]:
    """From the source: each customer's newest non-empty name, message count and newest message."""
    out: dict[int, list] = {}
    rows = (sbx.CoworkerMessage.objects.filter(coworker_id__isnull=False)
            .order_by("coworker_id", "-created_on", "-id")
            .values_list("coworker_id", "coworker_full_name", "created_on"))
    for pk, name, created in rows:
        entry = out.setdefault(pk, ["", 0, created])
        entry[1] += 1
        if not entry[0] and name:
            entry[0] = name.strip()
    return {pk: tuple(v) for pk, v in out.items()}


def mirrored_customers() -> dict[int, tuple]:
    return {c.pk: (c.full_name, c.message_count, c.last_message_at) for c in Customer.objects.all()}


def run(mode: str = "incremental"):
    result = sync.sync_messages(mode=mode, trigger="test")
    assert result.status == "success", result.error
    return result


@pytest.mark.usefixtures("seeded")
def test_the_sync_keeps_the_customers_table_up_to_date():
    run("full")
    assert mirrored_customers() == expected_customers()
    assert len(mirrored_customers()) > 10

    # A customer's name changes in Nexudus (their newest message says so), another writes in.
    renamed = sbx.CoworkerMessage.objects.filter(coworker_id__isnull=False).order_by("-created_on", "-id").first()
    sandbox.update_message(renamed.id, coworker_full_name="Renée Nouveau-Nom")
    writer = sbx.CoworkerMessage.objects.exclude(coworker_id=renamed.coworker_id).filter(
        coworker_id__isnull=False).first().coworker_id
    before = Customer.objects.get(pk=writer).message_count
    sandbox.add_messages(3, coworker_id=writer)
    result = run()
    assert result.mode == "incremental"
    assert Customer.objects.get(pk=renamed.coworker_id).full_name == "Renée Nouveau-Nom"
    assert Customer.objects.get(pk=writer).message_count == before + 3
    assert mirrored_customers() == expected_customers()

    # Deleted messages disappear from the counts at the next full sync (an incremental cannot see them).
    gone = list(sbx.CoworkerMessage.objects.filter(coworker_id=writer).values_list("id", flat=True))
    sandbox.delete_messages(gone)
    run("full")
    assert not Customer.objects.filter(pk=writer).exists()
    assert mirrored_customers() == expected_customers()


@pytest.mark.usefixtures("seeded")
def test_an_incremental_sync_refreshes_only_the_customers_whose_messages_it_wrote(monkeypatch):
    from inbox.sync import customers

    run("full")
    refreshed = []
    real = customers.refresh_customers
    monkeypatch.setattr(customers, "refresh_customers", lambda ids=None: refreshed.append(ids) or real(ids))

    # Nothing changed: the messages read again in the overlap window cost no customer.
    run()
    assert refreshed == [set()]

    # A message moves to another customer in Nexudus: both are recomputed at once (not at the
    # nightly full sync), and nobody else.
    moved = sbx.CoworkerMessage.objects.filter(coworker_id__isnull=False).order_by("id").first()
    to = sbx.CoworkerMessage.objects.exclude(coworker_id=moved.coworker_id).filter(
        coworker_id__isnull=False).first().coworker_id
    sandbox.update_message(moved.id, coworker_id=to)
    refreshed.clear()
    run()
    assert refreshed == [{moved.coworker_id, to}]
    assert mirrored_customers() == expected_customers()


@pytest.mark.usefixtures("seeded")
def test_a_run_that_fails_after_writing_a_page_still_refreshes_its_customers(monkeypatch):
    """The next run reads those messages again unchanged, so it would not refresh them."""
    from inbox.nexudus.client import NexudusClient
    from inbox.nexudus.errors import NexudusUnavailable

    run("full")
    writer = sbx.CoworkerMessage.objects.filter(coworker_id__isnull=False).first().coworker_id
    before = Customer.objects.get(pk=writer).message_count
    sandbox.add_messages(3, coworker_id=writer)
    real = NexudusClient.iter_message_pages

    def one_page_then_an_outage(self, *args, **kwargs):
        pages = real(self, *args, **kwargs)
        yield next(pages)
        raise NexudusUnavailable("Nexudus went away", attempts=1, last_failure="503")

    monkeypatch.setattr(NexudusClient, "iter_message_pages", one_page_then_an_outage)
    failed = sync.sync_messages(mode="incremental", trigger="test")
    assert failed.status == "failed" and failed.records_created == 3
    assert Customer.objects.get(pk=writer).message_count == before + 3
    monkeypatch.undo()
    run()
    assert mirrored_customers() == expected_customers()
