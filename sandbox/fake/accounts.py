"""Locations (Nexudus businesses) and their mail accounts, one account of each health profile.

With fewer accounts than ``ACCOUNT_PROFILES`` the first profiles are made; with 15 accounts or more
one carries ``HOSTILE_ACCOUNT_NAME``. The Google- and Office365-connected ones carry fake OAuth
tokens with ``SECRET_MARKER`` inside.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sandbox.fake.ids import FIRST_ACCOUNT_ID, FIRST_BUSINESS_ID, guid
from sandbox.models import Business, EmailAccount

SECRET_MARKER = "SANDBOX-SECRET"  # inside every fake OAuth token, so tests can look for leaks

LOCATIONS = [
    ("Canal Works Amsterdam", "Netherlands", "EUR", "canalworks"),
    ("Shoreditch Loft London", "United Kingdom", "GBP", "shoreditchloft"),
    ("Gràcia Studios Barcelona", "Spain", "EUR", "graciastudios"),
    ("Kreuzberg Hub Berlin", "Germany", "EUR", "kreuzberghub"),
]

# The order matters: with fewer accounts than profiles, the first ones are made.
ACCOUNT_PROFILES = [
    "healthy",
    "failing",
    "warning",
    "inactive",
    "stale",
    "never_checked",
    "ssl_off",
    "ssl_off_outgoing",
    "no_incoming_server",
    "port_zero",
    "unknown_server_type",
    "google",
    "office365",
    "healthy",
    "healthy",
    "healthy",
]
# An admin-typed display name is markup too: the 15th account (a healthy one) carries this one.
HOSTILE_ACCOUNT_NAME = 'Front desk <img src=x onerror=alert("account")>'
HOSTILE_ACCOUNT_INDEX = 14
MAILBOX_NAMES = ["hello", "members", "billing", "events", "frontdesk", "community", "bookings", "support"]


def make_businesses(rng: random.Random, now: datetime) -> list[Business]:
    out = []
    for i, (name, country, currency, slug) in enumerate(LOCATIONS):
        created = now - timedelta(days=900 - 100 * i)
        out.append(
            Business(
                id=FIRST_BUSINESS_ID + i, unique_id=guid(rng), name=name, web_address=f"https://{slug}.example",
                country_name=country, currency_code=currency, simple_time_zone_id=i + 1,
                created_on=created, updated_on=created + timedelta(days=30), updated_by="admin@example.com",
            )
        )
    return out


def make_accounts(rng: random.Random, now: datetime, businesses: list[Business], count: int) -> list[EmailAccount]:
    out = []
    for i in range(count):
        profile = ACCOUNT_PROFILES[i] if i < len(ACCOUNT_PROFILES) else "healthy"
        business = businesses[i % len(businesses)]
        slug = LOCATIONS[i % len(LOCATIONS)][3]
        box = MAILBOX_NAMES[(i // len(businesses)) % len(MAILBOX_NAMES)]
        suffix = "" if i < len(businesses) * len(MAILBOX_NAMES) else str(i)
        address = f"{box}{suffix}@{slug}.example"
        created = now - timedelta(days=rng.randint(200, 800))
        account = EmailAccount(
            id=FIRST_ACCOUNT_ID + i, unique_id=guid(rng), business_id=business.id,
            display_name=f"{business.name.split()[0]} {box.title()}{suffix}", email_address=address,
            active=True, send_notification_on_new_messages=rng.random() < 0.5,
            notification_email_address=f"staff@{slug}.example" if rng.random() < 0.5 else None,
            incoming_server=f"imap.{slug}.example", incoming_server_type=1, incoming_server_port=993,
            incoming_server_ssl=True, incoming_server_username=address, delete_message_settings=rng.choice([0, 1, 2, 3]),
            outgoing_server=f"smtp.{slug}.example", outgoing_server_port=587, outgoing_server_ssl=True,
            outgoing_server_username=address, reply_to_email=address if rng.random() < 0.3 else None,
            last_check_time=now - timedelta(seconds=rng.randint(30, 600)), last_message_id=rng.randint(1000, 90000),
            error_count=0, google_access_token=None, office365_access_token=None,
            created_on=created, updated_on=now - timedelta(minutes=rng.randint(1, 600)),
            updated_by="admin@example.com", is_new=False, system_id=None, profile=profile,
        )
        apply_profile(account, profile, rng, now)
        if i == HOSTILE_ACCOUNT_INDEX:
            account.display_name = HOSTILE_ACCOUNT_NAME
        out.append(account)
    return out


def apply_profile(account: EmailAccount, profile: str, rng: random.Random, now: datetime) -> None:
    if profile == "failing":
        account.error_count = 12
    elif profile == "warning":
        account.error_count = rng.choice([1, 2])
    elif profile == "inactive":
        account.active = False
        account.last_check_time = now - timedelta(days=rng.randint(20, 90))
    elif profile == "stale":
        account.last_check_time = now - timedelta(days=3, hours=rng.randint(0, 20))
    elif profile == "never_checked":
        account.last_check_time = None
        account.last_message_id = 0
    elif profile == "ssl_off":
        account.incoming_server_ssl = False
        account.incoming_server_port = 143
        account.outgoing_server_ssl = False
        account.outgoing_server_port = 25
    elif profile == "ssl_off_outgoing":
        account.outgoing_server_ssl = False
        account.outgoing_server_port = 25
    elif profile == "no_incoming_server":
        account.incoming_server = None
        account.incoming_server_username = ""
        account.last_check_time = None
        account.error_count = 3
    elif profile == "port_zero":
        account.incoming_server_port = 0
        account.error_count = 7
    elif profile == "unknown_server_type":
        account.incoming_server_type = 7
    elif profile == "google":
        account.incoming_server, account.outgoing_server = "imap.gmail.com", "smtp.gmail.com"
        account.google_access_token = f"ya29.{SECRET_MARKER}-{rng.getrandbits(160):040x}"
    elif profile == "office365":
        account.incoming_server, account.outgoing_server = "outlook.office365.com", "smtp.office365.com"
        account.office365_access_token = f"EwBwA8l6BAAU.{SECRET_MARKER}-{rng.getrandbits(192):048x}"
