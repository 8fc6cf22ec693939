"""What differs under the help desk, and the shared plumbing every room uses.

Every database-vendor difference (SQLite or PostgreSQL) lives in this package, so the rest of the
code never asks ``connection.vendor``: ``sql`` (id lists, days), ``search`` (full-text search and
its plans), ``budget`` (a statement's time budget), ``upsert`` (writing a page of records),
``streaming`` (reading a million rows), ``tables``. So do the one Redis client factory
(``redis``), the lock (``locks``) and the one fail-soft cache (``cache``).
"""
