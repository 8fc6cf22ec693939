"""The chrome of Django's ``base.html``, drawn by the Jinja2 macros the inbox's layout uses
(:mod:`inbox.templating`): ``{% layout_head %}``, ``{% topbar %}``, ``{% flash %}``; and
``|breakable`` for addresses in narrow columns."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from inbox.templating import flash_html, head_assets, topbar_html

register = template.Library()

register.simple_tag(head_assets, name="layout_head")


@register.simple_tag(takes_context=True)
def topbar(context):
    return topbar_html(context)


@register.simple_tag(takes_context=True)
def flash(context):
    return flash_html(context.get("messages"))


@register.filter
def breakable(text) -> str:
    """``text`` (escaped) with a line-break opportunity after each "@" and before each "." and
    ":" (``<wbr>``): an address or a server name in a narrow column wraps between its parts
    ("billing@" / "canalworks.example"), not in the middle of a word."""
    escaped = str(conditional_escape(text))
    return mark_safe(_BREAK_POINTS.sub(lambda m: "@<wbr>" if m.group() == "@" else f"<wbr>{m.group()}", escaped))


_BREAK_POINTS = re.compile(r"[@.:]")
