"""Issue 11's items 6-8 on the inbox and the reader: times written the one way on the first page
and on pages loaded later, the per-person row density, bidi isolation, the live "Synced N ago",
typed dates kept beside their error, and a missing company."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.utils import timezone

from inbox import timefmt
from inbox.models import CoworkerMessage, Preference, SyncRun
from tests.factories import build_message

pytestmark = pytest.mark.django_db

TIME = re.compile(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>')
HTMX = {"HTTP_HX_REQUEST": "true"}


def row_times(html: str) -> list[tuple[str, str, str]]:
    return [TIME.search(row).groups() for row in re.findall(r'<li id="msg-\d+".*?</li>', html, re.S)]


@pytest.fixture
def recent(db):
    """Messages a minute, hours, days and a year old, newest first."""
    now = timezone.now()
    ages = [dt.timedelta(minutes=2), dt.timedelta(hours=3), dt.timedelta(days=3), dt.timedelta(days=40),
            dt.timedelta(days=400)] * 3
    return CoworkerMessage.objects.bulk_create(
        [build_message(created_on=now - age - dt.timedelta(seconds=i)) for i, age in enumerate(ages)]
    )


def expected(value_iso: str) -> tuple[str, str]:
    value = dt.datetime.fromisoformat(value_iso)
    return timefmt.exact(value), timefmt.relative(value, timezone.now())


def test_the_first_page_and_pages_loaded_later_write_times_alike(staff_client, recent, settings):
    settings.INBOX_PAGE_SIZE = 6
    html = staff_client.get("/").content.decode()
    first = row_times(html)
    more = unescape(re.search(r'<li id="more"[^>]*hx-get="([^"]+)"', html).group(1))
    later = row_times(staff_client.get(more, HTTP_HX_TARGET="more", **HTMX).content.decode())
    assert len(first) == 6 and len(later) == 6
    for value, title, text in first + later:
        assert (title, text) == expected(value)
        assert not re.search(r"\d{4}, \d\d:\d\d", text)  # never the old "26 Nov 2026, 19:35"
    texts = [text for _, _, text in first + later]
    assert {"2 min ago", "3 h ago"} <= set(texts)
    assert any(re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2}:\d\d", t) for t in texts)
    assert any(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}( \d{4})?", t) for t in texts)  # 40 days ago


def test_times_follow_the_help_desks_zone(staff_client, settings):
    settings.HELPDESK_TIME_ZONE = "Asia/Kolkata"
    value = timezone.now() - dt.timedelta(days=3)
    build_message(created_on=value).save()
    html = staff_client.get("/").content.decode()
    assert 'data-time-zone="Asia/Kolkata"' in html
    _, title, text = row_times(html)[0]
    assert title.endswith(" Asia/Kolkata") and title == timefmt.exact(value)
    local = value.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert text.endswith(f" {local.hour}:{local.minute:02d}")


def test_rows_isolate_right_to_left_text_and_name_direction_without_a_word(staff_client):
    message = build_message(subject="Re: مرحبا بكم في المكتب", coworker_full_name="أحمد الفارسي", body_text="شكرا")
    message.save()
    html = staff_client.get("/").content.decode()
    assert f'<bdi class="name" dir="auto" id="name-{message.pk}">أحمد الفارسي</bdi>' in html
    assert f'<bdi class="subject" dir="auto" id="subj-{message.pk}">Re: مرحبا بكم في المكتب</bdi>' in html
    assert re.search(r'<span class="rest"><span class="sep">—</span> <bdi class="preview" dir="auto">', html)
    assert "dir-word" not in html  # no visible "received" taking the name's room
    assert '<span class="visually-hidden">Message received,</span>' in html


class TestDensity:
    def test_comfortable_by_default_and_the_control_says_which(self, staff_client):
        html = staff_client.get("/").content.decode()
        assert 'data-density="comfortable"' in html
        assert re.search(r'id="density-comfortable"[^>]*aria-pressed="true"', html)
        assert re.search(r'id="density-compact"[^>]*aria-pressed="false"', html)

    def test_a_plain_form_post_remembers_it_and_goes_back(self, staff_client, staff_user):
        response = staff_client.post("/inbox/density/", {"density": "compact", "next": "/?unread=1"})
        assert response.status_code == 302 and response["Location"] == "/?unread=1"
        assert Preference.objects.get(user=staff_user).density == "compact"
        html = staff_client.get("/?unread=1").content.decode()
        assert 'data-density="compact"' in html
        assert re.search(r'id="density-compact"[^>]*aria-pressed="true"', html)

    def test_htmx_gets_the_control_back_and_an_event(self, staff_client, staff_user):
        response = staff_client.post("/inbox/density/", {"density": "compact"}, **HTMX)
        html = response.content.decode()
        assert html.lstrip().startswith('<form id="density"')
        assert re.search(r'id="density-compact"[^>]*aria-pressed="true"', html)
        assert '"densityChanged": {"density": "compact"}' in response["HX-Trigger"]
        staff_client.post("/inbox/density/", {"density": "comfortable"}, **HTMX)
        assert Preference.objects.get(user=staff_user).density == "comfortable"

    def test_per_person(self, client, staff_user, django_user_model):
        other = django_user_model.objects.create_user(username="other", password="x-pass-123")
        Preference.objects.create(user=other, density="compact")
        client.force_login(staff_user)
        assert 'data-density="comfortable"' in client.get("/").content.decode()

    def test_refuses_other_values_and_other_sites(self, staff_client, staff_user):
        assert staff_client.post("/inbox/density/", {"density": "tiny"}).status_code == 400
        assert not Preference.objects.filter(user=staff_user).exists()
        response = staff_client.post("/inbox/density/", {"density": "compact", "next": "https://evil.example/"})
        assert response["Location"] == "/"
        assert staff_client.get("/inbox/density/").status_code == 405

    def test_needs_a_signed_in_person(self, client):
        response = client.post("/inbox/density/", {"density": "compact"})
        assert response.status_code == 302 and "/login/" in response["Location"]
        assert not Preference.objects.exists()


class TestLastSynced:
    def test_the_top_bar_asks_again_and_gets_the_newest(self, staff_client, settings):
        settings.LAST_SYNCED_CACHE_SECONDS = 0
        html = staff_client.get("/").content.decode()
        assert re.search(r'id="last-synced" hx-get="/inbox/last-synced/" hx-trigger="every 30s, messagesRunEnded from:body"', html)
        assert "Not synced yet" in html
        finished = timezone.now() - dt.timedelta(minutes=4, seconds=5)
        SyncRun.objects.create(resource="messages", mode="incremental", status="success",
                               started_at=finished, finished_at=finished)  # fmt: skip
        cache.clear()
        fragment = staff_client.get("/inbox/last-synced/", **HTMX).content.decode().strip()
        assert fragment.startswith('<span class="last-synced" id="last-synced"')
        assert "<html" not in fragment
        assert f'title="{timefmt.exact(finished)}">4 min ago</time>' in fragment
        assert "Synced <time" in fragment


class TestTypedDates:
    def test_to_before_from_keeps_both_typed_values_beside_the_error(self, staff_client):
        html = staff_client.get("/?since=2026-03-10&until=2026-03-01").content.decode()
        assert re.search(r'id="id_since" name="since" value="2026-03-10"[^>]*aria-invalid="true"', html)
        assert re.search(r'id="id_until" name="until" value="2026-03-01"[^>]*aria-invalid="true"', html)
        assert re.search(r'<p id="err-until" class="field-error"\s+role="alert">“To” is before “from”', html)
        # The notice above the list speaks of the dates the person typed, not of "the address".
        assert "<strong>The dates were not used:</strong>" in html and "address" not in html.split("<h1")[1]
        other = staff_client.get("/?since=2026-03-10&until=2026-03-01&direction=sideways").content.decode()
        assert "<strong>Some of the filters were not understood, so they were ignored:</strong>" in other

    def test_a_valid_range_is_shown_as_applied(self, staff_client):
        html = staff_client.get("/?since=2026-03-01&until=2026-03-10").content.decode()
        assert 'name="since" value="2026-03-01"' in html and 'name="until" value="2026-03-10"' in html
        assert 'aria-invalid' not in html.split('id="id_since"')[1].split(">")[0]


class TestReader:
    def test_a_missing_company_is_not_a_dash_billed_as(self, staff_client):
        m = build_message(coworker_company_name=None, coworker_billing_name="Ada Holdings BV")
        m.save()
        html = staff_client.get(f"/messages/{m.pk}/").content.decode()
        assert "— · billed as" not in html and "<dt>Company</dt>" not in html
        assert "<dt>Billed as</dt>\n      <dd><bdi>Ada Holdings BV</bdi></dd>" in html
        # A person billed under their own name: nothing to add (it read "Company: Max Fischer").
        m = build_message(coworker_full_name="Max Fischer", coworker_company_name="", coworker_billing_name="Max Fischer")
        m.save()
        html = staff_client.get(f"/messages/{m.pk}/").content.decode()
        assert "<dt>Company</dt>" not in html and "<dt>Billed as</dt>" not in html

    def test_company_and_billing_name(self, staff_client):
        m = build_message(coworker_company_name="Ada Ltd", coworker_billing_name="Ada Holdings BV")
        m.save()
        html = staff_client.get(f"/messages/{m.pk}/").content.decode()
        assert "<bdi>Ada Ltd</bdi> <span class=\"muted\">· billed as <bdi>Ada Holdings BV</bdi></span>" in html

    def test_the_header_is_exact_with_its_age(self, staff_client):
        value = timezone.now() - dt.timedelta(hours=2, minutes=1)
        m = build_message(created_on=value, subject="ما هو موعد الاجتماع؟")
        m.save()
        html = staff_client.get(f"/messages/{m.pk}/").content.decode()
        assert f'data-time-format="exact">{timefmt.exact(value)}</time> <span class="muted">(2 h ago)</span>' in html
        assert 'id="message-subject" dir="auto">ما هو موعد الاجتماع؟' in html
