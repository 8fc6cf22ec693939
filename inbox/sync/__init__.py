"""The sync: Nexudus records into the local mirror, on beat's schedule or when an admin asks.

- Pages are applied with one bulk upsert and one transaction per page, keyed by the Nexudus Id
  (a page applied twice changes nothing, so a task delivered twice is harmless). Rows whose
  mirrored content is unchanged are not written at all, and ``records_updated`` counts real
  changes. ``MessageMark`` (the marks people make here) is never touched.
- Incremental (messages): ``from_CoworkerMessage_UpdatedOn = watermark - NEXUDUS_SYNC_OVERLAP``,
  ordered by Id; see ``messages._next_watermark`` for why a record changed while a sync runs is
  never lost.
- Full (messages, and accounts every time): walk everything, then soft-delete the mirror rows
  that were not seen, after checking each one with the batch endpoint (a record skipped by a page
  that shifted is not deleted). Deleted rows stay in the table, marked ``deleted_at``.
- One run at a time per resource, by a Redis lock; ``SyncRun`` records each run and its progress
  after every page, for the /sync/ page.

The modules, from the bottom up (no import cycle among them: ``tests/sync/test_imports.py``):

- ``registry``: the resources (messages, accounts), their tasks, modes and beat schedule;
- ``cleaning``: values both databases accept (no NUL, no lone surrogates, lengths, int ranges);
- ``rows``: records into rows (``Mirror``), prepared without the database;
- ``upsert``: prepared rows into the mirror, unchanged ones skipped (the SQL is
  ``inbox.platform.upsert``);
- ``walk``: the next page fetched while one is applied (``prefetched``), the Ids seen (``SeenIds``);
- ``context``: one running sync (``RunContext``): pages applied and recorded, walks, soft deletes;
- ``messages`` and ``accounts``: what a run of each resource does (its ``work``);
- ``queueing``: a run's task sent to the workers, by name;
- ``runs``: the lock, starting a run, recording its end, reaping dead runs, the lease, the backoff;
- ``services``: sync a resource now, or queue a sync (``request_sync``);
- ``tasks``: the Celery tasks (which call the services; nothing here imports them);
- ``selectors`` and ``views``: the /sync/ page.
"""
