"""CSV downloads: ``/export.csv`` (the inbox view, every page of it) and ``/accounts/export.csv``."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from inbox.accounts.forms import AccountsFilterForm
from inbox.exports.accounts import account_csv, account_filename
from inbox.exports.messages import (
    filter_form, invalid_filters_text, message_csv, message_filename, refused_filters,
)
from inbox.exports.slots import ExportsBusy, export_slot_acquire
from inbox.auth.permissions import admin_required


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """Every message of the inbox view these parameters describe; a bad filter is a 400."""
    form = filter_form(request.GET)
    if not form.is_valid():
        return _refused(request, form, reverse("inbox-index"))
    filters = form.filters
    return _bounded(
        request, lambda: message_csv(user=request.user, filters=filters), message_filename(filters)
    )


@require_GET
@admin_required
def accounts_export_csv(request: HttpRequest) -> HttpResponse:
    """The mail accounts of the accounts page's view (``?attention=1``, ``removed=1``) with their
    health, as the page shows them (never a token)."""
    form = AccountsFilterForm(request.GET)
    if not form.is_valid():
        return _refused(request, form, reverse("accounts-index"))
    chunks = partial(account_csv, attention_only=form.attention_only, show_removed=form.show_removed)
    return _bounded(request, chunks, account_filename(attention_only=form.attention_only))


def _refused(request: HttpRequest, form, page: str) -> HttpResponse:
    """A 400 naming each bad parameter: plain text for a script (curl, a spreadsheet's import), a
    page for a browser (an address typed or edited by hand), with the way back to the same view on
    its page, which shows the same filters refused and the rest applied."""
    if "text/html" not in request.headers.get("Accept", ""):
        return HttpResponse(invalid_filters_text(form), status=400, content_type="text/plain; charset=utf-8")
    query = request.GET.urlencode()
    context = {"refused": refused_filters(form), "back": f"{page}?{query}" if query else page}
    return render(request, "export_refused.html", context, status=400)


def _bounded(request: HttpRequest, make_chunks, filename: str) -> HttpResponse:
    """The download, if a slot is free (a 429 page saying whose limit was reached if not); a reader
    that stops reading is dropped after EXPORT_SEND_TIMEOUT seconds, freeing its thread and slot."""
    try:
        slot = export_slot_acquire(user_id=request.user.pk)
    except ExportsBusy as busy:
        response = render(request, "429.html", {"reason": str(busy)}, status=429)
        response["Retry-After"] = "30"
        return response
    try:
        chunks = make_chunks()
    except BaseException:
        if slot is not None:
            slot.release()
        raise
    sock = request.META.get("gunicorn.socket")
    if sock is not None:
        sock.settimeout(settings.EXPORT_SEND_TIMEOUT)
    return _attachment(_Holding(chunks, slot) if slot is not None else chunks, filename)


class _Holding:
    """The chunks, keeping the slot's lease alive while they flow and freeing it at the end, or
    when the server closes the response early (the reader went away, or stalled too long), also
    before the first chunk."""

    def __init__(self, chunks, slot):
        self.chunks, self.slot = iter(chunks), slot

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        try:
            chunk = next(self.chunks)
        except BaseException:
            self.close()
            raise
        self.slot.keep_alive()
        return chunk

    def close(self) -> None:
        try:
            close = getattr(self.chunks, "close", None)
            if close is not None:
                close()
        finally:
            self.slot.release()


def _attachment(chunks, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Customer data: keep it out of shared caches and the browser's disk cache.
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("export.csv", export_csv, name="export-csv"),
    path("accounts/export.csv", accounts_export_csv, name="accounts-export-csv"),
]
