"""Walking a paged list: the next page fetched while one is applied, and the Ids a walk saw."""

from __future__ import annotations

import bisect
import queue
import threading
from array import array
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


def prefetched(pages: Iterator[T], *, depth: int = 1) -> Iterator[T]:
    """Yield ``pages`` while a helper thread already fetches the next one (and whatever else
    iterating ``pages`` does: the walk prepares each page's rows there too).

    The network, Nexudus's (or the sandbox's) own work and that preparation then overlap with
    applying the page in hand. Only the helper thread touches the client until the walk ends; an error on its side is
    raised here, in order, and stopping early (an error while applying) stops the helper.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item: tuple) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not hand_over(("page", page)):
                    return
            hand_over(("end", done))
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(("error", exc))

    helper = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    helper.start()
    try:
        while True:
            try:
                kind, item = slots.get(timeout=1.0)  # a timeout keeps signals (time limits) deliverable
            except queue.Empty:
                if not helper.is_alive():
                    raise RuntimeError("The page-fetching thread stopped without a word.") from None
                continue
            if kind == "page":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()
        # Unblock a helper waiting to put, then let it finish its request.
        try:
            slots.get_nowait()
        except queue.Empty:
            pass
        helper.join(timeout=120)


class SeenIds:
    """The Ids a walk saw, 8 bytes each (an ``array``, not a set: memory stays small and flat).

    Pages come sorted by Id, so ids arrive ascending and repeats (a page boundary that shifted)
    are just not appended; should a server not sort, ``finish`` sorts and de-duplicates.
    """

    def __init__(self) -> None:
        self.ids = array("q")
        self.ascending = True

    def add(self, pk: int) -> None:
        ids = self.ids
        if not ids or pk > ids[-1]:
            ids.append(pk)
        elif pk != ids[-1]:
            if self.ascending:
                position = bisect.bisect_left(ids, pk)
                if position < len(ids) and ids[position] == pk:
                    return  # seen already (a shifted page repeated it)
            self.ascending = False
            ids.append(pk)

    def finish(self) -> SeenIds:
        if not self.ascending:
            self.ids = array("q", sorted(set(self.ids)))
            self.ascending = True
        return self

    def union(self, other: SeenIds) -> SeenIds:
        merged = SeenIds()
        merged.ids = array("q", sorted(set(self.finish().ids) | set(other.finish().ids)))
        return merged

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, pk: int) -> bool:
        position = bisect.bisect_left(self.ids, pk)
        return position < len(self.ids) and self.ids[position] == pk
