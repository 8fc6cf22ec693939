"""Whether a request wants a fragment of a page or the whole page (with its layout).

An htmx request swaps a fragment into the page it came from (the list's next page, the reader
pane, the counts); a boosted link or a history restore swaps in the whole body, so it gets the
page, as does every request made without htmx. https://htmx.org/docs/#requests
"""

from __future__ import annotations

from django.http import HttpRequest


def is_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
