"""The Nexudus REST client, free of Django (:mod:`inbox.nexudus.configured` alone reads settings).

The names other code uses are re-exported here; the parts live in their own modules: ``client``,
``transport``, ``auth``, ``paging``, ``sort``, ``filters``, ``records``, ``values``, ``ratelimit``,
``errors``.
"""

from inbox.nexudus.auth import clear_shared_tokens, totp_code
from inbox.nexudus.client import BUSINESSES_PATH, NexudusClient
from inbox.nexudus.errors import NexudusAuthError, NexudusError, NexudusNotFound, NexudusUnavailable
from inbox.nexudus.filters import format_filter_datetime
from inbox.nexudus.transport import parse_retry_after

__all__ = [
    "BUSINESSES_PATH",
    "NexudusAuthError",
    "NexudusClient",
    "NexudusError",
    "NexudusNotFound",
    "NexudusUnavailable",
    "clear_shared_tokens",
    "format_filter_datetime",
    "parse_retry_after",
    "totp_code",
]
