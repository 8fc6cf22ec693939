"""The server-error handler: an outage of the database is a calm 503 page, not "something went wrong".

Django calls ``handler500`` while the exception is being handled
(https://docs.djangoproject.com/en/5.2/ref/views/#the-500-server-error-view), so the handler can
tell a database that does not answer (a temporary outage: 503, retry later) from a bug (500).
The 503 page is rendered without the request's context processors: they would ask the database.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

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
