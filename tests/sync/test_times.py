"""/sync/ writes its times the one way (inbox/timefmt.py), in the page and in the fragments its
polls swap in, so a refresh never changes how a time reads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import timefmt
from tests.factories import make_success

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def times(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<time datetime="[^"]+" title="([^"]+)">([^<]+)</time>', html)


def test_the_history_reads_the_same_in_the_page_and_after_a_refresh(admin_client_):
    run = make_success("messages", timezone.now() - timedelta(minutes=3))
    page = admin_client_.get("/sync/").content.decode().split('id="sync-state"')[1]
    fragment = admin_client_.get("/sync/", headers={**HX, "HX-Target": "sync-state"}).content.decode()
    expected = (timefmt.exact(run.started_at), "3 min ago")
    assert times(page)[0] == expected and times(fragment)[0] == expected


def test_a_card_reads_the_same_in_the_page_and_in_its_poll(admin_client_):
    run = make_success("accounts", timezone.now() - timedelta(hours=2))
    page = admin_client_.get("/sync/").content.decode().split('id="sync-card-accounts"')[1].split("</section>")[0]
    poll = admin_client_.get("/sync/", headers={**HX, "HX-Target": "sync-card-accounts"}).content.decode()
    finished = (timefmt.exact(run.finished_at), "2 h ago")
    assert finished in times(page) and finished in times(poll)
    assert "finished <time" in poll and "minutes ago" not in poll
