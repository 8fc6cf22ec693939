"""The sync: Nexudus records into the local mirror (services write; tasks and the command call these).

- Pages are applied with one bulk upsert and one transaction per page (DESIGN.md, traps), keyed by
  the Nexudus Id. Rows whose mirrored content is unchanged are not written at all, so a page applied
  twice changes nothing, and ``records_updated`` counts real changes. ``MessageMark`` (the marks
  people make here) is never touched.
- Incremental (messages): ``from_CoworkerMessage_UpdatedOn = watermark - NEXUDUS_SYNC_OVERLAP``,
  ordered by Id; see ``_next_watermark`` for why a record changed while a sync runs is never lost.
- Full (messages, and accounts every time): walk everything, then soft-delete the mirror rows
  that were not seen, after checking each one with the batch endpoint (a record skipped by a page
  that shifted is not deleted). Deleted rows stay in the table, marked ``deleted_at``.
- One run at a time per resource, by a Redis lock (``inbox.locks``); ``SyncRun`` records each run
  and its progress after every page, for the /sync/ page.

The modules, from the bottom up:

- ``cleaning``: values both databases accept (no NUL, no lone surrogates, lengths, int ranges);
- ``rows``: records into rows, ``apply_records`` and the page-at-a-time ``apply_*_page``;
- ``upsert``: the changed rows into their table, the fastest way each database offers;
- ``walk``: the next page fetched while one is applied (``prefetched``), the Ids seen (``SeenIds``);
- ``context``: one running sync (``RunContext``): pages applied and recorded, walks, soft deletes;
- ``messages`` and ``accounts``: what a run of each resource does;
- ``lease``: the lock's short lease renewed, and the run's heartbeat recorded, from a timer thread;
- ``runs``: the lock, reaping dead runs (and starting them again), classifying failures, opening
  and closing a ``SyncRun``;
- ``backoff``: how long beat's routine runs wait after Nexudus failed (read from the runs);
- ``services``: the public services below.

Code imports from ``inbox.services.sync`` (this package), not from its modules, which may move; a
test that patches a name patches it in the module that looks it up (e.g. ``services._enqueue``).
"""

from .backoff import Backoff, backoff_for, routine_run_waits
from .context import Progress
from .messages import _last_watermark, _next_watermark
from .rows import apply_account_page, apply_message_page, apply_records
from .runs import DATABASE, DATABASE_ERRORS, WORKER_LOST, SyncBusy, reap_dead_runs, restart, superseded_by
from .services import request_sync, sync_accounts, sync_messages
from .walk import SeenIds, prefetched

__all__ = [
    "Backoff",
    "DATABASE",
    "DATABASE_ERRORS",
    "WORKER_LOST",
    "Progress",
    "SeenIds",
    "SyncBusy",
    "apply_account_page",
    "apply_message_page",
    "apply_records",
    "backoff_for",
    "prefetched",
    "reap_dead_runs",
    "request_sync",
    "restart",
    "routine_run_waits",
    "superseded_by",
    "sync_accounts",
    "sync_messages",
]
