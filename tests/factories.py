"""Mirror rows for tests: one module, one set of defaults.

Messages (``CoworkerMessage``)
    ``build_message(**fields)``  an unsaved row (for ``bulk_create``, or to compare against);
    ``make_message(**fields)``   the same row, saved;
    ``make_messages(times, **fields)``  one saved row per creation time, in one insert;
    ``make_thread(coworker_id, n, start_pk=...)``  a conversation with one customer;
    ``make_mixed_messages(n, ...)``  a seeded mix over accounts, customers, directions and flags.
Accounts (``EmailAccount``)
    ``build_account(**fields)`` / ``make_account(**fields)``  a healthy mail account.
Others
    ``make_business(pk, name)``, ``make_success(resource, finished_at, **fields)`` (a SyncRun).

The defaults of a message, each overridden by passing the model field by name:

    pk / id                 the next of a counter starting at 100_000_001 (``pk=`` and ``id=`` both work)
    created_on              BASE_TIME (every default message at the same moment: ties go by id)
    updated_on              created_on
    incoming                True (received from the customer)
    is_new_message          False (read in Nexudus: pass True for Nexudus's unread flag)
    the customer            4242, "Ada Lovelace", ada@example.com, "Analytical Engines Ltd"
                            (company and billing name); ``**customer(n)`` gives customer n instead
    the account             5001, "Front desk", frontdesk@space.example; ``email_account=<EmailAccount
                            or None>`` takes the id and both names from that account (or none)
    subject, body, body_text  "Subject <pk>", "<p>Body of message <pk></p>", "Body of message <pk>"
    deleted_at              None (live)

The defaults of an account: a healthy IMAP account ("Front desk", hello@example.com, SSL both
ways, checked 5 minutes ago, no errors, 200 days old, location 1), relative to ``now=`` (default:
the current time). A test that relies on one of these values should say it at the call site.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable

from django.utils import timezone

from inbox.models import Business, CoworkerMessage, EmailAccount, SyncRun
from inbox.sync.text import joined_words

BASE_TIME = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

_ids = itertools.count(100_000_001)
_UNSET = object()


def next_id() -> int:
    """An id no other factory row has had in this run."""
    return next(_ids)


def customer(n: int) -> dict:
    """The customer fields of customer ``n`` (for a test that needs several customers)."""
    return dict(
        coworker_id=n,
        coworker_full_name=f"Customer {n}",
        coworker_email=f"c{n}@example.com",
        coworker_company_name=None,
        coworker_billing_name=None,
    )


def _pop_pk(fields: dict) -> int:
    if "pk" in fields and "id" in fields:
        raise TypeError("pass pk or id, not both")
    pk = fields.pop("pk", fields.pop("id", None))
    return next_id() if pk is None else pk


# --- Messages ---------------------------------------------------------------------------------


def build_message(**fields) -> CoworkerMessage:
    """An unsaved CoworkerMessage with the module's defaults; any model field overrides."""
    pk = _pop_pk(fields)
    values = dict(
        created_on=BASE_TIME,
        incoming=True,
        is_new_message=False,
        coworker_id=4242,
        coworker_full_name="Ada Lovelace",
        coworker_email="ada@example.com",
        coworker_company_name="Analytical Engines Ltd",
        coworker_billing_name="Analytical Engines Ltd",
        email_account_id=5001,
        email_account_display_name="Front desk",
        email_account_email_address="frontdesk@space.example",
        subject=f"Subject {pk}",
        body=f"<p>Body of message {pk}</p>",
        body_text=f"Body of message {pk}",
    )
    account = fields.pop("email_account", _UNSET)
    if account is not _UNSET:
        values.update(
            email_account_id=account.pk if account else None,
            email_account_display_name=account.display_name if account else None,
            email_account_email_address=account.email_address if account else None,
        )
    values.update(fields)
    values.setdefault("updated_on", values["created_on"])
    values.setdefault("search_joined", joined_words(
        values["body_text"], values["subject"], values["coworker_full_name"], values["coworker_company_name"]
    ))
    return CoworkerMessage(id=pk, **values)


def make_message(**fields) -> CoworkerMessage:
    """``build_message(**fields)``, saved."""
    message = build_message(**fields)
    message.save(force_insert=True)
    return message


def make_messages(times: Iterable[dt.datetime], **fields) -> list[CoworkerMessage]:
    """One saved message per creation time in ``times``, each with ``fields`` (one bulk insert)."""
    return CoworkerMessage.objects.bulk_create([build_message(created_on=at, **fields) for at in times])


def make_thread(coworker_id: int, n: int, *, start_pk: int, **fields) -> list[CoworkerMessage]:
    """``n`` saved messages with customer ``coworker_id`` (``customer(coworker_id)``), ids from
    ``start_pk``, one minute apart from BASE_TIME, alternating received (even positions) and sent,
    every third one (0, 3, 6, ...) new in Nexudus; subjects "Thread <customer> #<i>"."""
    rows = [
        build_message(
            pk=start_pk + i,
            **customer(coworker_id),
            incoming=i % 2 == 0,
            is_new_message=i % 3 == 0,
            created_on=BASE_TIME + dt.timedelta(minutes=i),
            subject=f"Thread {coworker_id} #{i}",
            body=f"<p>Message number {i}</p>",
            body_text=f"Message number {i}",
            **fields,
        )
        for i in range(n)
    ]
    return CoworkerMessage.objects.bulk_create(rows)


def make_mixed_messages(
    n: int, *, seed: int = 7, accounts=(11, 12, None), start: dt.datetime = BASE_TIME
) -> list[CoworkerMessage]:
    """``n`` saved messages, ids 1 to n, over ``accounts``, six customers (ids 100-105),
    directions, unread flags and a few words to search ("invoice", "booking", "wifi", "parking",
    "printer"); created over the 20 days from ``start``, many sharing a minute (so the id tie-break
    of the order matters), about 1 in 20 deleted. No e-mail, company or HTML body."""
    rng = random.Random(seed)
    words = ["invoice", "booking", "wifi", "parking", "printer"]
    rows = []
    for pk in range(1, n + 1):
        account = rng.choice(accounts)
        rows.append(
            build_message(
                pk=pk,
                # Groups of messages share a minute, and ids don't follow time.
                created_on=start + dt.timedelta(days=rng.randrange(20), minutes=rng.randrange(3)),
                updated_on=start + dt.timedelta(days=21),
                incoming=rng.random() < 0.6,
                is_new_message=rng.random() < 0.4,
                coworker_id=100 + rng.randrange(6),
                coworker_full_name=f"Customer {rng.randrange(6)}",
                coworker_email=None,
                coworker_company_name=None,
                coworker_billing_name=None,
                email_account_id=account,
                email_account_display_name=f"Account {account}" if account else None,
                email_account_email_address=None,
                subject=f"About the {rng.choice(words)}",
                body=None,
                body_text=f"Hello, the {rng.choice(words)} again.",
                deleted_at=start if rng.random() < 0.05 else None,
            )
        )
    return CoworkerMessage.objects.bulk_create(rows)


# --- Accounts ---------------------------------------------------------------------------------


def build_account(*, now: dt.datetime | None = None, **fields) -> EmailAccount:
    """An unsaved, healthy EmailAccount (its times relative to ``now``); any model field overrides."""
    now = now or timezone.now()
    pk = _pop_pk(fields)
    values = dict(
        active=True,
        display_name="Front desk",
        email_address="hello@example.com",
        incoming_server="imap.example.com",
        incoming_server_type=1,  # IMAP
        incoming_server_port=993,
        incoming_server_ssl=True,
        outgoing_server="smtp.example.com",
        outgoing_server_port=587,
        outgoing_server_ssl=True,
        last_check_time=now - dt.timedelta(minutes=5),
        error_count=0,
        created_on=now - dt.timedelta(days=200),
        business_id=1,
    )
    values.update(fields)
    return EmailAccount(id=pk, **values)


def make_account(*, now: dt.datetime | None = None, **fields) -> EmailAccount:
    """``build_account(now=now, **fields)``, saved."""
    account = build_account(now=now, **fields)
    account.save(force_insert=True)
    return account


# --- Locations and sync runs ------------------------------------------------------------------


def make_business(pk: int, name: str) -> Business:
    return Business.objects.create(id=pk, name=name)


def make_success(resource: str, finished_at: dt.datetime, **fields) -> SyncRun:
    """A successful SyncRun of ``resource`` that took 3 seconds and ended at ``finished_at``
    (incremental unless ``mode=`` says otherwise)."""
    return SyncRun.objects.create(
        resource=resource,
        mode=fields.pop("mode", SyncRun.Mode.INCREMENTAL),
        status=SyncRun.Status.SUCCESS,
        started_at=finished_at - dt.timedelta(seconds=3),
        finished_at=finished_at,
        **fields,
    )
