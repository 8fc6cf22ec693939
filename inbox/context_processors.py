"""Values every page's layout needs: who is an admin, when the mirror was last refreshed, and
(for admins) how many mail accounts need attention, for the badge in the navigation.

Most requests of the inbox are htmx fragments (every infinite-scroll page, the live poll, the
reader pane) that draw no layout. So the values are callables the template calls only where it
uses them (Django calls a callable context value when it resolves it), each computed at most once
a request; fragments that use none of them cost no query. The badge is offered only to pages that
draw the layout. "Last synced" (and whether the latest sync failed) is also kept a few seconds in
the cache: it is on every page, and a cache that fails is skipped (inbox.platform.cache).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.conf import settings

from inbox.fragments import is_fragment
from inbox.models import SyncRun
from inbox.auth.permissions import is_helpdesk_admin

LAST_SYNCED_CACHE_KEY = "inbox:last-synced:v2"


class SyncStatus(NamedTuple):
    """What the top bar and the empty inbox say of the mirror: when the messages were last synced
    (None: never), and, when the latest messages sync to finish failed, its ``error_kind``."""

    at: datetime | None
    failing: str = ""

    @property
    def failing_words(self) -> str:
        """What stopped the latest sync, for anyone (the sync page has the whole text, for admins)."""
        return FAILING_WORDS.get(self.failing, "it met an error")


# By ``SyncRun.error_kind`` (inbox/sync/runs/end.py).
FAILING_WORDS = {
    "credentials": "Nexudus refused the help desk’s sign-in",
    "unavailable": "Nexudus did not answer",
    "setup": "the server is not set up completely",
    "worker": "the worker stopped while it ran",
    "database": "the database did not answer",
}


def helpdesk(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    admin = cache(lambda: is_helpdesk_admin(user))
    context = {"is_helpdesk_admin": admin, "sync_status": cache(cached_sync_status)}
    if not is_fragment(request) and admin():
        # A callable too, and the count itself is cached for a minute (inbox.accounts.selectors).
        context["accounts_attention_count"] = cache(_attention_count)
    return context


def last_synced_at():
    """When the last successful message sync finished (None: never)."""
    return SyncRun.objects.successes(SyncRun.Resource.MESSAGES).values_list("finished_at", flat=True).first()


def sync_status() -> SyncStatus:
    """The last success and whether a failure came after it (two reads of the ``syncrun_last`` index)."""
    at = last_synced_at()
    failed = SyncRun.objects.filter(
        resource=SyncRun.Resource.MESSAGES, status=SyncRun.Status.FAILED, finished_at__isnull=False
    ).order_by("-finished_at", "-id")
    if at is not None:
        failed = failed.filter(finished_at__gt=at)
    kinds = failed.values_list("error_kind", flat=True)[:1]
    return SyncStatus(at, next((kind or "error" for kind in kinds), ""))


def cached_sync_status() -> SyncStatus:
    from inbox.platform.cache import cached

    return SyncStatus(*cached(LAST_SYNCED_CACHE_KEY, lambda: tuple(sync_status()), settings.LAST_SYNCED_CACHE_SECONDS))


def cached_last_synced_at():
    return cached_sync_status().at


def forget_last_synced() -> None:
    """A messages sync ended: the next "Synced N ago" (or "Sync failing") reads it, not a value
    cached before it."""
    from inbox.platform.cache import delete

    delete(LAST_SYNCED_CACHE_KEY)


def _attention_count() -> int:
    from inbox.accounts.selectors import cached_attention_count

    return cached_attention_count()
