"""The local mirror of Nexudus, and the marks staff make here.

Mirror rows are keyed by the Nexudus ``Id`` (the primary key *is* the Nexudus Id), so a page of
records applied twice changes nothing. Every documented field is kept, nullable as the API allows,
except the customers' OAuth access tokens, of which only "is one set" survives parsing.
Records that disappear from Nexudus are marked ``deleted_at`` by the full reconcile, never removed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class LiveQuerySet(models.QuerySet):
    """Records the mirror still holds (a full reconcile marks the ones Nexudus no longer has)."""

    def live(self):
        return self.filter(deleted_at__isnull=True)


class SyncRunQuerySet(models.QuerySet):
    def successes(self, resource: str):
        """The resource's finished successful runs, the latest first."""
        return self.filter(resource=resource, status=SyncRun.Status.SUCCESS, finished_at__isnull=False).order_by(
            "-finished_at", "-id"
        )

    def last_success(self, resource: str):
        """The resource's latest finished successful run (None: never)."""
        return self.successes(resource).first()


class Business(models.Model):
    """A Nexudus location (``/api/sys/businesses``): names the groups of the accounts page."""

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=255, blank=True, default="")
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or f"Location {self.id}"


class EmailAccount(models.Model):
    """An IMAP mail account (``/api/crm/emailaccounts``)."""

    id = models.BigIntegerField(primary_key=True)  # Nexudus Id
    unique_id = models.CharField(max_length=64, null=True, blank=True)
    business_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    display_name = models.CharField(max_length=255, null=True, blank=True)
    email_address = models.CharField(max_length=320, null=True, blank=True)
    active = models.BooleanField(null=True)
    send_notification_on_new_messages = models.BooleanField(null=True)
    notification_email_address = models.CharField(max_length=320, null=True, blank=True)
    incoming_server = models.CharField(max_length=255, null=True, blank=True)
    incoming_server_type = models.IntegerField(null=True, blank=True)  # 1 = IMAP
    incoming_server_port = models.IntegerField(null=True, blank=True)
    incoming_server_ssl = models.BooleanField(null=True)
    incoming_server_username = models.CharField(max_length=320, null=True, blank=True)
    delete_message_settings = models.IntegerField(null=True, blank=True)
    outgoing_server = models.CharField(max_length=255, null=True, blank=True)
    outgoing_server_port = models.IntegerField(null=True, blank=True)
    outgoing_server_ssl = models.BooleanField(null=True)
    outgoing_server_username = models.CharField(max_length=320, null=True, blank=True)
    reply_to_email = models.CharField(max_length=320, null=True, blank=True)
    last_check_time = models.DateTimeField(null=True, blank=True)
    last_message_id = models.BigIntegerField(null=True, blank=True)
    error_count = models.IntegerField(null=True, blank=True)
    # The tokens themselves are secrets of the customer's mail account: never stored.
    has_google_token = models.BooleanField(default=False)
    has_office365_token = models.BooleanField(default=False)
    created_on = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_by = models.CharField(max_length=320, null=True, blank=True)
    is_new = models.BooleanField(null=True)
    system_id = models.CharField(max_length=255, null=True, blank=True)
    to_string_text = models.CharField(max_length=500, null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "id"]

    def __str__(self) -> str:
        return self.display_name or self.email_address or f"Account {self.id}"


class CoworkerMessage(models.Model):
    """A message to or from a customer (``/api/spaces/coworkermessages``)."""

    id = models.BigIntegerField(primary_key=True)  # Nexudus Id
    unique_id = models.CharField(max_length=64, null=True, blank=True)
    coworker_id = models.BigIntegerField(null=True, blank=True)
    coworker_full_name = models.CharField(max_length=255, null=True, blank=True)
    coworker_email = models.CharField(max_length=320, null=True, blank=True)
    coworker_billing_name = models.CharField(max_length=255, null=True, blank=True)
    coworker_company_name = models.CharField(max_length=255, null=True, blank=True)
    # No database constraint: a message may name an account the mirror has not seen yet.
    email_account = models.ForeignKey(
        EmailAccount,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="messages",
    )
    email_account_display_name = models.CharField(max_length=255, null=True, blank=True)
    email_account_email_address = models.CharField(max_length=320, null=True, blank=True)
    subject = models.TextField(null=True, blank=True)
    body = models.TextField(null=True, blank=True)  # as Nexudus has it: often HTML, never trusted
    body_text = models.TextField(blank=True, default="")  # plain-text rendition (preview, search, CSV)
    # For the full-text index only: the words written with a hyphen or apostrophe inside, joined
    # ("Wi-Fi" -> wifi), so that typing them whole finds them (inbox/sync/text.py, joined_words).
    search_joined = models.TextField(blank=True, default="", editable=False)
    is_new_message = models.BooleanField(default=False)  # Nexudus's unread flag
    incoming = models.BooleanField(default=False)  # True: from the customer; False: to them
    # Received from a customer (CoworkerId set) with no sent message to that customer created
    # after it: the "awaiting reply" view. Kept by the sync (inbox/sync/awaiting.py), never by hand.
    awaiting_reply = models.BooleanField(default=False)
    message_id = models.IntegerField(null=True, blank=True)  # automated template, if any
    reminder_unique_id = models.CharField(max_length=64, null=True, blank=True)
    created_on = models.DateTimeField()
    updated_on = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=320, null=True, blank=True)
    is_new = models.BooleanField(null=True)
    system_id = models.CharField(max_length=255, null=True, blank=True)
    to_string_text = models.CharField(max_length=500, null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["-created_on", "-id"]
        indexes = [
            # Newest first, keyset paging on (created_on, id); live messages only.
            models.Index(
                fields=["-created_on", "-id"], name="msg_newest", condition=Q(deleted_at__isnull=True)
            ),
            models.Index(fields=["updated_on"], name="msg_updated"),
        ]

    def __str__(self) -> str:
        return self.subject or f"Message {self.id}"


class MessageMark(models.Model):
    """What one person did to one message here: read, or marked unread again.

    Local only: Nexudus is never written to, and no sync touches this table. A mark overrides
    Nexudus's ``IsNewMessage`` for that person.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(CoworkerMessage, on_delete=models.CASCADE, related_name="marks")
    is_read = models.BooleanField()
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="mark_one_per_user_message")
        ]


class Customer(models.Model):
    """A customer (Nexudus CoworkerId) as their live messages name them, for finding one by name.

    Derived from the mirror, never read from Nexudus: the messages sync keeps it up to date
    (``inbox/sync/customers.py``). Name, e-mail and company are those of the customer's newest
    message that has each; ``search_key`` is all three folded (``inbox/folding.py``).
    """

    id = models.BigIntegerField(primary_key=True)  # CoworkerId
    full_name = models.CharField(max_length=255, blank=True, default="")
    email = models.CharField(max_length=320, blank=True, default="")
    company = models.CharField(max_length=255, blank=True, default="")
    search_key = models.TextField(blank=True, default="")
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_at", "-id"]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Customer {self.id}"


class SyncRun(models.Model):
    """One run of a sync, for the sync page, ``/healthz`` and the incremental watermark."""

    class Resource(models.TextChoices):
        MESSAGES = "messages", "Messages"
        ACCOUNTS = "accounts", "Mail accounts"

    class Mode(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental"
        FULL = "full", "Full"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCESS = "success", "Succeeded"
        FAILED = "failed", "Failed"

    resource = models.CharField(max_length=16, choices=Resource.choices)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=32, blank=True, default="")  # beat, command, admin, ...
    task_id = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Asked from this UpdatedOn (incremental) and reached this one (the next run's watermark).
    since = models.DateTimeField(null=True, blank=True)
    watermark = models.DateTimeField(null=True, blank=True)
    records_seen = models.PositiveIntegerField(default=0)
    records_created = models.PositiveIntegerField(default=0)
    records_updated = models.PositiveIntegerField(default=0)
    records_deleted = models.PositiveIntegerField(default=0)
    requests_made = models.PositiveIntegerField(default=0)
    # Progress while running: pages done of pages known (TotalPages from the first page).
    pages_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    error_kind = models.CharField(max_length=32, blank=True, default="")  # e.g. "credentials"
    # Something an admin should know although the run succeeded (e.g. a role the API user lacks).
    warning = models.TextField(blank=True, default="")
    # When the worker running (or waiting to run) it last said it was alive; a run whose heartbeat
    # is older than SYNC_LOCK_LEASE, and that no longer holds its lock, died with its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # How many times it was started again after its worker died (at most once).
    restarts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["resource", "status", "-finished_at"], name="syncrun_last")]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.resource} sync #{self.pk} ({self.status})"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class AccountSnapshot(models.Model):
    """An account's health as one accounts sync saw it: the history behind "failing since"."""

    account = models.ForeignKey(EmailAccount, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(db_index=True)
    active = models.BooleanField(null=True)
    error_count = models.IntegerField(null=True, blank=True)
    last_check_time = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16)  # healthy / warning / failing / inactive

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["account", "-taken_at"], name="snapshot_account_time")]


class AccountIncident(models.Model):
    """A stretch of time an account spent failing: one alert when it opens, one when it closes."""

    account = models.ForeignKey(EmailAccount, on_delete=models.CASCADE, related_name="incidents")
    opened_at = models.DateTimeField()
    # Already failing the first time the help desk looked at the account: it has been failing
    # since opened_at at least, for how long before that nobody here can say.
    at_first_look = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    reasons = models.JSONField(default=list)
    opened_alert_sent_at = models.DateTimeField(null=True, blank=True)
    closed_alert_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(closed_at__isnull=True), name="one_open_incident"
            )
        ]


class AdminAction(models.Model):
    """Who did what, and when, on the admin pages: the audit trail shown on ``/sync/``.

    The username is copied, so the trail still says who after the user is deleted.
    """

    class Action(models.TextChoices):
        SYNC_NOW = "sync_now", "Sync now"
        FULL_RESYNC = "full_resync", "Full resync"
        UNLOCK = "unlock", "Unlock sign-in"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=Action.choices)
    detail = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.username} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class Preference(models.Model):
    """One person's choices about how the help desk looks to them (remembered across devices)."""

    class Density(models.TextChoices):
        COMFORTABLE = "comfortable", "Comfortable"
        COMPACT = "compact", "Compact"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", primary_key=True)
    density = models.CharField(max_length=16, choices=Density.choices, default=Density.COMFORTABLE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.density}"
