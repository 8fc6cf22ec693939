"""Fixtures the mailbox tests share, found by pytest here rather than imported by each module."""

from tests.accounts.fixtures import sandbox_source  # noqa: F401
from tests.mailbox.inbox_fixtures import inbox_data  # noqa: F401
