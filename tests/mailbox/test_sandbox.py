"""End to end: the sandbox (the stand-in Nexudus) is seeded, a real sync fills the mirror over
HTTP, and every inbox filter shows exactly what the source data says it should."""

from __future__ import annotations

import itertools
import re

import pytest

from inbox.sync.services import sync_messages
from sandbox import services as sandbox
from sandbox.models import CoworkerMessage as SourceMessage
from tests.accounts.fixtures import sandbox_client, sandbox_source  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def shown(client, params: dict) -> list[int]:
    html = client.get("/", params).content.decode()
    return [int(i) for i in re.findall(r'<li id="msg-(\d+)"', html)]


def test_every_filter_matches_the_source_after_a_sync(sandbox_source, staff_client, settings):
    settings.INBOX_PAGE_SIZE = 1000
    sandbox.seed(accounts=4, customers=25, messages=180, seed=11)
    run = sync_messages(mode="full", client=sandbox_client())
    assert run.status == "success", run.error

    source = SourceMessage.objects.using("sandbox")
    accounts = sorted({a for a in source.values_list("email_account_id", flat=True) if a is not None})
    customers = sorted({c for c in source.values_list("coworker_id", flat=True) if c is not None})[:3]
    assert accounts and customers
    cases = list(itertools.product([False, True], [None, "incoming", "outgoing"], [None, accounts[0], "none"]))
    cases += [(False, None, None, c) for c in customers]
    for case in cases:
        unread, direction, account = case[:3]
        customer = case[3] if len(case) > 3 else None
        expected = source
        params = {}
        if unread:
            expected, params["unread"] = expected.filter(is_new_message=True), "1"
        if direction:
            expected, params["direction"] = expected.filter(incoming=direction == "incoming"), direction
        if account == "none":
            expected, params["account"] = expected.filter(email_account_id__isnull=True), "none"
        elif account:
            expected, params["account"] = expected.filter(email_account_id=account), str(account)
        if customer:
            expected, params["customer"] = expected.filter(coworker_id=customer), str(customer)
        ids = shown(staff_client, params)
        assert sorted(ids) == sorted(expected.values_list("id", flat=True)), params
        assert len(ids) == len(set(ids))
