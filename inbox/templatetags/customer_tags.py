"""The inbox's words for a customer: ``{% customer_name filters.customer %}`` in the list's heading
and the customer field (``{% customer_name id as label %}``)."""

from __future__ import annotations

from django import template

from inbox.mailbox.customers import customer_name as _customer_name

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_name(context, coworker_id) -> str:
    """The customer's name (else e-mail, else "Customer <number>"); "" for no customer.

    A page names its customer up to three times (the title, the heading, the customer field):
    the name is read once a request."""
    request = context.get("request")
    if request is None:
        return _customer_name(coworker_id)
    known = request.__dict__.setdefault("_helpdesk_customer_names", {})
    if coworker_id not in known:
        known[coworker_id] = _customer_name(coworker_id)
    return known[coworker_id]
