"""Live mode: the stand-in Nexudus keeps moving, so the demo shows new mail and changing health."""

from __future__ import annotations

import random

from sandbox import services
from sandbox.models import CoworkerMessage, EmailAccount


def tick(rng: random.Random) -> str:
    """One step: 1–3 new incoming messages, sometimes a reply or a read, some account's health.

    Returns a one-line description of what changed.
    """
    if services.is_empty():
        return "sandbox is empty: nothing to do (run sandbox_seed)"
    parts = []
    new = services.add_messages(rng.randint(1, 3), incoming=True, rng=rng)
    parts.append(f"{len(new)} new incoming ({', '.join(map(str, new))})")
    if rng.random() < 0.4:
        parts.append(f"reply {services.add_messages(1, incoming=False, rng=rng)[0]} sent")
    if rng.random() < 0.3:
        unread = list(CoworkerMessage.objects.filter(is_new_message=True).values_list("id", flat=True)[:50])
        if unread:
            read = rng.choice(unread)
            services.set_read([read], True)
            parts.append(f"{read} read")
    parts.append(change_health(rng))
    return "; ".join(parts)


def change_health(rng: random.Random) -> str:
    """Healthy accounts get checked again; one active account gets a little better or worse."""
    now = services.now()
    healthy = EmailAccount.objects.filter(active=True, error_count=0).exclude(last_check_time=None)
    healthy = healthy.exclude(profile="stale")
    for account_id in healthy.values_list("id", flat=True):
        services.update_account(account_id, last_check_time=now)
    active = list(EmailAccount.objects.filter(active=True).exclude(profile="stale").order_by("id"))
    if not active:
        return "no active account"
    account = rng.choice(active)
    errors = account.error_count or 0
    if errors and rng.random() < 0.5:
        errors = 0 if rng.random() < 0.3 else errors - 1
        change = "recovering"
    elif rng.random() < 0.25:
        errors += rng.randint(1, 4)
        change = "errors up"
    else:
        return f"{healthy.count()} healthy accounts checked"
    fields = {"error_count": errors}
    if errors == 0:
        fields["last_check_time"] = now
    services.update_account(account.id, **fields)
    return f"account {account.id} {change}: ErrorCount {account.error_count or 0} → {errors}"
