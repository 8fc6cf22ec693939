"""Security headers for every page of the app (a strict Content-Security-Policy); compressed pages.

The app's own pages load only their own scripts, styles and images, so an injection that slipped
past escaping still could not run inline script, load a remote script or post a form elsewhere.
Message bodies never render in these pages: they are served as their own document with a
stricter policy (``inbox.mailbox.message_views.message_body``), which this middleware leaves as it is.

What the policy asks of templates and scripts:

- no inline ``<script>``, no ``on*=`` handlers, no ``hx-on``/``js:``/``hx-vars`` (they need eval);
- no ``<style>`` elements and no ``style=""`` attributes: use classes (or ``<progress>``/``<meter>``,
  or set ``element.style`` from a static script — the CSSOM is not restricted);
- htmx's own indicator ``<style>`` is turned off with
  ``<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>`` in the page head
  (the indicator rules then live in the app's stylesheet).

https://developer.mozilla.org/docs/Web/HTTP/Headers/Content-Security-Policy
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render, resolve_url
from django.utils.cache import patch_cache_control, patch_vary_headers

APP_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Adds the app's CSP (unless the view set its own) and a Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Django's debug error pages use inline script and style: leave them readable.
        if settings.DEBUG and response.status_code >= 500:
            return response
        response.headers.setdefault("Content-Security-Policy", APP_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class VaryOnHtmxMiddleware:
    """Says that every answer depends on htmx's request headers (``Vary``).

    One address answers both a whole page and, to htmx, a fragment of it (``/?unread=1`` is the
    inbox, or only its list: ``inbox.fragments``). The browser keeps one answer per address, and
    Back or Forward to a page left by an ordinary link shows what it kept without asking again: the
    fragment, raw and unstyled, when htmx fetched that address last. With ``Vary`` the browser
    keeps them apart and asks again instead.
    https://htmx.org/docs/#caching
    """

    HEADERS = ("HX-Request", "HX-Target", "HX-History-Restore-Request", "HX-Boosted")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, self.HEADERS)
        return response


class PrivatePagesMiddleware:
    """Keeps what a signed-in person is shown out of every cache (``Cache-Control: private, no-store``).

    Back and Forward may show a kept page however old it is ("history mechanisms", RFC 9111
    section 6: https://www.rfc-editor.org/rfc/rfc9111#section-6): the list as it was, with
    messages read since still unread, or, after signing out on a shared computer, the inbox for the
    next person at the desk. A view that says how it may be kept (the CSV export, a message body)
    is left as it is.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if "Cache-Control" not in response and user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class HealthzFirstMiddleware:
    """Answers ``/healthz`` before the session and sign-in middleware run.

    Those read the session from the database when the caller holds a session cookie, so with the
    database down a monitor holding one got a 500 page instead of the health check's 503 JSON.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.path: str | None = None

    def __call__(self, request):
        if self.path is None:
            from django.urls import reverse

            self.path = reverse("healthz")
        if request.path_info == self.path:
            from inbox.ops.healthz import healthz

            return healthz(request)
        return self.get_response(request)


class HtmlGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware for the HTML pages and fragments only (the inbox page: 76 KB, 9 KB
    gzipped).

    BREACH (guessing a secret from the compressed size of a page that also reflects the attacker's
    input) is mitigated as Django documents: the CSRF token is masked afresh on every request,
    and since Django 4.2 the middleware pads each gzip header with up to ``max_random_bytes``
    (100) random bytes. https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.gzip

    Left as they are: static files (WhiteNoise serves them, already compressed, before this runs),
    streaming responses (the CSV exports: gzip alone compressed ~35,000 rows/s on the 2-core
    machine, below the export's goal of 50,000) and the other types (JSON of the sandbox API).
    """

    def process_response(self, request, response):
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)


class HtmxSignInMiddleware:
    """Sends the whole page to the sign-in form when a request htmx made finds the session over.

    ``LoginRequiredMiddleware`` answers a request without a signed-in person with a redirect to
    the sign-in page. The browser follows it inside htmx's request, and htmx drew the sign-in page
    into the inbox: a poll after signing out in another tab put whole sign-in forms into the top
    bar and the list. To htmx the answer is instead ``HX-Redirect`` (https://htmx.org/reference/#response_headers):
    the tab goes to the sign-in page, which brings the person back to the view they were on
    (``next``: the page's own address, ``HX-Current-URL``, when it is of this site).
    """

    REDIRECTS = (301, 302, 303, 307, 308)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if not htmx or response.status_code not in self.REDIRECTS:
            return response
        if urlsplit(response["Location"]).path != resolve_url(settings.LOGIN_URL):
            return response
        return sign_in_again(request)


def sign_in_again(request) -> HttpResponse:
    """To htmx: the whole tab to the sign-in page, and then back to the page it shows (not to the
    fragment htmx asked for; a page of another site: the sign-in page's own default)."""
    login, back = resolve_url(settings.LOGIN_URL), request.htmx.current_url_abs_path
    response = HttpResponse(status=204)
    response["HX-Redirect"] = f"{login}?{urlencode({'next': back})}" if back else login
    return response


class MethodNotAllowedPageMiddleware:
    """A page for a form's address opened as a page (``GET /inbox/mark/``): Django's
    ``require_POST`` answers 405 with an empty body, a blank page. The answer stays 405 (with its
    ``Allow``); a signed-in person's browser gets words and a way back instead of nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content or request.method not in ("GET", "HEAD"):
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(request, "htmx", None):
            return response
        page = render(request, "405.html", status=405)
        page["Allow"] = response.get("Allow", "")
        return page
