"""The stand-in Nexudus's own data (the ``sandbox`` database alias, see ``sandbox/routers.py``).

Columns are snake_case versions of the documented Nexudus field names; ``sandbox.api`` turns rows
back into the documented JSON. Primary keys are the Nexudus ``Id`` and are assigned by the
generator and ``sandbox.services`` (never by a database sequence), so ids stay deterministic and
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from django.db import models


class Business(models.Model):
    """A location (``/api/sys/businesses``)."""

    id = models.BigIntegerField(primary_key=True)
    unique_id = models.CharField(max_length=64, null=True)
    name = models.CharField(max_length=255, null=True)
    web_address = models.CharField(max_length=255, null=True)
    country_name = models.CharField(max_length=128, null=True)
    currency_code = models.CharField(max_length=8, null=True)
    simple_time_zone_id = models.IntegerField(null=True)
    created_on = models.DateTimeField()
    updated_on = models.DateTimeField(db_index=True)
    updated_by = models.CharField(max_length=320, null=True)
    is_new = models.BooleanField(default=False)
    system_id = models.CharField(max_length=255, null=True)


class Coworker(models.Model):
    """A customer. Not served as its own resource; messages carry its fields denormalised."""

    id = models.BigIntegerField(primary_key=True)
    full_name = models.CharField(max_length=255, null=True)
    email = models.CharField(max_length=320, null=True)
    billing_name = models.CharField(max_length=255, null=True)
    company_name = models.CharField(max_length=255, null=True)
    # The mail account this customer usually writes to (None: the location's default settings).
    home_account_id = models.BigIntegerField(null=True)


class EmailAccount(models.Model):
    """An IMAP mail account (``/api/crm/emailaccounts``), tokens included, as Nexudus serves them."""

    id = models.BigIntegerField(primary_key=True)
    unique_id = models.CharField(max_length=64, null=True)
    business_id = models.BigIntegerField(null=True, db_index=True)
    display_name = models.CharField(max_length=255, null=True)
    email_address = models.CharField(max_length=320, null=True)
    active = models.BooleanField(default=True)
    send_notification_on_new_messages = models.BooleanField(default=False)
    notification_email_address = models.CharField(max_length=320, null=True)
    incoming_server = models.CharField(max_length=255, null=True)
    incoming_server_type = models.IntegerField(null=True)
    incoming_server_port = models.IntegerField(null=True)
    incoming_server_ssl = models.BooleanField(default=True)
    incoming_server_username = models.CharField(max_length=320, null=True)
    delete_message_settings = models.IntegerField(null=True)
    outgoing_server = models.CharField(max_length=255, null=True)
    outgoing_server_port = models.IntegerField(null=True)
    outgoing_server_ssl = models.BooleanField(default=True)
    outgoing_server_username = models.CharField(max_length=320, null=True)
    reply_to_email = models.CharField(max_length=320, null=True)
    last_check_time = models.DateTimeField(null=True)
    last_message_id = models.BigIntegerField(null=True)
    error_count = models.IntegerField(null=True)
    google_access_token = models.TextField(null=True)
    office365_access_token = models.TextField(null=True)
    created_on = models.DateTimeField()
    updated_on = models.DateTimeField(db_index=True)
    updated_by = models.CharField(max_length=320, null=True)
    is_new = models.BooleanField(default=False)
    system_id = models.CharField(max_length=255, null=True)
    # Which health state the generator meant (healthy, failing, stale, ...). Never served: it lets
    # tests and the demo find an account of a given kind.
    profile = models.CharField(max_length=32, blank=True, default="")


class CoworkerMessage(models.Model):
    """A message to or from a customer (``/api/spaces/coworkermessages``)."""

    id = models.BigIntegerField(primary_key=True)
    unique_id = models.CharField(max_length=64, null=True)
    coworker_id = models.BigIntegerField(null=True)
    coworker_full_name = models.CharField(max_length=255, null=True)
    coworker_email = models.CharField(max_length=320, null=True)
    coworker_billing_name = models.CharField(max_length=255, null=True)
    coworker_company_name = models.CharField(max_length=255, null=True)
    email_account_id = models.BigIntegerField(null=True)
    email_account_display_name = models.CharField(max_length=255, null=True)
    email_account_email_address = models.CharField(max_length=320, null=True)
    subject = models.TextField(null=True)
    body = models.TextField(null=True)
    is_new_message = models.BooleanField(default=False)
    incoming = models.BooleanField(default=True)
    message_id = models.IntegerField(null=True)
    reminder_unique_id = models.CharField(max_length=64, null=True)
    created_on = models.DateTimeField()
    updated_on = models.DateTimeField()
    updated_by = models.CharField(max_length=320, null=True)
    is_new = models.BooleanField(default=False)
    system_id = models.CharField(max_length=255, null=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_on", "id"], name="sbx_msg_created"),
            models.Index(fields=["updated_on", "id"], name="sbx_msg_updated"),
            models.Index(fields=["coworker_id"], name="sbx_msg_coworker"),
            models.Index(fields=["email_account_id"], name="sbx_msg_account"),
        ]


class Deletion(models.Model):
    """What was deleted and when: deletions are invisible to the API, tests may want to check."""

    resource = models.CharField(max_length=32)  # "coworkermessages" / "emailaccounts"
    record_id = models.BigIntegerField()
    deleted_on = models.DateTimeField()


class Token(models.Model):
    """An issued access or refresh token (the ``/api/token`` endpoint)."""

    ACCESS = "access"
    REFRESH = "refresh"

    key = models.CharField(max_length=128, primary_key=True)
    kind = models.CharField(max_length=8)
    username = models.CharField(max_length=320)
    client_id = models.CharField(max_length=320)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "client_id"], name="sbx_token_client")]


class Config(models.Model):
    """The sandbox's knobs, one row (pk=1), in the database so every process sees the same.

    Set them with ``sandbox.services.configure(...)`` (tests) or ``manage.py sandbox_config``.
    """

    # What ``dir`` means. The Nexudus docs disagree: developers.nexudus.com says 1 = ascending and
    # -1 = descending (https://developers.nexudus.com/rest-api/spaces/get-coworkermessages);
    # learn.nexudus.com says 0 = ascending and 1 = descending
    # (https://learn.nexudus.com/rest-api/crm/get-emailaccounts). With no ``dir`` both sort ascending.
    DIR_DEVELOPERS = "developers"
    DIR_LEARN = "learn"
    DIR_CONVENTIONS = [
        (DIR_DEVELOPERS, "developers.nexudus.com: 1 (or 0) ascending, -1 descending"),
        (DIR_LEARN, "learn.nexudus.com: 0 ascending, 1 descending, -1 refused"),
    ]
    # How the list envelope echoes ``CurrentSortDirection``.
    ECHO_INTEGER = "integer"
    ECHO_WORD = "word"
    ECHO_OMIT = "omit"
    SORT_DIRECTION_ECHOES = [
        (ECHO_INTEGER, "the dir integer as received (the convention's ascending one when none was sent)"),
        (ECHO_WORD, '"Ascending" or "Descending"'),
        (ECHO_OMIT, "no CurrentSortDirection key at all"),
    ]
    # A Nexudus API user without the Business-List / Business-Read roles is refused the locations.
    DENIED_STATUSES = [(401, "401 Unauthorized"), (403, "403 Forbidden"), (404, "404 Not Found")]

    failure_rate = models.FloatField(default=0.0)  # share of API answers that are 500/502/503
    truncate_rate = models.FloatField(default=0.0)  # share of 200 answers cut mid-JSON
    latency_ms = models.PositiveIntegerField(default=0)  # added to every API answer
    throttle_rate = models.FloatField(default=0.0)  # share of requests answered 409 + Retry-After at random
    rate_per_second = models.PositiveIntegerField(null=True, blank=True)  # None: settings.SANDBOX_RATE_PER_SECOND
    token_expires_in = models.PositiveIntegerField(default=604799)  # seconds, as the REST docs show
    refresh_expires_in = models.PositiveIntegerField(default=15 * 24 * 3600)
    require_two_factor = models.BooleanField(default=False)  # also the main sandbox user needs a TOTP
    dir_convention = models.CharField(max_length=16, choices=DIR_CONVENTIONS, default=DIR_DEVELOPERS)
    sort_direction_echo = models.CharField(max_length=8, choices=SORT_DIRECTION_ECHOES, default=ECHO_INTEGER)
    # None: /api/sys/businesses is served; else the list and get-one answer this status.
    businesses_denied_status = models.PositiveSmallIntegerField(null=True, blank=True, choices=DENIED_STATUSES)

    @classmethod
    def current(cls) -> Config:
        config = cls.objects.filter(pk=1).first()
        return config if config is not None else cls(pk=1)
