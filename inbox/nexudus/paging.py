"""Walking a Nexudus list endpoint page by page, trusting nothing the envelope does not say.

A list answer is an envelope (https://developers.nexudus.com/rest-api/spaces/get-coworkermessages):
``Records``, ``CurrentPage``, ``CurrentPageSize``, ``TotalItems``, ``TotalPages``, ``HasNextPage``,
``CurrentOrderField``, ``CurrentSortDirection``. The walk asks ``page``/``size`` with ``orderBy``
and ``dir`` every time, reads the granted size back (the server may grant less than asked, and
page numbers count in the granted size), follows ``HasNextPage`` (or what the totals imply), and
stops with an error rather than loop when the server ignores the page asked for. A page answered
in descending order is asked again with the other ``dir`` value (:mod:`inbox.nexudus.sort`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from inbox.nexudus.errors import NexudusError
from inbox.nexudus.records import RecordError
from inbox.nexudus.sort import DirConvention, page_order
from inbox.nexudus.values import parse_int

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a list endpoint, as the server granted it.

    ``page_size`` is the size the server says it used (``CurrentPageSize``), not the one asked for.
    ``skipped`` counts entries of ``Records`` that were not records at all (no object, no Id).
    """

    records: list[T]
    page: int
    page_size: int
    total_items: int | None
    total_pages: int | None
    has_next: bool
    skipped: int = field(default=0)


def parse_all(raw_records: Sequence[Any], parse: Callable[[Mapping[str, Any]], T], path: str) -> tuple[list[T], int]:
    """The records among ``raw_records``, and how many entries were skipped (logged) as not records."""
    records: list[T] = []
    skipped = 0
    for raw in raw_records:
        try:
            records.append(parse(raw))
        except RecordError as exc:
            skipped += 1
            logger.warning("Skipped an entry of %s: %s", path, exc)
    return records, skipped


def walk_pages(
    get_json: Callable[[str, Mapping[str, str]], Any],
    path: str,
    parse: Callable[[Mapping[str, Any]], T],
    filters: Mapping[str, str],
    *,
    dirs: DirConvention,
    order_by: str,
    size: int,
    start_page: int = 1,
) -> Iterator[Page[T]]:
    """Pages of ``path``, lazily, one request each (two when a page must be asked again)."""
    if not order_by or not isinstance(order_by, str):
        raise ValueError("order_by must name a field, e.g. 'Id' or 'UpdatedOn'.")
    if size < 1 or start_page < 1:
        raise ValueError("page_size and start_page must be at least 1.")
    page_number = start_page
    previous_first_id: int | None = None
    asked_dirs: list[int] = []  # the dir values tried for the current page
    while True:
        direction = dirs.ascending_dir()
        params = {**filters, "page": str(page_number), "size": str(size), "orderBy": order_by, "dir": str(direction)}
        page, verdict, evidence = read_page(
            path, get_json(path, params), parse, asked_page=page_number, asked_size=size,
            order_by=order_by, page_one=start_page,
        )
        asked_dirs.append(direction)
        if verdict == "descending":
            dirs.answered_descending(path, direction, evidence, asked_dirs, first_page=page_number == start_page)
            continue  # the same page again, with the other value: nothing was yielded from it
        if verdict == "ascending":
            dirs.answered_ascending(direction, evidence)
        asked_dirs = []
        yield page
        if not page.has_next:
            return
        if not page.records and not page.skipped:
            raise NexudusError(
                f"Nexudus said page {page.page} of {path} has a next page but sent no records; "
                "stopping rather than looping forever.",
                path=path,
            )
        first_id = page.records[0].id if page.records else None
        if first_id is not None and first_id == previous_first_id:
            raise NexudusError(
                f"Nexudus sent the same page of {path} twice (page {page.page}); it seems to "
                "ignore the page parameter. Stopping rather than looping forever.",
                path=path,
            )
        previous_first_id = first_id
        # Page numbers count in the size the server granted (never assume the size asked).
        size = page.page_size
        page_number = page.page + 1


def read_page(
    path: str,
    envelope: Any,
    parse: Callable[[Mapping[str, Any]], T],
    *,
    asked_page: int,
    asked_size: int,
    order_by: str,
    page_one: int = 1,
) -> tuple[Page[T], str | None, str]:
    """The page, and the order it came in (:func:`inbox.nexudus.sort.page_order`)."""
    if isinstance(envelope, list):  # tolerate a bare array: one page holding everything sent
        envelope = {"Records": envelope, "HasNextPage": False}
    if not isinstance(envelope, Mapping):
        raise NexudusError(
            f"Nexudus answered {path} with {type(envelope).__name__} instead of a list page.",
            path=path,
        )
    raw_records = envelope.get("Records")
    if raw_records is None:
        raw_records = []
    if not isinstance(raw_records, list):
        raise NexudusError(f"Nexudus answered {path} with Records that are not a list.", path=path)
    records, skipped = parse_all(raw_records, parse, path)
    verdict, evidence = page_order(path, envelope, records, order_by)

    current_page = parse_int(envelope.get("CurrentPage")) or parse_int(envelope.get("PageNumber"))
    current_page = current_page if current_page and current_page > 0 else asked_page
    if current_page != asked_page:
        raise NexudusError(
            f"Nexudus answered page {current_page} of {path} when page {asked_page} was asked for; "
            "the client cannot page reliably like that.",
            path=path,
        )
    granted = parse_int(envelope.get("CurrentPageSize")) or parse_int(envelope.get("PageSize"))
    if not granted or granted < 1:
        granted = asked_size  # not said: assume granted, and a short page is the last one
    if granted != asked_size and asked_page == page_one:
        logger.info("Nexudus granted pages of %d on %s (asked for %d).", granted, path, asked_size)
    total_items = parse_int(envelope.get("TotalItems"))
    total_pages = parse_int(envelope.get("TotalPages"))
    has_next = _has_next(envelope.get("HasNextPage"), current_page, granted, total_items, total_pages,
                         len(raw_records))
    page = Page(records=records, page=current_page, page_size=granted, total_items=total_items,
                total_pages=total_pages, has_next=has_next, skipped=skipped)
    return page, verdict, evidence


def _has_next(said: Any, page: int, size: int, total_items: int | None, total_pages: int | None,
              sent: int) -> bool:
    """``HasNextPage`` if the server said it, else what the totals imply, else "the page was full"."""
    if isinstance(said, bool):
        return said
    if said is not None and isinstance(said, (str, int)):
        return str(said).strip().lower() in {"true", "1"}
    if total_pages is not None:
        return page < total_pages
    if total_items is not None:
        return page * size < total_items
    return sent >= size > 0
