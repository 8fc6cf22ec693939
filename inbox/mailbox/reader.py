"""Reading one message and one customer's conversation: the selectors behind ``views/message.py``.

Both start from the inbox's own selector (``inbox.mailbox.selectors.message_list``), so "unread",
"live" and the newest-first order mean here exactly what they mean in the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Substr

from inbox.models import CoworkerMessage
from inbox.mailbox.selectors import (
    DEFAULT_ACCOUNT_LABEL,
    Cursor,
    InboxFilters,
    Page,
    live_messages,
    message_list,
    newer_than,
    older_than,
    page_after,
)

CONVERSATION_TEXT_CHARS = 1500  # of each message's plain text in the thread; "Open" shows it all

# CoworkerMessage.MessageId (eBusinessMessageName), nexudus-api.md §6. 0 is also what messages
# sent by hand may carry, so it is never read as "ResetPassword" without saying so.
MESSAGE_TEMPLATES = (
    "ResetPassword", "PaidInvoice", "UnPaidInvoice", "NewInvoice", "PreauthSignUp", "NewUser",
    "NewContact", "BookingConfirmation", "BookingReminder", "LowTimePasses", "AutoCheckout",
    "EventProduct", "TermsAndConditionsAgreed", "NewEventComment", "NewBlogComment",
    "NewCreditNote", "NewWallMessage", "NewDataFile", "NewEsignedFile", "VisitorCheckin",
    "VisitorRegistered", "ReferralInvite", "HelpDeskReply", "TourRegistered", "SignupRestore",
    "BookingTerminationConfirmation", "DeliveryReceived", "Proposal", "BookingDeletedConfirmation",
    "PasswordChanged", "EventAttendeeCancelledConfirmation", "VisitorBookingNotification",
    "EventUpdateNotification", "EventAttendeeReminder", "SurveyInvitation",
    "VisitorBookingCancelledNotification", "BrivoOnAirCode", "EventAttendeeEventFinished",
    "PinReminder", "FormPageInvitation",
)  # fmt: skip


def template_label(message_id: int | None) -> str | None:
    """The Nexudus template a message came from, in words; None when it names none."""
    if message_id is None:
        return None
    if message_id == 0:
        return "ResetPassword (0) — or none: Nexudus also gives 0 to messages sent by hand"
    if 0 < message_id < len(MESSAGE_TEMPLATES):
        return f"{MESSAGE_TEMPLATES[message_id]} ({message_id})"
    return f"Unknown template ({message_id})"


def account_label(message: CoworkerMessage) -> str:
    """The mail account a message went through, as the message names it."""
    if message.email_account_id is None:
        return DEFAULT_ACCOUNT_LABEL
    name = message.email_account_display_name or f"Account {message.email_account_id}"
    address = message.email_account_email_address
    return f"{name} <{address}>" if address and address != name else name


# --- One message ------------------------------------------------------------------------------


def message_for_reader(pk: int) -> CoworkerMessage | None:
    """The message with Nexudus Id ``pk``, deleted in Nexudus or not (the page says which)."""
    return CoworkerMessage.objects.filter(pk=pk).first()


@dataclass(frozen=True)
class Neighbours:
    """The messages above and below one message in an inbox view (newest first)."""

    newer: int | None
    older: int | None


def neighbours(*, user, message: CoworkerMessage, filters: InboxFilters) -> Neighbours:
    """Seek from the message's position, so it works even when the message itself no longer
    matches the view (opening it made it read, but the view is "unread"). Two indexed queries."""
    if message.deleted_at is not None:
        return Neighbours(newer=None, older=None)
    view, here = message_list(user=user, filters=filters), Cursor.of(message)
    older = older_than(view, here).values_list("pk", flat=True).first()
    newer = newer_than(view, here).order_by("created_on", "id").values_list("pk", flat=True).first()
    return Neighbours(newer=newer, older=older)


# --- One customer's conversation --------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """A customer as their messages describe them (the newest message's details win)."""

    id: int
    full_name: str | None
    email: str | None
    company_name: str | None
    billing_name: str | None
    incoming: int
    outgoing: int
    first_contact: datetime
    last_contact: datetime

    @property
    def total(self) -> int:
        return self.incoming + self.outgoing

    @property
    def name(self) -> str:
        return self.full_name or self.email or f"Customer {self.id}"


def customer_summary(coworker_id: int) -> Customer | None:
    """The customer's details and counts, or None if the mirror holds no live message of theirs."""
    theirs = live_messages().filter(coworker_id=coworker_id)
    stats = theirs.aggregate(
        received=Count("pk", filter=Q(incoming=True)),
        sent=Count("pk", filter=Q(incoming=False)),
        first=Min("created_on"),
        last=Max("created_on"),
    )
    if not stats["received"] and not stats["sent"]:
        return None
    details = (
        theirs.order_by("-created_on", "-id")
        .values("coworker_full_name", "coworker_email", "coworker_company_name", "coworker_billing_name")
        .first()
    ) or {}
    return Customer(
        id=coworker_id,
        full_name=details.get("coworker_full_name"),
        email=details.get("coworker_email"),
        company_name=details.get("coworker_company_name"),
        billing_name=details.get("coworker_billing_name"),
        incoming=stats["received"],
        outgoing=stats["sent"],
        first_contact=stats["first"],
        last_contact=stats["last"],
    )


@dataclass(frozen=True)
class Conversation:
    """One page of a thread, oldest to newest; ``earlier``: where the page before it starts."""

    messages: list[CoworkerMessage]
    earlier: Cursor | None
    text_chars: int = CONVERSATION_TEXT_CHARS  # each message's ``text`` is cut here, with "…"


def conversation_page(*, user, coworker_id: int, before: Cursor | None, size: int) -> Conversation:
    """The ``size`` messages just before ``before`` (None: the newest), as a chat reads them.

    One query: the inbox's newest-first keyset page, without the HTML bodies, each with the start
    of its plain text (``text``, one character more than is shown, so
    the template knows to add an ellipsis) and ``is_unread`` for ``user``."""
    thread = message_list(user=user, filters=InboxFilters(customer=coworker_id))
    thread = thread.defer("body", "body_text").annotate(text=Substr("body_text", 1, CONVERSATION_TEXT_CHARS + 1))
    page: Page = page_after(thread, before, size)
    return Conversation(messages=page.rows[::-1], earlier=page.next_cursor)
