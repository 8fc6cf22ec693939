"""How the inbox names what a message carries as numbers: its mail account and its template.

One rule for each, used by the list rows, the reader, the counts and the CSV export, so a
message's account reads the same wherever it is shown.
"""

from __future__ import annotations

DEFAULT_ACCOUNT_LABEL = "Default location settings"  # a message sent through no account

# CoworkerMessage.MessageId: Nexudus's eBusinessMessageName enumeration, in its order. 0 is also
# what messages sent by hand may carry, so it is never read as "ResetPassword" without saying so.
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


def account_label(
    account_id: int | None, name: str | None, address: str | None, *, with_address: bool = False
) -> str:
    """The mail account a message went through, as the message names it: its name, else its
    address, else its Id. ``with_address`` (the reader, a conversation): the address too, when the
    name is not already it (``Front desk <desk@example.com>``); the list rows and the CSV keep
    the short form, so the customer's name keeps the room."""
    if account_id is None:
        return DEFAULT_ACCOUNT_LABEL
    label = name or address or f"Account {account_id}"
    return f"{label} <{address}>" if with_address and address and address != label else label


def message_account_label(message, *, with_address: bool = False) -> str:
    """:func:`account_label` of a CoworkerMessage."""
    return account_label(
        message.email_account_id,
        message.email_account_display_name,
        message.email_account_email_address,
        with_address=with_address,
    )


def template_label(message_id: int | None) -> str | None:
    """The Nexudus template a message came from, in words; None when it names none."""
    if message_id is None:
        return None
    if message_id == 0:
        return "ResetPassword (0) — or none: Nexudus also gives 0 to messages sent by hand"
    if 0 < message_id < len(MESSAGE_TEMPLATES):
        return f"{MESSAGE_TEMPLATES[message_id]} ({message_id})"
    return f"Unknown template ({message_id})"
