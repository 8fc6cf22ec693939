"""The seeded-sandbox fixtures of ``tests.sync.fixtures``, for every test module here."""

from tests.sync.fixtures import nexudus_sandbox, seeded  # noqa: F401 (pytest finds fixtures by name)
