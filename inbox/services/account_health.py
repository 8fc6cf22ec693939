"""Account-health bookkeeping after each accounts sync (snapshots, incidents, alerts).

Owned by the account-health work; the accounts sync calls ``after_accounts_sync`` once a run
has stored its records.
"""

from __future__ import annotations


def after_accounts_sync(*, run) -> None:
    """Record every account's health snapshot and open or close incidents (to be built)."""
