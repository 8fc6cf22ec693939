"""Reading one message and one customer's conversation: the selectors behind ``message_views.py``.

Both start from the inbox's own selector (``inbox.mailbox.selectors.message_list``), so "unread",
"live" and the newest-first order mean here exactly what they mean in the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Substr

from inbox.mailbox.cursor import Cursor
from inbox.mailbox.filters import InboxFilters
from inbox.mailbox.selectors import Page, live_messages, message_list, newer_than, older_than, page_after
from inbox.models import CoworkerMessage

CONVERSATION_TEXT_CHARS = 1500  # of each message's plain text in the thread; "Open" shows it all


# --- One message ------------------------------------------------------------------------------


def message_for_reader(pk: int) -> CoworkerMessage | None:
    """The message with Nexudus Id ``pk``, deleted in Nexudus or not (the page says which)."""
    return CoworkerMessage.objects.filter(pk=pk).first()


@dataclass(frozen=True)
class Neighbours:
    """The messages next to one message in an inbox view: ``newer`` and ``older``, and as the
    list shows them, ``up`` (the row above) and ``down`` (the row below): newest first, the newer
    one is above; oldest first (``order=oldest``), the older one is."""

    newer: int | None
    older: int | None
    oldest_first: bool = False

    @property
    def up(self) -> int | None:
        return self.older if self.oldest_first else self.newer

    @property
    def down(self) -> int | None:
        return self.newer if self.oldest_first else self.older

    @property
    def up_word(self) -> str:
        return "Older" if self.oldest_first else "Newer"

    @property
    def down_word(self) -> str:
        return "Newer" if self.oldest_first else "Older"


def neighbours(*, user, message: CoworkerMessage, filters: InboxFilters) -> Neighbours:
    """Seek from the message's position, so it works even when the message itself no longer
    matches the view (opening it made it read, but the view is "unread"). Two indexed queries."""
    if message.deleted_at is not None:
        return Neighbours(newer=None, older=None, oldest_first=filters.oldest_first)
    view, here = message_list(user=user, filters=filters), Cursor.of(message)
    older = older_than(view, here).order_by("-created_on", "-id").values_list("pk", flat=True).first()
    newer = newer_than(view, here).order_by("created_on", "id").values_list("pk", flat=True).first()
    return Neighbours(newer=newer, older=older, oldest_first=filters.oldest_first)


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


AT_CONTEXT = 5  # newer messages shown below the one a conversation is opened at (its reply, usually)


def page_holding(*, user, coworker_id: int, message_id: int, size: int) -> tuple[bool, Cursor | None]:
    """(whether ``message_id`` is one of this customer's live messages, the ``before`` of the
    conversation page that holds it with up to AT_CONTEXT newer messages below it): the reader's
    "Conversation with …" opens there, at the message. None: the latest page holds it (or it is
    not in this conversation). Two indexed reads, of at most ``size`` rows."""
    thread = message_list(user=user, filters=InboxFilters(customer=coworker_id))
    target = thread.filter(pk=message_id).values_list("created_on", "id").first()
    if target is None:
        return False, None
    newer = list(
        newer_than(thread, Cursor(created_on=target[0], id=target[1]))
        .order_by("created_on", "id")
        .values_list("created_on", "id")[:size]
    )
    if len(newer) < size:
        return True, None
    created_on, pk = newer[min(AT_CONTEXT, size - 1)]
    return True, Cursor(created_on=created_on, id=pk)


def conversation_page(*, user, coworker_id: int, before: Cursor | None, size: int) -> Conversation:
    """The ``size`` messages just before ``before`` (None: the newest), as a chat reads them.

    One query: the inbox's newest-first keyset page, without the HTML bodies, each with the start
    of its plain text (``text``, one character more than is shown, so
    the template knows to add an ellipsis) and ``is_unread`` for ``user``."""
    thread = message_list(user=user, filters=InboxFilters(customer=coworker_id))
    thread = thread.defer("body", "body_text").annotate(text=Substr("body_text", 1, CONVERSATION_TEXT_CHARS + 1))
    page: Page = page_after(thread, before, size)
    return Conversation(messages=page.rows[::-1], earlier=page.next_cursor)
