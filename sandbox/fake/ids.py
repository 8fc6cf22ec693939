"""Where each kind of generated record's Ids start, and GUIDs drawn from the seeded generator:
the same seed gives the same Ids and UniqueIds.
"""

from __future__ import annotations

import random
import uuid

FIRST_MESSAGE_ID = 1_000_001
FIRST_ACCOUNT_ID = 5_001
FIRST_BUSINESS_ID = 1_001
FIRST_COWORKER_ID = 20_001


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
