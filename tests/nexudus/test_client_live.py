"""The Nexudus client against the sandbox over real HTTP (a live server): every endpoint and filter.

The sandbox is the stand-in Nexudus (``sandbox/``); its own tables are the truth each answer is
checked against.
"""

from __future__ import annotations

import math
import random
import time
from datetime import datetime, timedelta, timezone

import pytest

from inbox.nexudus import NexudusAuthError, NexudusClient, NexudusNotFound, NexudusUnavailable
from inbox.nexudus.configured import nexudus_client
from inbox.nexudus.ratelimit import RedisRateLimiter
from sandbox import auth as sandbox_auth
from sandbox import models as sbx
from sandbox import services as sandbox

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
    pytest.mark.timeout(120),
]

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)
PAGE = 50


@pytest.fixture
def base_url(live_server):
    return live_server.url + "/sandbox"


@pytest.fixture
def seeded(base_url):
    return sandbox.seed(accounts=16, customers=40, messages=420, seed=7, now=NOW)


@pytest.fixture
def make_client(base_url):
    made = []

    def make(**overrides) -> NexudusClient:
        options = dict(base_url=base_url, page_size=PAGE, share_tokens=False)
        options.update(overrides)
        client = nexudus_client(**options)  # the Redis rate limiter included
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


def walk(pages) -> tuple[list, list]:
    pages = list(pages)
    return [record for page in pages for record in page.records], pages


def ids_of(records) -> list[int]:
    return [record.id for record in records]


def source_ids(model=sbx.CoworkerMessage, **lookups) -> list[int]:
    return list(model.objects.filter(**lookups).order_by("id").values_list("id", flat=True))


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- Messages -------------------------------------------------------------------------------


def test_walks_every_message_once_in_pages(seeded, client):
    records, pages = walk(client.iter_message_pages())

    assert ids_of(records) == source_ids()
    assert len(pages) == math.ceil(seeded.messages / PAGE)
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    assert all(p.page_size == PAGE and p.total_items == seeded.messages for p in pages)
    assert [p.has_next for p in pages] == [True] * (len(pages) - 1) + [False]
    assert client.requests_made == 1 + len(pages)  # one token, one request a page


def test_message_records_carry_every_field_as_the_source_has_it(seeded, client):
    records, _ = walk(client.iter_message_pages())
    rows = {row["id"]: row for row in sbx.CoworkerMessage.objects.values()}

    for record in records:
        row = rows[record.id]
        for name in ("unique_id", "coworker_id", "coworker_full_name", "coworker_email",
                     "coworker_billing_name", "coworker_company_name", "email_account_id",
                     "email_account_display_name", "email_account_email_address", "subject", "body",
                     "is_new_message", "incoming", "message_id", "reminder_unique_id", "updated_by",
                     "is_new", "system_id"):
            assert getattr(record, name) == row[name], (record.id, name)
        assert record.created_on == utc(row["created_on"]).replace(microsecond=0)
        assert record.updated_on == utc(row["updated_on"]).replace(microsecond=0)
        assert record.to_string_text == (row["subject"] or "")
    assert any(r.email_account_id is None for r in records)  # default location settings
    assert any(r.incoming for r in records) and any(not r.incoming for r in records)


@pytest.mark.parametrize("order_by, column", [("UpdatedOn", "updated_on"), ("CreatedOn", "created_on")])
def test_walks_in_date_order(seeded, client, order_by, column):
    records, _ = walk(client.iter_message_pages(order_by=order_by))

    assert ids_of(records) == list(
        sbx.CoworkerMessage.objects.order_by(column, "id").values_list("id", flat=True))


@pytest.mark.parametrize("value", [True, False])
def test_filter_is_new_message(seeded, client, value):
    records, _ = walk(client.iter_message_pages(is_new_message=value))

    assert ids_of(records) == source_ids(is_new_message=value) and records


@pytest.mark.parametrize("value", [True, False])
def test_filter_incoming(seeded, client, value):
    records, _ = walk(client.iter_message_pages(incoming=value))

    assert ids_of(records) == source_ids(incoming=value) and records


def test_filter_email_account_and_coworker(seeded, client):
    account_id = sbx.CoworkerMessage.objects.exclude(email_account_id=None).values_list(
        "email_account_id", flat=True).first()
    coworker_id = sbx.CoworkerMessage.objects.values_list("coworker_id", flat=True).first()

    by_account, _ = walk(client.iter_message_pages(email_account_id=account_id))
    by_coworker, _ = walk(client.iter_message_pages(coworker_id=coworker_id))
    both, _ = walk(client.iter_message_pages(email_account_id=account_id, coworker_id=coworker_id,
                                             incoming=True, is_new_message=False))

    assert ids_of(by_account) == source_ids(email_account_id=account_id) and by_account
    assert ids_of(by_coworker) == source_ids(coworker_id=coworker_id) and by_coworker
    assert ids_of(both) == source_ids(email_account_id=account_id, coworker_id=coworker_id,
                                      incoming=True, is_new_message=False)


def test_filter_created_range(seeded, client):
    created = sorted(utc(d) for d in sbx.CoworkerMessage.objects.values_list("created_on", flat=True))
    start, end = created[len(created) // 4], created[len(created) // 2]

    records, _ = walk(client.iter_message_pages(created_from=start, created_to=end))

    # Minute precision: from_ rounds down, to_ rounds up, so the edges are included.
    low = start.replace(second=0, microsecond=0)
    high = end.replace(second=0, microsecond=0) + timedelta(minutes=2)
    assert set(ids_of(records)) >= set(source_ids(created_on__gte=start, created_on__lte=end))
    assert ids_of(records) == source_ids(created_on__gte=low, created_on__lt=high)


def test_filter_updated_from_sees_changes_and_nothing_older(seeded, client):
    before = sandbox.now() - timedelta(seconds=1)
    changed = source_ids()[10:13]
    sandbox.set_read(changed, True)
    added = sandbox.add_messages(2)

    records, _ = walk(client.iter_message_pages(order_by="UpdatedOn", updated_from=before))

    assert set(ids_of(records)) == set(changed) | set(added)
    assert all(not r.is_new_message for r in records if r.id in changed)


def test_filter_updated_to(seeded, client):
    cut = utc(sorted(sbx.CoworkerMessage.objects.values_list("updated_on", flat=True))[100])

    records, _ = walk(client.iter_message_pages(updated_to=cut))

    high = cut.replace(second=0, microsecond=0) + timedelta(minutes=2)
    assert ids_of(records) == source_ids(updated_on__lt=high)


def test_start_page(seeded, client):
    records, pages = walk(client.iter_message_pages(start_page=3))

    assert pages[0].page == 3 and ids_of(records) == source_ids()[2 * PAGE:]


def test_server_cap_on_page_size_is_read_back(seeded, make_client, settings):
    settings.SANDBOX_MAX_PAGE_SIZE = 30  # the live server runs in this process: it sees the change
    client = make_client(page_size=100)

    records, pages = walk(client.iter_message_pages())

    assert ids_of(records) == source_ids()
    assert all(p.page_size == 30 for p in pages) and len(pages) == math.ceil(seeded.messages / 30)


def test_empty_result(seeded, client):
    records, pages = walk(client.iter_message_pages(coworker_id=999_999_999))

    assert records == [] and len(pages) == 1 and not pages[0].has_next


def test_get_one_message_and_404(seeded, client):
    message_id = source_ids()[5]

    record = client.get_message(message_id)

    assert record.id == message_id
    assert record.body == sbx.CoworkerMessage.objects.get(id=message_id).body
    with pytest.raises(NexudusNotFound):
        client.get_message(1)


def test_batch_get_returns_only_existing_in_chunks(seeded, client):
    existing = source_ids()[:230]
    sandbox.delete_messages(existing[:3])
    asked = existing + [1, 2]
    before = client.requests_made

    records = client.get_messages(asked)

    assert sorted(ids_of(records)) == existing[3:]
    assert client.requests_made - before == 1 + 3  # the token, then 232 ids: 100 + 100 + 32


# --- Accounts and businesses ----------------------------------------------------------------


def test_walks_every_account_without_keeping_tokens(seeded, client):
    records, pages = walk(client.iter_account_pages(page_size=5))

    assert ids_of(records) == source_ids(sbx.EmailAccount)
    assert len(pages) == math.ceil(seeded.accounts / 5)
    rows = {row["id"]: row for row in sbx.EmailAccount.objects.values()}
    for record in records:
        row = rows[record.id]
        assert record.has_google_token is bool(row["google_access_token"])
        assert record.has_office365_token is bool(row["office365_access_token"])
        for name in ("display_name", "email_address", "active", "business_id", "error_count",
                     "incoming_server", "incoming_server_port", "incoming_server_ssl",
                     "outgoing_server_ssl", "delete_message_settings", "last_message_id"):
            assert getattr(record, name) == row[name], (record.id, name)
        assert record.last_check_time == (utc(row["last_check_time"]).replace(microsecond=0)
                                          if row["last_check_time"] else None)
        for token in (row["google_access_token"], row["office365_access_token"]):
            if token:
                assert token not in repr(record)
    assert any(r.has_google_token for r in records) and any(r.has_office365_token for r in records)


@pytest.mark.parametrize("value", [True, False])
def test_account_filter_active(seeded, client, value):
    records, _ = walk(client.iter_account_pages(active=value))

    assert ids_of(records) == source_ids(sbx.EmailAccount, active=value) and records


def test_account_filters_business_and_updated(seeded, client):
    business_id = sbx.EmailAccount.objects.values_list("business_id", flat=True).first()
    before = sandbox.now() - timedelta(seconds=1)
    account_id = source_ids(sbx.EmailAccount)[3]
    sandbox.update_account(account_id, error_count=42)

    by_business, _ = walk(client.iter_account_pages(business_id=business_id))
    changed, _ = walk(client.iter_account_pages(updated_from=before, order_by="UpdatedOn"))
    until, _ = walk(client.iter_account_pages(updated_to=before - timedelta(minutes=5)))

    assert ids_of(by_business) == source_ids(sbx.EmailAccount, business_id=business_id) and by_business
    assert ids_of(changed) == [account_id] and changed[0].error_count == 42
    assert account_id not in ids_of(until) and until


def test_get_account_batch_and_404(seeded, client):
    account_ids = source_ids(sbx.EmailAccount)

    one = client.get_account(account_ids[0])
    batch = client.get_accounts(account_ids[:4] + [1])

    assert one.id == account_ids[0] and one.incoming_server is not None
    assert ids_of(batch) == account_ids[:4]
    assert all(a.incoming_server is None for a in batch)  # batch answers are partial, as documented
    with pytest.raises(NexudusNotFound):
        client.get_account(1)


def test_businesses(seeded, client):
    records, _ = walk(client.iter_business_pages())

    assert [(b.id, b.name) for b in records] == list(
        sbx.Business.objects.order_by("id").values_list("id", "name"))


# --- Authentication -------------------------------------------------------------------------


def test_expired_token_is_renewed_after_a_401(seeded, client):
    client.get_message(source_ids()[0])
    sandbox.expire_tokens()
    before = client.requests_made

    client.get_message(source_ids()[1])

    assert client.requests_made - before == 3  # 401, refresh, retry


def test_expired_token_with_a_used_refresh_token_signs_in_again(seeded, client):
    client.get_message(source_ids()[0])
    sandbox.expire_tokens()
    sbx.Token.objects.filter(kind=sbx.Token.REFRESH).update(revoked=True)
    before = client.requests_made

    client.get_message(source_ids()[1])

    assert client.requests_made - before == 4  # 401, refused refresh, sign-in, retry


def test_short_lived_token_is_refreshed_before_it_expires(seeded, make_client):
    sandbox.configure(token_expires_in=2)
    client = make_client()
    client.get_message(source_ids()[0])
    first_refresh_tokens = set(sbx.Token.objects.filter(kind=sbx.Token.REFRESH).values_list("key", flat=True))

    time.sleep(1.9)  # past the renewal margin (10% of 2 s), before the sandbox expires it
    before = client.requests_made
    client.get_message(source_ids()[1])

    assert client.requests_made - before == 2  # refresh, then the request: no 401 on the way
    assert sbx.Token.objects.filter(kind=sbx.Token.REFRESH, revoked=True,
                                    key__in=first_refresh_tokens).count() == 1


def test_bad_password(seeded, make_client):
    client = make_client(password="not-the-password")

    with pytest.raises(NexudusAuthError) as caught:
        client.get_message(source_ids()[0])

    assert caught.value.kind == "invalid_credentials"
    assert "NEXUDUS_PASSWORD" in str(caught.value) and "not-the-password" not in str(caught.value)


def test_two_factor_user(seeded, make_client):
    with pytest.raises(NexudusAuthError) as caught:
        make_client(username=sandbox_auth.TWO_FACTOR_USERNAME).get_message(source_ids()[0])
    assert caught.value.kind == "two_factor_required" and "NEXUDUS_TOTP" in str(caught.value)

    client = make_client(username=sandbox_auth.TWO_FACTOR_USERNAME, totp=sandbox_auth.SANDBOX_TOTP)
    assert client.get_message(source_ids()[0]).id == source_ids()[0]


def test_must_reset_password(seeded, make_client):
    with pytest.raises(NexudusAuthError) as caught:
        make_client(username=sandbox_auth.RESET_USERNAME).get_message(source_ids()[0])

    assert caught.value.kind == "must_reset_password"


# --- Throttling and faults ------------------------------------------------------------------


def fresh_second() -> None:
    time.sleep(1.02 - time.time() % 1)


def test_sandbox_409s_are_waited_out(seeded, make_client):
    sandbox.configure(rate_per_second=3)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        time.sleep(seconds)

    client = make_client(rate_limiter=None, sleep=sleep, max_attempts=6)
    wanted = source_ids()[:8]

    got = [client.get_message(i).id for i in wanted]

    assert got == wanted
    assert slept and all(s == 1.0 for s in slept)  # the sandbox's Retry-After: 1
    assert client.requests_made == 1 + len(wanted) + len(slept)


def test_shared_rate_limiter_keeps_the_client_under_the_sandbox_limit(seeded, make_client, redis_client):
    sandbox.configure(rate_per_second=4)
    limiter = RedisRateLimiter(redis_client, key=f"live-{time.monotonic_ns()}", per_second=3, per_minute=1000)
    slept = []
    client = make_client(rate_limiter=limiter, sleep=slept.append)
    fresh_second()  # the sandbox counts per calendar second, earlier tests' requests included

    for message_id in source_ids()[:7]:
        client.get_message(message_id)

    assert slept == []  # never throttled: the limiter waited instead
    limiter.reset()


def test_random_failures_and_truncated_answers_are_retried(seeded, make_client):
    # The sandbox draws its faults from the random module, in the live server's thread: seeded,
    # the draw is the same every run. Unseeded, about 1 run in 190 met no fault on its 9 pages
    # and failed the last assertion (once in CI).
    random.seed(20261203)
    sandbox.set_faults(failure_rate=0.3, truncate_rate=0.2)
    client = make_client(max_attempts=15)

    records, pages = walk(client.iter_message_pages())

    assert ids_of(records) == source_ids()
    assert client.requests_made > 1 + len(pages)  # faults happened, and were retried


def test_persistent_failure_is_unavailable(seeded, make_client):
    sandbox.set_faults(failure_rate=1.0)
    client = make_client(max_attempts=3)

    with pytest.raises(NexudusUnavailable, match=r"GET /api/spaces/coworkermessages properly after 3 attempts; the last failure was a server error \(HTTP 50"):
        list(client.iter_message_pages())


def test_from_settings_defaults_reach_the_sandbox(seeded, base_url, settings):
    settings.NEXUDUS_API_URL = base_url
    client = nexudus_client(share_tokens=False)

    assert client.username == settings.SANDBOX_USERNAME
    assert ids_of(client.get_messages(source_ids()[:3])) == source_ids()[:3]
