"""The inbox page's joins with the other areas: Export CSV button, row links that carry the view,
?open=<Id>, the marks' events, the layout's head (favicon, htmx config) and its context values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox import context_processors
from inbox.models import CoworkerMessage, SyncRun
from inbox.mailbox.filters import InboxFilters
from tests.factories import make_account
from tests.mailbox.inbox_fixtures import expected_ids

pytestmark = pytest.mark.django_db

# A row's link: its href is what the reader pane loads (static/js/app.js sends it through htmx, with
# the link's hx-target and hx-push-url), and what a plain click opens without JavaScript.
ROW_LINK = re.compile(r'<a class="msg-link" href="([^"]+)" hx-target="(#reader)" hx-swap="innerHTML"\s+hx-push-url="([^"]+)"')


def export_button(html: str) -> str:
    match = re.search(r'<a class="button small export-csv" href="([^"]+)" download hx-boost="false">Export CSV</a>', html)
    assert match, "no Export CSV button"
    return unescape(match.group(1))


def csv_ids(response) -> list[int]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return [int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]]


# --- Export CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize("query,applied", [
    ("", ""),
    ("unread=1&direction=incoming", "unread=1&direction=incoming"),
    ("q=invoice&account=none&since=2025-01-01", "account=none&q=invoice&since=2025-01-01"),
    # A bad value is ignored by the page (and said): the button leaves it out, and never the cursor.
    ("unread=1&direction=sideways&customer=abc", "unread=1"),
])
def test_the_export_button_carries_exactly_the_applied_filters(staff_client, staff_user, inbox_data, query, applied):
    html = staff_client.get("/?" + query).content.decode()
    url = export_button(html)
    assert url == reverse("export-csv") + (f"?{applied}" if applied else "")
    response = staff_client.get(url)
    assert response.status_code == 200
    from django.http import QueryDict

    from inbox.mailbox.filters import InboxFilterForm

    filters = InboxFilterForm(QueryDict(query)).filters
    assert csv_ids(response) == expected_ids(inbox_data, staff_user, filters)


def test_the_export_button_of_an_older_page_exports_the_whole_view(staff_client, inbox_data, settings):
    settings.INBOX_PAGE_SIZE = 5
    first = staff_client.get("/?direction=outgoing").content.decode()
    older = re.search(r'<a href="(/\?[^"]*after=[^"]+)">Older messages</a>', first).group(1)
    html = staff_client.get(unescape(older)).content.decode()
    assert export_button(html) == "/export.csv?direction=outgoing"


def test_the_paging_links_name_the_way_the_view_runs(staff_client, inbox_data, settings):
    settings.INBOX_PAGE_SIZE = 5
    first = staff_client.get("/").content.decode()
    page2 = staff_client.get(unescape(re.search(r'<a href="(/\?[^"]*after=[^"]+)">Older messages</a>', first).group(1)))
    assert "← Newest messages" in page2.content.decode()
    # Oldest first: the next page holds newer messages, and the way back is to the oldest.
    first = staff_client.get("/?order=oldest").content.decode()
    assert "Older messages" not in first
    newer = re.search(r'<a href="(/\?[^"]*after=[^"]+)">Newer messages</a>', first).group(1)
    html = staff_client.get(unescape(newer)).content.decode()
    assert "← Oldest messages" in html and "Newest messages" not in html


def test_htmx_results_carry_the_button_too(staff_client, inbox_data):
    html = staff_client.get("/?unread=1", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results").content.decode()
    assert export_button(html) == "/export.csv?unread=1"


# --- Row links carry the view; ?open=<Id> -----------------------------------------------------


def test_row_links_carry_the_view_and_push_an_open_address(staff_client, staff_user, inbox_data):
    html = staff_client.get("/?direction=incoming&q=invoice").content.decode()
    links = ROW_LINK.findall(html)
    ids = expected_ids(inbox_data, staff_user, InboxFilters(direction="incoming", q="invoice"))
    assert len(links) == len(ids) > 0
    for (href, _target, push), pk in zip(links, ids, strict=True):
        assert unescape(href) == f"/messages/{pk}/?direction=incoming&q=invoice"
        assert unescape(push) == f"/?direction=incoming&q=invoice&open={pk}"
    # The reader's newer / older then follow the same view (the message view reads these filters).
    pane = staff_client.get(unescape(links[0][0]), HTTP_HX_REQUEST="true").content.decode()
    older = re.search(r'<a href="([^"]+)"[^>]*rel="next"', pane)
    assert older and unescape(older.group(1)) == f"/messages/{ids[1]}/?direction=incoming&q=invoice"


def test_rows_marked_in_bulk_keep_their_links(staff_client, inbox_data):
    pk = inbox_data.messages[0].pk
    response = staff_client.post(reverse("inbox-mark-selected"), {"ids": [pk], "action": "unread", "unread": "1"},
                                 HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert f'href="/messages/{pk}/?unread=1"' in html
    assert json.loads(response["HX-Trigger"]) == {"messagesMarked": {"ids": [pk], "unread": True}}


def test_open_reopens_the_message_beside_the_list(staff_client, staff_user, inbox_data):
    ids = expected_ids(inbox_data, staff_user, InboxFilters(unread=True))
    pk = ids[1]
    html = staff_client.get(f"/?unread=1&open={pk}").content.decode()
    assert 'class="inbox reading"' in html
    assert f'data-open-url="/messages/{pk}/?unread=1"' in html
    assert re.search(rf'<li id="msg-{pk}" class="msg[^"]*\bopen\b', html)
    assert f'href="/messages/{pk}/?unread=1">Open message {pk}</a>' in html  # without JavaScript
    assert export_button(html) == "/export.csv?unread=1"  # not a filter
    assert "open=" not in re.search(r'<div id="live"[^>]*>', html).group(0)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "9" * 30])
def test_a_bad_open_is_said_and_ignored(staff_client, inbox_data, value):
    response = staff_client.get("/", {"open": value})
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-open-url" not in html and 'class="inbox"' in html
    assert "is not a message number" in html
    assert "<strong>Part of the address was not understood:</strong>" in html  # open= is no filter
    assert "Some of the filters" not in html
    both = staff_client.get("/", {"open": value, "unread": "2"}).content.decode()
    assert "<strong>Some of the filters were not understood, so they were ignored:</strong>" in both
    fragment = staff_client.get("/", {"open": value}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results").content.decode()
    assert 'id="err-open"' not in fragment  # no out-of-band swap without a target on the page


# --- Events that keep the list in step ----------------------------------------------------------


def test_the_counts_reload_after_marks(staff_client, inbox_data):
    html = staff_client.get("/").content.decode()
    section = re.search(r'<section id="counts"[^>]*>', html, re.S).group(0)
    trigger = re.search(r'hx-trigger="([^"]+)"', section).group(1)
    # First asked once the list is painted (static/js/app.js sends "painted" the frame after the
    # loader is in the page; the browser tests see the counts arrive), then again after each mark.
    assert trigger.split(",")[0].strip() == "painted"
    assert "messageMarked from:body" in trigger and "messagesMarked from:body" in trigger
    script = Path(finders.find("js/app.js")).read_text()
    assert 'htmx.trigger(counts, "painted")' in script


def test_row_carries_its_mark_endpoints(staff_client, inbox_data):
    pk = inbox_data.messages[0].pk
    html = staff_client.get("/").content.decode()
    row = re.search(rf'<li id="msg-{pk}"[^>]*>', html).group(0)
    assert f'data-read-url="{reverse("message-mark-read", args=[pk])}"' in row
    assert f'data-unread-url="{reverse("message-mark-unread", args=[pk])}"' in row


# --- The layout's head ------------------------------------------------------------------------


def test_no_template_comment_leaks_into_a_page(staff_client, inbox_data):
    for url, headers in [("/", {}), ("/?open=1", {}), ("/inbox/counts/", {"HTTP_HX_REQUEST": "true"}),
                         ("/?q=x", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"})]:
        html = staff_client.get(url, **headers).content.decode()
        assert "{#" not in html and "#}" not in html and "{%" not in html, url


def test_the_favicon_exists_and_is_linked(staff_client, inbox_data):
    html = staff_client.get("/").content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html).group(1)
    assert href.endswith("favicon.svg")
    path = finders.find("favicon.svg")
    assert path and open(path, encoding="utf-8").read().startswith("<svg")


def test_htmx_swaps_a_404_and_nothing_else_of_4xx(staff_client, inbox_data):
    html = staff_client.get("/").content.decode()
    metas = re.findall(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    config = json.loads(metas[0])  # htmx reads the first one
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert "style" not in config["attributesToSettle"]  # an inline style is what the CSP refuses

    def rule(status: int) -> dict:
        return next(r for r in config["responseHandling"] if re.match(r["code"], str(status)))

    assert rule(404) == {"code": "404", "swap": True, "error": False}
    assert rule(200)["swap"] and not rule(204)["swap"]
    assert not rule(400)["swap"] and rule(403)["error"] and not rule(500)["swap"]
    # The message view's friendly 404 is a fragment made for that swap.
    missing = staff_client.get("/messages/424242/", HTTP_HX_REQUEST="true")
    assert missing.status_code == 404 and "No message 424242" in missing.content.decode()
    assert "<html" not in missing.content.decode()


# --- The layout's values: none for fragments, "last synced" cached ------------------------------


def _sql(ctx) -> str:
    return " ".join(q["sql"] for q in ctx.captured_queries)


def test_fragments_run_no_layout_queries(staff_client, inbox_data, settings):
    settings.INBOX_PAGE_SIZE = 5
    html = staff_client.get("/").content.decode()
    more = unescape(re.search(r'<li id="more"[^>]*hx-get="([^"]+)"', html).group(1))
    for url, headers in [(more, {"HTTP_HX_TARGET": "more"}), ("/?unread=1", {"HTTP_HX_TARGET": "results"}),
                         ("/inbox/counts/", {})]:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url, HTTP_HX_REQUEST="true", **headers).status_code == 200
        # The admin flag rides in the signed-in user's own query (inbox/auth/backends.py); no
        # other query asks about groups or the last sync.
        others = [q["sql"] for q in ctx.captured_queries if 'FROM "auth_user" WHERE' not in q["sql"]]
        assert not [sql for sql in others if "inbox_syncrun" in sql or "auth_group" in sql], url
        assert len(ctx.captured_queries) - len(others) == 1, url
        if url != "/inbox/counts/":  # the list's fragments: no filter form, so no account choices
            assert not [sql for sql in others if "inbox_emailaccount" in sql], url


def test_pages_show_last_synced_from_a_short_cache(staff_client, db, settings):
    settings.LAST_SYNCED_CACHE_SECONDS = 60
    cache.clear()
    finished = timezone.now() - dt.timedelta(minutes=3)
    SyncRun.objects.create(resource=SyncRun.Resource.MESSAGES, status=SyncRun.Status.SUCCESS, finished_at=finished)
    html = staff_client.get("/").content.decode()
    assert "Synced <time" in html
    assert ">3 min ago</time>" in html  # written the one way (inbox/timefmt.py)
    with CaptureQueriesContext(connection) as ctx:
        staff_client.get("/")
    assert "inbox_syncrun" not in _sql(ctx)  # from the cache
    settings.LAST_SYNCED_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as ctx:
        staff_client.get("/")
    assert "inbox_syncrun" in _sql(ctx)


def test_pages_render_when_the_cache_fails(staff_client, db, settings, monkeypatch):
    from django.core.cache import cache

    from inbox.platform import cache as platform_cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    platform_cache.reset()
    settings.LAST_SYNCED_CACHE_SECONDS = 60
    SyncRun.objects.create(resource=SyncRun.Resource.MESSAGES, status=SyncRun.Status.SUCCESS,
                           finished_at=timezone.now() - dt.timedelta(hours=2))
    html = staff_client.get("/").content.decode()
    assert ">2 h ago</time>" in html


def test_admins_still_get_the_attention_badge(client, db, django_user_model, monkeypatch):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    make_account(id=77, display_name="Broken", active=False)
    cache.clear()
    counted = []
    real = context_processors._attention_count
    monkeypatch.setattr(context_processors, "_attention_count", lambda: counted.append(1) or real())
    html = client.get("/").content.decode()
    assert 'href="/accounts/"' in html and 'href="/sync/"' in html
    assert counted == [1]
    # A fragment draws no layout: the count is not even asked for.
    client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert counted == [1]


def test_every_page_has_one_htmx_config(admin_client_, inbox_data):
    """htmx reads only the first htmx-config meta: a second one on a page would be dead config."""
    message_id = CoworkerMessage.objects.values_list("id", flat=True).first()
    for url in ("/", "/accounts/", "/sync/", f"/messages/{message_id}/"):
        html = admin_client_.get(url).content.decode()
        assert html.count('name="htmx-config"') == 1, url
