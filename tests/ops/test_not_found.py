"""The 404 page of an address that holds nothing: a wrong or old link (a missing message or customer
has a page of its own, which says it may not have been synced yet)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    assert response.status_code == 404
    return " ".join(response.content.decode().split())


def test_a_missing_sync_run_or_page_is_a_wrong_or_old_link(admin_client_):
    for address in ("/sync/runs/999999/", "/no-such-page/"):
        text = page_text(admin_client_.get(address))
        assert "The link may be wrong or out of date." in text, address
        assert "message" not in text.split("<main", 1)[-1].lower(), address

