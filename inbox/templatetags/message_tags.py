"""Template filters of the message and conversation pages."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from inbox.mailbox import labels
from inbox.mailbox.sanitize import plain_to_html

register = template.Library()


@register.filter
def plain_links(text: str | None, limit: int | None = None) -> SafeString:
    """Plain text, escaped, with web and e-mail addresses as links that open in a new tab; cut to
    ``limit`` characters with an ellipsis (a plain slice: cheap enough for a page of them)."""
    text = text or ""
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + "…"
    return mark_safe(plain_to_html(text))  # plain_to_html escapes, then nh3 cleans


@register.filter
def template_label(message_id: int | None) -> str | None:
    return labels.template_label(message_id)
