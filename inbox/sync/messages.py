"""Messages: an incremental walk from the last watermark, or a full walk that also soft-deletes.

Incremental: ``from_CoworkerMessage_UpdatedOn = watermark - NEXUDUS_SYNC_OVERLAP``, ordered by Id;
see ``_next_watermark`` for why a record changed while a sync runs is never lost.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from inbox.models import SyncRun

from .context import RunContext
from . import awaiting, customers
from .rows import MESSAGES

logger = logging.getLogger(__name__)

Resource = SyncRun.Resource
Mode = SyncRun.Mode


def _last_watermark() -> datetime | None:
    """The watermark of the last successful messages run that reached one."""
    return (
        SyncRun.objects.successes(Resource.MESSAGES).filter(watermark__isnull=False)
        .values_list("watermark", flat=True)
        .first()
    )


def _next_watermark(*, local_start: datetime, server_start: datetime | None,
                    max_seen: datetime | None, previous: datetime | None) -> datetime:
    """Where the next incremental run may start (before the overlap is taken off).

    The walk is ordered by Id, so a record updated after its page was read keeps its place and is
    not seen again in this run: the next run must ask from no later than the moment this one
    started. Hence ``start``: the earlier of the local clock and the server's ``Date`` at its first
    answer (clocks disagree; the earlier is the safe one). Every change after ``start`` has
    UpdatedOn >= start and is picked up next time; every change before it that was committed when
    its page was read was seen now; a change committed late (UpdatedOn stamped before ``start``,
    visible only after) is covered by the overlap window.

    It is also never later than the newest UpdatedOn seen (or, with nothing seen, the previous
    watermark): UpdatedOn is in the server's frame, which the API does not document (it may be local
    time marked "Z"). If that frame runs behind real UTC, ``start`` would jump
    ahead of it and skip hours; the newest UpdatedOn seen is in the frame itself. If the frame runs
    ahead, ``start`` is the smaller one: the next run re-reads a little more, and loses nothing.
    """
    start = min(local_start, server_start) if server_start is not None else local_start
    reached = max_seen if max_seen is not None else previous
    if reached is not None and previous is not None:
        reached = max(reached, previous)
    return min(start, reached) if reached is not None else start


def messages_work(ctx: RunContext, mode: str) -> None:
    """Walk the messages changed since the last watermark (all of them when full), then move it on."""
    run, client = ctx.run, ctx.client
    previous = _last_watermark() if mode == Mode.INCREMENTAL else None
    if mode == Mode.INCREMENTAL and previous is None:
        logger.debug("messages sync #%s: no watermark yet, so this first sync walks everything.", run.pk)
        mode = Mode.FULL
        ctx.save_progress(mode=mode)
    since = previous - timedelta(seconds=settings.NEXUDUS_SYNC_OVERLAP) if previous else None
    ctx.save_progress(since=since)
    local_start = timezone.now().replace(microsecond=0)
    server_clock = client.watch_server_date()
    # Awaiting reply is recomputed for the customers of each page applied; a full walk touches
    # them all, so it is recomputed once, after the walk and the deletions (sync/awaiting.py).
    # The customers table is recomputed once, after the walk: the customers this run wrote, or
    # all of them after a full one (sync/customers.py).
    with customers.kept_by_sync(full=mode == Mode.FULL), awaiting.deferred() if mode == Mode.FULL else nullcontext():
        try:
            seen = ctx.walk(MESSAGES, lambda: client.iter_message_pages(order_by="Id", updated_from=since))
        finally:
            server_clock.close()
        if mode == Mode.FULL:
            ctx.soft_delete_unseen(MESSAGES, seen, client.get_messages)
    ctx.save_progress(
        watermark=_next_watermark(
            local_start=local_start, server_start=server_clock.at,
            max_seen=ctx.max_updated_on, previous=previous,
        )
    )
