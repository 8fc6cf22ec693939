"""The inbox page: one URL (``/``) serves the page and its fragments; counts, live and marks beside.

``is_fragment`` picks what to draw: the filter form swaps ``#results``, the infinite-scroll
sentinel (``#more``) swaps in the next keyset page, and a plain request (or htmx's history
restore) gets the whole page, so every view works without JavaScript. The page
(``templates/jinja2/inbox/index.html``) and each fragment (``inbox/part.html``, naming one of the
macros of ``inbox/parts.html``) are Jinja2 templates (``inbox/templating.py`` says why).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from inbox.auth.permissions import is_helpdesk_admin
from inbox.context_processors import cached_sync_status
from inbox.fragments import is_fragment
from inbox.mailbox import marks
from inbox.mailbox.counts import cached_message_counts
from inbox.mailbox.cursor import Cursor
from inbox.mailbox.filters import InboxFilterForm, InboxFilters
from inbox.mailbox.forms import MarkForm
from inbox.mailbox.preferences import DENSITIES, density_for, set_density
from inbox.mailbox.search import SearchTooBroad, search_budget
from inbox.mailbox.selectors import (
    LIVE_CAP,
    Page,
    account_choices,
    for_rows,
    inbox_is_empty,
    message_by_id,
    message_list,
    newer_count,
    page_after,
)
from inbox.templating import last_synced_html

PAGE = "inbox/index.html"
PART = "inbox/part.html"  # with "part": the macro of inbox/parts.html to draw
MARKED_MANY_EVENT = "messagesMarked"  # detail {"ids": [...], "unread": bool}; one message: "messageMarked"
DENSITY_EVENT = "densityChanged"  # detail {"density": "compact"}: app.js restyles the list in place


def _part(request: HttpRequest) -> str:
    """The part of the page a request wants: "" for the whole page."""
    if not is_fragment(request):
        return ""
    return "page_rows" if request.htmx.target == "more" else "results_changed"


@require_GET
def inbox_index(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    too_broad = ""
    try:
        with search_budget(active=bool(form.filters.q)):
            rows = for_rows(message_list(user=request.user, filters=form.filters))
            page = page_after(rows, form.cursor, settings.INBOX_PAGE_SIZE, oldest_first=form.filters.oldest_first)
    except SearchTooBroad as exc:
        page, too_broad = Page(rows=[], next_cursor=None), str(exc)
    part = _part(request)
    context = {"form": form, "filters": form.filters, "page": page, "open_id": form.open_id, "too_broad": too_broad}
    if part != "page_rows":
        context["mirror_empty"] = not page.rows and inbox_is_empty()
        context["by_id"] = message_by_id(form.filters.q) if form.filters.q and not form.cursor else None
    if not part:  # the filter form and the density control: a swap of #results keeps them
        context["accounts"] = account_choices()
        context["density"] = density_for(user=request.user)
        return render(request, PAGE, context)
    return render(request, PART, {**context, "part": part})


@require_GET
def inbox_counts(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    try:
        with search_budget(active=bool(form.filters.q)):
            counts = cached_message_counts(user=request.user, filters=form.filters)
    except SearchTooBroad as exc:
        return HttpResponse(render_to_string("inbox/counts.html#too-broad", {"reason": str(exc)}))
    fragment = is_fragment(request)
    template = "inbox/counts.html#counts" if fragment else "inbox/counts.html"
    # In the inbox's sidebar the fragment also names the page: "(12) Unread · Help desk".
    return render(request, template, {"counts": counts, "filters": form.filters, "in_inbox": fragment})


@require_GET
def inbox_live(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    token = request.GET.get("newest", "")
    try:
        newest = Cursor.decode(token) if token else None
    except ValueError:  # not one of ours: announce nothing rather than guess
        return _live_response(0, form, "")
    try:
        with search_budget(active=bool(form.filters.q)):
            count = newer_count(user=request.user, filters=form.filters, cursor=newest)
    except SearchTooBroad:  # say nothing new rather than keep a connection busy every few seconds
        count = 0
    if count == _shown(request):
        # What the page shows is still true: nothing to swap (htmx swaps nothing for a 204 and keeps
        # polling). Redrawing the same banner every few seconds replaced the element under a
        # keyboard user's focus and a press on it could land before htmx had taken it over.
        return HttpResponse(status=204)
    return _live_response(count, form, token)


def _shown(request: HttpRequest) -> int | None:
    """The number of new messages the polling page shows (``shown``, written by the live part
    itself), or None when it did not say (any other answer is drawn)."""
    shown = request.GET.get("shown", "")
    return int(shown) if shown.isascii() and shown.isdigit() and len(shown) < 10 else None


def _live_response(count: int, form: InboxFilterForm, token: str) -> HttpResponse:
    # Rendered without the request: polled every few seconds, it skips the layout's context processors.
    context = {"part": "live", "count": count, "filters": form.filters, "newest_token": token, "live_cap": LIVE_CAP}
    return HttpResponse(render_to_string(PART, context))


@require_GET
def inbox_last_synced(request: HttpRequest) -> HttpResponse:
    """The top bar's "Synced 3 min ago", asked again every 30 s so a sync that finished since the
    page loaded shows without a reload (the value is cached a few seconds: inbox.context_processors)."""
    return HttpResponse(last_synced_html(cached_sync_status(), admin=is_helpdesk_admin(request.user)))


@require_POST
def inbox_density(request: HttpRequest) -> HttpResponse:
    """Comfortable or compact rows, remembered for this person. Without JavaScript: back to the
    page it was chosen on; with htmx: the control again, and an event that restyles the list."""
    density = request.POST.get("density", "")
    if density not in DENSITIES:
        return HttpResponse("Choose comfortable or compact.", status=400, content_type="text/plain; charset=utf-8")
    set_density(user=request.user, density=density)
    if request.htmx:
        context = {"part": "density_form", "density": density, "next": request.POST.get("next", "")}
        response = render(request, PART, context)
        return trigger_client_event(response, DENSITY_EVENT, {"density": density})
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return redirect(target if safe and target.startswith("/") else reverse("inbox-index"))


@require_POST
def inbox_mark_selected(request: HttpRequest) -> HttpResponse:
    """Mark the checked rows (or the one ``u`` was pressed on); htmx gets the rows back in place."""
    form = MarkForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["ids"]:
        error = form.error_text or "Select messages to mark first."
        if request.htmx:  # said beside the buttons; the view, its scroll and the reader stay
            return render(request, PART, {"part": "marked", "rows": [], "done": error, "problem": True,
                                          "filters": form.view_filters})
        return _back_to_view(request, form, error=error)
    ids = form.cleaned_data["ids"]
    count = (marks.mark_read if form.is_read else marks.mark_unread)(user=request.user, message_ids=ids)
    if not request.htmx:
        return _back_to_view(request, form, done=form.done_text(count))
    rows = for_rows(message_list(user=request.user, filters=InboxFilters())).filter(pk__in=ids)
    context = {"part": "marked", "rows": rows, "done": form.done_text(count), "filters": form.view_filters}
    response = render(request, PART, context)
    # The counts reload, and a reader pane showing one of these messages updates (static/js/app.js).
    return trigger_client_event(response, MARKED_MANY_EVENT, {"ids": ids, "unread": not form.is_read})


@require_POST
def inbox_mark_matching(request: HttpRequest) -> HttpResponse:
    """Mark every message of the view (all pages), as the counts' "Mark all N" button says."""
    form = MarkForm(request.POST)
    if not form.is_valid() or form.view_form.errors:
        return _back_to_view(request, form, error=form.error_text or "Nothing was marked: the filters did not parse.")
    queryset = message_list(user=request.user, filters=form.view_filters)
    count = marks.mark_matching(user=request.user, queryset=queryset, is_read=form.is_read)
    return _back_to_view(request, form, done=form.done_text(count))


def _back_to_view(request: HttpRequest, form: MarkForm, *, error: str = "", done: str = "") -> HttpResponse:
    """Post/Redirect/Get back to the view the person marked from, saying what happened."""
    if error:
        messages.error(request, error)
    if done:
        messages.success(request, done)
    url = reverse("inbox-index") + (f"?{form.view_querystring}" if form.view_querystring else "")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


urlpatterns = [
    path("", inbox_index, name="inbox-index"),
    path("inbox/counts/", inbox_counts, name="inbox-counts"),
    path("inbox/live/", inbox_live, name="inbox-live"),
    path("inbox/last-synced/", inbox_last_synced, name="inbox-last-synced"),
    path("inbox/density/", inbox_density, name="inbox-density"),
    path("inbox/mark/", inbox_mark_selected, name="inbox-mark-selected"),
    path("inbox/mark-all/", inbox_mark_matching, name="inbox-mark-matching"),
]
