"""``/api/spaces/coworkermessages``: the customers' messages."""

from __future__ import annotations

from sandbox.models import CoworkerMessage
from sandbox.resources.resource import BASE_FIELDS, ORDER_BASE, Resource, filters_for

MESSAGES = Resource(
    model=CoworkerMessage,
    fields=(
        ("CoworkerId", "coworker_id"),
        ("CoworkerFullName", "coworker_full_name"),
        ("CoworkerEmail", "coworker_email"),
        ("CoworkerBillingName", "coworker_billing_name"),
        ("CoworkerCompanyName", "coworker_company_name"),
        ("EmailAccountId", "email_account_id"),
        ("EmailAccountDisplayName", "email_account_display_name"),
        ("EmailAccountEmailAddress", "email_account_email_address"),
        ("Subject", "subject"),
        ("Body", "body"),
        ("IsNewMessage", "is_new_message"),
        ("Incoming", "incoming"),
        ("MessageId", "message_id"),
        ("ReminderUniqueId", "reminder_unique_id"),
        *BASE_FIELDS,
    ),
    filters=filters_for(
        CoworkerMessage,
        "CoworkerMessage",
        equal={
            "Coworker": ("coworker_id", "int"),
            "Coworker_FullName": ("coworker_full_name", "str"),
            "Coworker_Email": ("coworker_email", "str"),
            "Coworker_BillingName": ("coworker_billing_name", "str"),
            "Coworker_CompanyName": ("coworker_company_name", "str"),
            "EmailAccount": ("email_account_id", "int"),
            "EmailAccount_DisplayName": ("email_account_display_name", "str"),
            "EmailAccount_EmailAddress": ("email_account_email_address", "str"),
            "Subject": ("subject", "str"),
            "Body": ("body", "str"),
            "IsNewMessage": ("is_new_message", "bool"),
            "Incoming": ("incoming", "bool"),
            "MessageId": ("message_id", "int"),
            "ReminderUniqueId": ("reminder_unique_id", "str"),
        },
        ranges={
            "MessageId": ("message_id", "int"),
            "CreatedOn": ("created_on", "minute"),
            "UpdatedOn": ("updated_on", "minute"),
        },
    ),
    order_fields=ORDER_BASE,
    to_string=lambda record: record["Subject"] or "",
)
