"""End to end: the sandbox's data, synced over real HTTP by the real sync, then exported.

The sandbox generates hostile and tricky content (formula starters, quotes, line breaks, markup,
non-Latin text, emoji) and accounts carrying OAuth tokens; nothing of it may reach a CSV wrongly.
"""

from __future__ import annotations

import pytest

from inbox.models import CoworkerMessage, EmailAccount
from inbox.sync import services as sync
from sandbox import models as sbx
from sandbox.fake.accounts import SECRET_MARKER
from sandbox.fake.hostile import HOSTILE_SUBJECT_PREFIX, TRICKY_SUBJECTS
from tests.exports.fixtures import expected_text, read_csv, response_bytes
from tests.sync.fixtures import BOTH_DBS

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DBS)
FORMULA_STARTERS = tuple("=+-@\t\r＝＋－＠")


@pytest.fixture
def synced(seeded):
    assert sync.sync_accounts(trigger="test").status == "success"
    assert sync.sync_messages(mode="full", trigger="test").status == "success"
    return seeded


def test_sandbox_messages_round_trip_through_the_export(synced, admin_client_):
    data = response_bytes(admin_client_.get("/export.csv"))
    rows = read_csv(data)
    header, body = rows[0], rows[1:]
    assert len(body) == CoworkerMessage.objects.filter(deleted_at__isnull=True).count() > 400
    subject, text = header.index("Subject"), header.index("Body")
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTERS), cell
    # Every tricky subject of the source reads back as intended (apostrophe before a formula).
    mirror = dict(CoworkerMessage.objects.values_list("id", "subject"))
    exported = {int(r[0]): r[subject] for r in body}
    assert exported == {pk: expected_text(s or "") for pk, s in mirror.items() if pk in exported}
    for tricky in TRICKY_SUBJECTS:
        assert expected_text(tricky) in exported.values(), tricky
    # Hostile bodies arrive as their plain text: no markup, nothing that runs.
    hostile = [r for r in body if r[subject].startswith(HOSTILE_SUBJECT_PREFIX)]
    assert hostile
    for row in hostile:
        assert "<script" not in row[text].lower() and "onerror" not in row[text].lower()
    # Non-Latin names and text and emoji survive.
    everything = data.decode("utf-8")
    for sample in ("关于会议室预订的问题", "استفسار عن الفاتورة", "Вопрос по счёту", "🎉"):
        assert sample in everything


def test_no_token_ever_reaches_the_accounts_export(synced, admin_client_):
    tokens = [
        t
        for pair in sbx.EmailAccount.objects.using("sandbox").values_list("google_access_token", "office365_access_token")
        for t in pair
        if t
    ]
    assert tokens, "the sandbox must hand out tokens, or this test proves nothing"
    assert EmailAccount.objects.filter(has_google_token=True).exists()
    data = response_bytes(admin_client_.get("/accounts/export.csv"))
    text = data.decode("utf-8")
    assert SECRET_MARKER not in text
    for token in tokens:
        assert token not in text and token[:16] not in text
    rows = read_csv(data)
    assert len(rows) - 1 == EmailAccount.objects.filter(deleted_at__isnull=True).count() > 10
    connections = rows[0].index("Connections")
    assert any("Google connected" in r[connections] for r in rows[1:])
    # ... nor the messages export
    assert SECRET_MARKER not in response_bytes(admin_client_.get("/export.csv")).decode("utf-8")
