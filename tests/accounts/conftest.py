"""The live-sandbox fixtures of ``tests.accounts.fixtures``, for every test module here."""

from tests.accounts.fixtures import sandbox_source, sync_worker  # noqa: F401 (pytest finds fixtures by name)
