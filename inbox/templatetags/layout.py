"""The chrome of Django's ``base.html``, drawn by the Jinja2 macros the inbox's layout uses
(:mod:`inbox.templating`): ``{% layout_head %}``, ``{% topbar %}``, ``{% flash %}``."""

from __future__ import annotations

from django import template

from inbox.templating import flash_html, head_assets, topbar_html

register = template.Library()

register.simple_tag(head_assets, name="layout_head")


@register.simple_tag(takes_context=True)
def topbar(context):
    return topbar_html(context)


@register.simple_tag(takes_context=True)
def flash(context):
    return flash_html(context.get("messages"))
