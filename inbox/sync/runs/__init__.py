"""Running a sync, one job a module: each run is a ``SyncRun`` row, one at a time per resource.

- ``lock``: the resource's Redis lock taken (or waited for), and ``SyncBusy`` when it is not;
- ``start``: a run started under the lock, its work done, its end recorded (``execute``);
- ``end``: what stopped a run, in words an admin can act on, and its end recorded, even while the
  database does not answer (noted in Redis meanwhile);
- ``reap``: runs whose worker died closed, and started again once;
- ``lease``: the lock's short lease renewed, and the run's heartbeat recorded, from a timer thread;
- ``backoff``: how long beat's routine runs wait after Nexudus failed (read from the runs).
"""
