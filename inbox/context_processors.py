"""Values every page's layout needs: who is an admin, when the mirror was last refreshed, and
(for admins) how many mail accounts need attention, for the badge in the navigation.

Most requests of the inbox are htmx fragments (every infinite-scroll page, the live poll, the
reader pane) that draw no layout. So the values are callables the template calls only where it
uses them (Django calls a callable context value when it resolves it), each computed at most once
a request; fragments that use none of them cost no query. The badge is offered only to pages that
draw the layout. "Last synced" is also kept a few seconds in the cache: it is on every page, and a
cache that fails is skipped (inbox.platform.cache).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from inbox.fragments import is_fragment
from inbox.models import SyncRun
from inbox.auth.permissions import is_helpdesk_admin

LAST_SYNCED_CACHE_KEY = "inbox:last-synced:v1"


def helpdesk(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    admin = cache(lambda: is_helpdesk_admin(user))
    context = {"is_helpdesk_admin": admin, "last_synced_at": cache(cached_last_synced_at)}
    if not is_fragment(request) and admin():
        # A callable too, and the count itself is cached for a minute (inbox.accounts.selectors).
        context["accounts_attention_count"] = cache(_attention_count)
    return context


def last_synced_at():
    """When the last successful message sync finished (None: never)."""
    return SyncRun.objects.successes(SyncRun.Resource.MESSAGES).values_list("finished_at", flat=True).first()


def cached_last_synced_at():
    from inbox.platform.cache import cached

    return cached(LAST_SYNCED_CACHE_KEY, last_synced_at, settings.LAST_SYNCED_CACHE_SECONDS)


def forget_last_synced() -> None:
    """A messages sync succeeded: the next "Synced N ago" reads it (not a value cached before it)."""
    from inbox.platform.cache import delete

    delete(LAST_SYNCED_CACHE_KEY)


def _attention_count() -> int:
    from inbox.accounts.selectors import cached_attention_count

    return cached_attention_count()
