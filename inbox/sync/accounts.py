"""Accounts: businesses, then every EmailAccount (a full walk each time: there are few), then health."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from inbox.accounts.services.incidents import after_accounts_sync
from inbox.nexudus import BUSINESSES_PATH, NexudusError, NexudusNotFound
from inbox.nexudus.records import EmailAccountRecord

from .context import RunContext
from .rows import ACCOUNTS, BUSINESSES

logger = logging.getLogger(__name__)


#: Statuses with which Nexudus answers an API user that lacks the Business-List role.
DENIED = (401, 403, 404)

BUSINESSES_DENIED = (
    "The Nexudus API user lacks the Business-List role (HTTP {status} on " + BUSINESSES_PATH + "). "
    "The mail accounts are synced and their health computed all the same; locations are shown by "
    "the names learned earlier, or as \"Location <Id>\". Give the user the Business-List role to "
    "see every location's name."
)


def businesses_work(ctx: RunContext) -> None:
    """The locations' names. Only they need Business-List: without it the run goes on, warning."""
    try:
        for page in ctx.client.iter_business_pages():
            ctx.page_applied(BUSINESSES, page.records, total_pages=None, has_next=page.has_next, count=False)
    except NexudusError as exc:
        if exc.status not in DENIED:
            raise
        ctx.run.warning = BUSINESSES_DENIED.format(status=exc.status)
        logger.warning("accounts sync #%s: %s", ctx.run.pk, ctx.run.warning)


class HealthFailed(Exception):
    """The accounts were synced, but the health update after them failed: the run fails, saying so."""


def accounts_work(ctx: RunContext, mode: str) -> None:
    """Businesses, then every account (unseen ones checked, then soft-deleted), then their health.

    Whatever ``mode`` says, every account is walked: there are few.
    """
    client = ctx.client
    businesses_work(ctx)
    ctx.pages_before_walk = ctx.run.pages_done
    seen = ctx.walk(ACCOUNTS, lambda: client.iter_account_pages(order_by="Id"))

    def verify(ids: Sequence[int]) -> list[EmailAccountRecord]:
        # The batch endpoint answers accounts with only some of their fields: it proves they
        # exist, no more; the few that exist after all are fetched whole, one by one.
        whole = []
        for record in client.get_accounts(ids):
            try:
                whole.append(client.get_account(record.id))
            except NexudusNotFound:
                pass  # deleted in between: it is missing after all
        return whole

    ctx.soft_delete_unseen(ACCOUNTS, seen, verify)
    try:
        after_accounts_sync(run=ctx.run)
    except Exception as exc:
        logger.exception("accounts sync #%s: the health update failed.", ctx.run.pk)
        raise HealthFailed(
            f"The mail accounts were synced, but updating their health failed: {type(exc).__name__}: {exc}"
        ) from exc
