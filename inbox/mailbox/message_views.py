"""One message, its body, read / unread marks, and one customer's conversation.

Each URL serves both a full page and, for htmx, the fragment the inbox puts in its reader pane
(a named partial of the page's template: ``inbox/message.html#detail``). Opening a message marks it read for the person; both that and the mark buttons
tell the page with the ``messageMarked`` event (detail ``{"id": <Id>, "unread": <bool>}``), so the
list row can follow. The body never renders in the page: it is its own document in a sandboxed
iframe, served by :func:`message_body` under a policy that allows no script at all.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import path, register_converter, reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from inbox.fragments import is_fragment
from inbox.mailbox import marks, reader
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.customers import typed_id
from inbox.mailbox.filters import InboxFilterForm
from inbox.mailbox.sanitize import clean_body

MARKED_EVENT = "messageMarked"
BODY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src {images}; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)


class NexudusIdConverter:
    """A positive 64-bit id: longer numbers match no route (a 404, not a database overflow)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        if not 0 < int(value) < 2**63:
            raise ValueError(value)
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(NexudusIdConverter, "nid")


def _page(request: HttpRequest, page: str, context: dict, *, fragment: str = "", status: int = 200) -> HttpResponse:
    """``page``, or its partial ``fragment`` (if it has one) for an htmx swap."""
    template = f"{page}#{fragment}" if fragment and is_fragment(request) else page
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _missing(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, "inbox/message_missing.html", {"pk": pk, "in_pane": is_fragment(request)}, fragment="missing",
                 status=404)


def _own_host(request: HttpRequest) -> str | None:
    return urlsplit("//" + request.get_host()).hostname


def _show_images(request: HttpRequest) -> bool:
    return request.GET.get("images") == "1"


def _marked(response: HttpResponse, pk: int, *, unread: bool) -> HttpResponse:
    return trigger_client_event(response, MARKED_EVENT, {"id": pk, "unread": unread})


@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = reader.message_for_reader(pk)
    if message is None:
        return _missing(request, pk)
    marks.mark_read(user=request.user, message_ids=[pk])
    filters = InboxFilterForm(request.GET).filters
    body = clean_body(message.body, remote_images=_show_images(request), own_host=_own_host(request))
    context = {
        "message": message,
        "is_unread": False,
        "body": body,
        "show_images": _show_images(request),
        "neighbours": reader.neighbours(user=request.user, message=message, filters=filters),
        "view_query": filters.querystring(),
        "in_pane": is_fragment(request),
    }
    response = _page(request, "inbox/message.html", context, fragment="detail")
    return _marked(response, pk, unread=False)


@require_GET
@xframe_options_sameorigin  # the reader frames it (every other page is DENY, settings.X_FRAME_OPTIONS)
def message_body(request: HttpRequest, pk: int) -> HttpResponse:
    message = reader.message_for_reader(pk)
    if message is None:
        return HttpResponseNotFound("No such message.", content_type="text/plain")
    images = _show_images(request)
    body = clean_body(message.body, remote_images=images, own_host=_own_host(request))
    response = render(request, "inbox/message_body.html", {"body": body})
    response["Content-Security-Policy"] = BODY_POLICY.format(images="http: https:" if images else "'none'")
    response["Referrer-Policy"] = "no-referrer"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    patch_cache_control(response, private=True, no_store=True)
    return response


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return redirect(target if safe else default)


def _mark(request: HttpRequest, pk: int, *, unread: bool) -> HttpResponse:
    message = reader.message_for_reader(pk)
    if message is None:
        return _missing(request, pk)
    (marks.mark_unread if unread else marks.mark_read)(user=request.user, message_ids=[pk])
    if not request.htmx:
        # Back to the inbox after "unread": reopening the message would read it again.
        return _back(request, reverse("inbox-index") if unread else reverse("message-detail", args=[pk]))
    response = render(request, "inbox/message.html#actions", {"message": message, "is_unread": unread})
    return _marked(response, pk, unread=unread)


@require_POST
def message_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    return _mark(request, pk, unread=False)


@require_POST
def message_mark_unread(request: HttpRequest, pk: int) -> HttpResponse:
    return _mark(request, pk, unread=True)


@require_GET
def customer_detail(request: HttpRequest, coworker_id: int) -> HttpResponse:
    before, bad_cursor = _cursor(request.GET.get("before", ""))
    size = settings.CONVERSATION_PAGE_SIZE
    context = {"coworker_id": coworker_id, "before": before, "bad_cursor": bad_cursor}
    if is_fragment(request) and before is not None:  # "Earlier messages": just the older page
        context["thread"] = reader.conversation_page(user=request.user, coworker_id=coworker_id, before=before, size=size)
        return _page(request, "inbox/customer.html#thread", context)
    context["customer"] = reader.customer_summary(coworker_id)
    if context["customer"] is None:
        return _page(request, "inbox/customer_missing.html", context, status=404)
    if "at" in request.GET and before is None and not bad_cursor:  # opened at a message (the reader's links)
        at = typed_id(request.GET["at"])
        if at is None:
            context["bad_at"] = True
        else:
            found, before = reader.page_holding(user=request.user, coworker_id=coworker_id, message_id=at, size=size)
            context["before"], context["at_missing"] = before, None if found else at
    context["thread"] = reader.conversation_page(user=request.user, coworker_id=coworker_id, before=before, size=size)
    return _page(request, "inbox/customer.html", context)


def _cursor(value: str) -> tuple[Cursor | None, bool]:
    """The "earlier messages" cursor, and whether a given one was not valid."""
    if not value:
        return None, False
    try:
        return Cursor.decode(value), False
    except ValueError:
        return None, True


urlpatterns = [
    path("messages/<nid:pk>/", message_detail, name="message-detail"),
    path("messages/<nid:pk>/body/", message_body, name="message-body"),
    path("messages/<nid:pk>/read/", message_mark_read, name="message-mark-read"),
    path("messages/<nid:pk>/unread/", message_mark_unread, name="message-mark-unread"),
    path("customers/<nid:coworker_id>/", customer_detail, name="customer-detail"),
]
