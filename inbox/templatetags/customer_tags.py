"""The inbox's words for a customer: ``{% customer_name filters.customer %}`` in the list's heading
and the customer field (``{% customer_name id as label %}``)."""

from __future__ import annotations

from django import template

from inbox.mailbox.customers import customer_name as _customer_name

register = template.Library()


@register.simple_tag
def customer_name(coworker_id) -> str:
    """The customer's name (else e-mail, else "Customer <number>"); "" for no customer."""
    return _customer_name(coworker_id)
