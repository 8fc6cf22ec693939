"""``inbox.ops.middleware``: pages are gzipped when asked (with Django's BREACH padding), downloads stream;
every answer varies on htmx's headers."""

from __future__ import annotations

import gzip
import re

import pytest
from django.conf import settings
from django.test import Client

from tests.exports.fixtures import read_csv, response_bytes
from tests.factories import make_mixed_messages

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
# The CSRF token is masked afresh for every response (a BREACH defence): compare pages without it.
CSRF_TOKEN = re.compile(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{64}')


def same_page(html: bytes) -> str:
    return CSRF_TOKEN.sub(r"\1<token>", html.decode())


def test_a_page_asked_for_gzip_comes_back_gzipped_and_decodes_to_the_same_page(staff_client):
    make_mixed_messages(60)
    plain = staff_client.get("/")
    zipped = staff_client.get("/", **GZIP)
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert int(zipped["Content-Length"]) == len(zipped.content) < len(plain.content) / 3
    assert same_page(gzip.decompress(zipped.content)) == same_page(plain.content)


def test_htmx_fragments_and_the_login_page_are_gzipped_too(staff_client):
    make_mixed_messages(60)
    fragment = staff_client.get("/?direction=incoming", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results", **GZIP)
    assert fragment["Content-Encoding"] == "gzip" and b"<li id=\"msg-" in gzip.decompress(fragment.content)
    assert Client().get("/login/", **GZIP)["Content-Encoding"] == "gzip"  # signed out


def test_each_gzipped_page_carries_random_padding(staff_client):
    """Django's BREACH mitigation (4.2+): random bytes in the gzip header's file-name field, so
    the same page compresses to different lengths."""
    make_mixed_messages(20)
    bodies = [staff_client.get("/", **GZIP).content for _ in range(6)]
    assert all(body[:3] == b"\x1f\x8b\x08" and body[3] & 0x08 for body in bodies)  # FNAME flag set
    assert len({len(body) for body in bodies}) > 1


def test_the_csv_export_still_streams_uncompressed(staff_client):
    make_mixed_messages(50)
    response = staff_client.get("/export.csv", **GZIP)
    assert response.status_code == 200 and response.streaming
    assert "Content-Encoding" not in response
    rows = read_csv(response_bytes(response))
    assert rows[0][0] == "Id" and len(rows) > 40


def test_other_types_are_left_alone(client):
    response = client.get("/healthz", **GZIP)
    assert response["Content-Type"].startswith("application/json")
    assert "Content-Encoding" not in response


def test_it_sits_inside_whitenoise_and_outside_everything_that_writes_the_body():
    order = settings.MIDDLEWARE
    gzip_at = order.index("inbox.ops.middleware.HtmlGZipMiddleware")
    assert order.index("whitenoise.middleware.WhiteNoiseMiddleware") == gzip_at - 1
    assert set(order[:gzip_at]) == {
        "django.middleware.security.SecurityMiddleware",
        "inbox.ops.middleware.SecurityHeadersMiddleware",  # headers only
        "inbox.ops.middleware.HealthzFirstMiddleware",  # answers /healthz (JSON) itself, passes the rest on
        "whitenoise.middleware.WhiteNoiseMiddleware",
    }


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}])
def test_pages_and_fragments_vary_on_htmxs_headers(staff_client, headers):
    """One address answers the page or its fragment: caches must keep them apart (a Back to the
    page showed the fragment the browser had kept: tests/browser/test_history.py)."""
    response = staff_client.get("/?unread=1", **headers)
    assert response.status_code == 200
    varies = {name.strip().lower() for name in response["Vary"].split(",")}
    assert {"hx-request", "hx-target", "hx-history-restore-request", "cookie"} <= varies


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.parametrize(
    "address, headers",
    [
        ("/", {}),
        ("/?unread=1", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}),
        ("/inbox/counts/", {"HTTP_HX_REQUEST": "true"}),
        ("/inbox/live/", {"HTTP_HX_REQUEST": "true"}),
        ("/accounts/", {}),
        ("/sync/", {}),
        ("/lockouts/", {}),
        ("/no-such-page/", {}),
    ],
)
def test_no_page_for_the_signed_in_is_kept_by_the_browser(admin_client_, address, headers):
    """Back shows a kept page however old it is: a list with messages read since still unread,
    or, after signing out, the inbox to the next person at the desk (RFC 9111, section 6)."""
    make_mixed_messages(5)
    response = admin_client_.get(address, **headers)
    assert response.status_code in (200, 404)
    assert {"private", "no-store"} <= cache_control(response), address


def test_the_sign_in_page_and_the_health_check_are_never_kept_either(client):
    assert "no-store" in cache_control(client.get("/login/"))
    assert "no-store" in cache_control(client.get("/healthz"))
