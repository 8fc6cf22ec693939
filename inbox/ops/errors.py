"""The server-error handler: an outage of the database is a calm 503 page, not "something went wrong";
and the answer to a form sent with an outdated security token (``csrf_failure``).

Django calls ``handler500`` while the exception is being handled
(https://docs.djangoproject.com/en/5.2/ref/views/#the-500-server-error-view), so the handler can
tell a database that does not answer (a temporary outage: 503, retry later) from a bug (500).
The 503 page is rendered without the request's context processors: they would ask the database.
"""

from __future__ import annotations

import sys

from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.csrf import csrf_failure as default_csrf_failure
from django.views.decorators.csrf import requires_csrf_token

from inbox.ops.middleware import sign_in_again

DATABASE_DOWN = "The database does not answer just now, so the help desk cannot show this page."
RETRY_AFTER_SECONDS = 30


def database_unreachable() -> bool:
    error = sys.exc_info()[1]
    while error is not None:
        if isinstance(error, DatabaseError):
            return True
        error = error.__cause__ or error.__context__
    return False


def unavailable(reason: str = DATABASE_DOWN) -> HttpResponse:
    page = loader.get_template("503.html").render({"reason": reason})
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if database_unreachable():
        return unavailable()
    return HttpResponseServerError(loader.get_template("500.html").render())


STALE_FORM = (
    "That was not done: the page was out of date (signed out or in again, perhaps in another "
    "tab). It is up to date now: please try again."
)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a security token (CSRF) that is no longer the session's: signing in again,
    in any tab, gives a new one, and every form of a page still open carries the old. Bulk marks
    and Sync now failed with a bare 403 that htmx does not draw: nothing happened, and nothing
    said so. Now the page reloads (htmx: ``HX-Refresh``; a plain form: back to the page it was
    sent from) with the current token, and says that the action was not done.
    https://docs.djangoproject.com/en/5.2/ref/csrf/#django.views.csrf.csrf_failure"""
    user, htmx = getattr(request, "user", None), getattr(request, "htmx", None)
    signed_in = user is not None and user.is_authenticated
    if htmx and not signed_in:  # signed out meanwhile: to the sign-in page, as any request then
        return sign_in_again(request)
    if htmx:
        messages.warning(request, STALE_FORM)
        response = HttpResponse(status=403)
        response["HX-Refresh"] = "true"
        return response
    # A plain form (the sign-in form left open too): back to its page, with a token that works.
    back = request.META.get("HTTP_REFERER", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        messages.warning(request, STALE_FORM)
        return redirect(back)
    return default_csrf_failure(request, reason)
