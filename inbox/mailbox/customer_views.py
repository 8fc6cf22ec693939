"""``/customers/lookup/?q=<text>``: the customer field's suggestions (htmx active search).

Answers the listbox's options, best first, and how many customers match
(``templates/jinja2/inbox/customer_options.html``: Jinja2, as the inbox's other fragments, since
it is asked at each pause in typing); the field's script (``static/js/customer-lookup.js``) shows
them and puts the chosen customer's number in the filter form (``customer=<CoworkerId>``).
Without htmx it is a small page of links to the inbox filtered by each customer.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from inbox.fragments import is_fragment
from inbox.mailbox.customers import LOOKUP_LIMIT, PAGE_LIMIT, lookup_customers

@require_GET
def customer_lookup(request: HttpRequest) -> HttpResponse:
    fragment = is_fragment(request)
    lookup = lookup_customers(query=request.GET.get("q", ""), limit=LOOKUP_LIMIT if fragment else PAGE_LIMIT)
    template = "inbox/customer_options.html" if fragment else "inbox/customer_lookup.html"
    response = render(request, template, {"lookup": lookup})
    patch_cache_control(response, private=True, no_store=True)
    return response


urlpatterns = [
    path("customers/lookup/", customer_lookup, name="customer-lookup"),
]
