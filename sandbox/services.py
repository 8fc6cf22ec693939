"""Changing the stand-in Nexudus: what tests, live mode and the seed command call.

Every change bumps the record's ``UpdatedOn`` to the server clock (UTC, whole seconds), as Nexudus
does, so an incremental sync (``from_..._UpdatedOn``) sees it. Deletions are recorded in
``Deletion`` (the API cannot show them, as in Nexudus).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max

from sandbox import generate
from sandbox.fake.ids import FIRST_MESSAGE_ID
from sandbox.fake.messages import TOPICS, MessageFactory
from sandbox.models import Config, Coworker, CoworkerMessage, Deletion, EmailAccount, Token

DB = generate.DB
UPDATED_BY = "sandbox@example.com"


def now() -> datetime:
    return generate.utcnow()


def seed(
    *, accounts: int = 16, customers: int = 300, messages: int = 5000, seed: int = 42, now: datetime | None = None
) -> generate.Summary:
    """Replace all data with a generated set (configuration and issued tokens are kept)."""
    return generate.generate(accounts=accounts, customers=customers, messages=messages, seed=seed, now=now)


def is_empty() -> bool:
    return not CoworkerMessage.objects.exists() and not EmailAccount.objects.exists()


def message_ids() -> list[int]:
    return list(CoworkerMessage.objects.order_by("id").values_list("id", flat=True))


def account_ids() -> list[int]:
    return list(EmailAccount.objects.order_by("id").values_list("id", flat=True))


def add_messages(
    n: int, *, incoming: bool = True, account_id: int | None = None, coworker_id: int | None = None,
    rng: random.Random | None = None,
) -> list[int]:
    """``n`` new messages from (or to) existing customers, created now; returns their Ids.

    ``account_id`` None: each customer's usual account (which may be the location's default
    settings, i.e. ``EmailAccountId`` null). Incoming ones are unread (``IsNewMessage``).
    """
    rng = rng or random.Random()
    customers = list(Coworker.objects.filter(id=coworker_id) if coworker_id else Coworker.objects.all())
    if not customers:
        raise ValueError("The sandbox has no customers yet: seed it first.")
    accounts = list(EmailAccount.objects.all())
    account = next((a for a in accounts if a.id == account_id), None)
    if account_id is not None and account is None:
        raise ValueError(f"No sandbox mail account with Id {account_id}.")
    factory = MessageFactory(rng, now(), accounts, customers)
    with transaction.atomic(using=DB):
        first = (CoworkerMessage.objects.aggregate(top=Max("id"))["top"] or FIRST_MESSAGE_ID - 1) + 1
        rows = []
        for i in range(n):
            customer = rng.randrange(len(customers))
            topics = TOPICS.get(factory.langs[customer], TOPICS["en"])
            row = list(
                factory.row(
                    id=first + i, customer=customer, incoming=incoming, created=factory.now,
                    topic=rng.choice(topics), position=rng.choice((0, 0, 1)), unread=incoming,
                )
            )
            row[17] = factory.now  # updated_on = created_on: brand new
            row[18] = None if incoming else UPDATED_BY
            row[19] = True  # IsNew
            if account is not None:
                row[7:10] = [account.id, account.display_name, account.email_address]
            rows.append(tuple(row))
        generate.insert_rows(CoworkerMessage, MessageFactory.COLUMNS, rows)
    return [row[0] for row in rows]


def set_read(ids: Iterable[int], read: bool) -> int:
    """Flip ``IsNewMessage`` (read = not new); returns how many messages changed."""
    return CoworkerMessage.objects.filter(id__in=list(ids)).update(
        is_new_message=not read, updated_on=now(), updated_by=UPDATED_BY
    )


def update_message(id: int, **fields) -> None:
    updated = CoworkerMessage.objects.filter(id=id).update(**fields, updated_on=now(), updated_by=UPDATED_BY)
    if not updated:
        raise ValueError(f"No sandbox message with Id {id}.")


def delete_messages(ids: Iterable[int]) -> int:
    return _delete(CoworkerMessage, "coworkermessages", ids)


def update_account(id: int, **fields) -> None:
    """Change an account's fields (snake_case column names, e.g. ``error_count=12``)."""
    fields.pop("updated_on", None)
    with transaction.atomic(using=DB):
        updated = EmailAccount.objects.filter(id=id).update(**fields, updated_on=now(), updated_by=UPDATED_BY)
    if not updated:
        raise ValueError(f"No sandbox mail account with Id {id}.")


def delete_accounts(ids: Iterable[int]) -> int:
    return _delete(EmailAccount, "emailaccounts", ids)


def _delete(model, resource: str, ids: Iterable[int]) -> int:
    ids = list(ids)
    moment = now()
    with transaction.atomic(using=DB):
        found = list(model.objects.filter(id__in=ids).values_list("id", flat=True))
        model.objects.filter(id__in=found).delete()
        Deletion.objects.bulk_create(Deletion(resource=resource, record_id=i, deleted_on=moment) for i in found)
    return len(found)


def configure(**fields) -> Config:
    """Change knobs of ``Config`` (e.g. ``rate_per_second=5``, ``token_expires_in=2``)."""
    with transaction.atomic(using=DB):
        config, _ = Config.objects.get_or_create(pk=1)
        for name, value in fields.items():
            if not hasattr(config, name) or name == "id":
                raise ValueError(f"The sandbox has no setting {name!r}.")
            setattr(config, name, value)
        config.full_clean()
        config.save()
    return config


def set_faults(*, failure_rate: float = 0.0, truncate_rate: float = 0.0, latency_ms: int = 0,
               throttle_rate: float = 0.0) -> Config:
    for name, rate in (("failure_rate", failure_rate), ("truncate_rate", truncate_rate),
                       ("throttle_rate", throttle_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {rate}.")
    if latency_ms < 0:
        raise ValueError("latency_ms cannot be negative.")
    return configure(failure_rate=failure_rate, truncate_rate=truncate_rate, latency_ms=latency_ms,
                     throttle_rate=throttle_rate)


def expire_tokens() -> int:
    """Make every issued access token expired now (a client must refresh or sign in again)."""
    return Token.objects.filter(kind=Token.ACCESS).update(expires_at=now() - timedelta(seconds=1))


def reset() -> None:
    """Everything back to empty: data, tokens, configuration."""
    generate.wipe()
    with transaction.atomic(using=DB):
        Token.objects.all().delete()
        Config.objects.all().delete()
