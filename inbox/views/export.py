"""CSV downloads: ``/export.csv`` (the inbox view, every page of it) and ``/accounts/export.csv``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from inbox import export
from inbox.permissions import admin_required


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """Every message of the inbox view these parameters describe; a bad filter is a 400."""
    form = export.filter_form(request.GET)
    if not form.is_valid():
        return HttpResponse(export.invalid_filters_text(form), status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters
    return _attachment(export.message_csv(user=request.user, filters=filters), export.message_filename(filters))


@require_GET
@admin_required
def accounts_export_csv(request: HttpRequest) -> HttpResponse:
    """Every live mail account with its health, as the accounts page shows it (never a token)."""
    return _attachment(export.account_csv(), export.account_filename())


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
