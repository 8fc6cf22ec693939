"""``/api/sys/businesses``: the locations."""

from __future__ import annotations

from sandbox.models import Business
from sandbox.resources.resource import BASE_FIELDS, ORDER_BASE, Resource, filters_for

BUSINESSES = Resource(
    model=Business,
    fields=(
        ("Name", "name"),
        ("WebAddress", "web_address"),
        ("CountryName", "country_name"),
        ("CurrencyCode", "currency_code"),
        ("SimpleTimeZoneId", "simple_time_zone_id"),
        *BASE_FIELDS,
    ),
    filters=filters_for(
        Business,
        "Business",
        equal={"Name": ("name", "str"), "WebAddress": ("web_address", "str")},
        ranges={"CreatedOn": ("created_on", "minute"), "UpdatedOn": ("updated_on", "minute")},
    ),
    order_fields={**ORDER_BASE, "Name": "name"},
    to_string=lambda record: record["Name"] or "",
)
