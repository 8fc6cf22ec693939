"""The Nexudus REST client (temporary re-exports while the package is being split)."""

from inbox.nexudus.client import *  # noqa: F401,F403
from inbox.nexudus.client import BUSINESSES_PATH  # noqa: F401
