"""The inbox's search: the words of a search box, and a search's time budget.

The user's text never reaches a search engine's query syntax: it is cut into words (letters and
digits, any script), at most MAX_TERMS of them, and every word is required. So ``foo OR bar``,
``NEAR(...)``, ``"``, ``*`` or ``-x`` are just words (or nothing). How each database matches the
words is :mod:`inbox.platform.search`.
"""

from __future__ import annotations

import contextlib
import re

from django.conf import settings
from django.db.models import QuerySet

from inbox.platform import budget as platform_budget
from inbox.platform import search as platform_search
from inbox.sync.text import SEPARATORS, without_separators

MAX_TERMS = 12
MAX_TERM_LENGTH = 64
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits, any script
# A word with its inner hyphens and apostrophes, as typed ("o'brien", "wi-fi"), by the index's rule.
_WRITTEN_WORD = re.compile(rf"[^\W_]+(?:[{SEPARATORS}][^\W_]+)*")


def _joined(text: str) -> str:
    """A word typed with inner hyphens or apostrophes, as one word ("wi-fi" -> "wifi"): the index
    holds the joined form of each such word of a message beside its parts (inbox/sync/text.py),
    so it finds "Wi-Fi" and "WiFi" alike. Numbers ("2024-05-01") stay parts, as the index has them."""

    def join(match: re.Match) -> str:
        joined = without_separators(match.group())
        return match.group() if joined.isdigit() else joined

    return _WRITTEN_WORD.sub(join, text)


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased, de-duplicated, in order; at most MAX_TERMS of them."""
    terms: list[str] = []
    for word in _WORD.findall(_joined(text or "")):
        word = word.lower()[:MAX_TERM_LENGTH]
        if word and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def has_single_letters(text: str) -> bool:
    """Whether the search has a word of one letter or digit typed on its own ("a b", not "o'brien",
    whose one-letter part is no one-letter search of the person's)."""
    return any(len(word) == 1 for word in _WRITTEN_WORD.findall(text or ""))


def has_too_many_terms(text: str) -> bool:
    return len({w.lower() for w in _WORD.findall(_joined(text or ""))}) > MAX_TERMS


def apply_search(qs: QuerySet, text: str) -> QuerySet:
    """Restrict a CoworkerMessage queryset to rows matching ``text`` (no words: unchanged)."""
    return platform_search.match(qs, search_terms(text))


class SearchTooBroad(Exception):
    """The search did not finish within the time budget."""

    def __str__(self) -> str:
        return (
            "This search is too broad to finish in time: add a longer word, or narrow it by date, "
            "account or customer."
        )


@contextlib.contextmanager
def search_budget(*, active: bool, alias: str = "default", milliseconds: int | None = None):
    """Run the block's queries under the search time budget, SEARCH_TIME_BUDGET_MS (``active``:
    the view has a search; otherwise nothing changes). Raises :class:`SearchTooBroad` when the
    budget runs out, instead of holding a database connection (and everyone's pages) for seconds."""
    if not active:
        yield
        return
    budget = int(milliseconds if milliseconds is not None else settings.SEARCH_TIME_BUDGET_MS)
    try:
        with platform_budget.time_budget(alias=alias, milliseconds=budget):
            yield
    except platform_budget.TimedOut as exc:
        raise SearchTooBroad() from exc
