"""Full-text search over messages: SQLite FTS5 or PostgreSQL text search, never LIKE '%q%'.

The user's text never reaches the search engine's query syntax: it is cut into words (letters and
digits, any script), and each word becomes a quoted prefix term, all of them required. So ``foo
OR bar``, ``NEAR(...)``, ``"``, ``*`` or ``-x`` are just words (or nothing).

* SQLite: ``inbox_message_fts``, an FTS5 external-content table over ``inbox_coworkermessage``
  (subject, body_text, customer name, e-mail, company), kept in step by triggers (migration 0002).
  The query is ``id IN (SELECT rowid FROM inbox_message_fts WHERE inbox_message_fts MATCH ?)``;
  every other condition (dates!) stays outside MATCH (DESIGN.md, traps).
  https://www.sqlite.org/fts5.html#external_content_tables
* PostgreSQL: a stored generated ``search_vector`` tsvector column ('simple' configuration: the
  data is multilingual, so no stemming or stop words) with a GIN index, matched with
  ``to_tsquery`` built from the same words (``'word':*``).
  https://www.postgresql.org/docs/current/textsearch-tables.html
"""

from __future__ import annotations

import re

from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

MAX_TERMS = 12
MAX_TERM_LENGTH = 64
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits, any script

FTS_TABLE = "inbox_message_fts"
MESSAGE_TABLE = "inbox_coworkermessage"


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased, de-duplicated, in order; at most MAX_TERMS of them."""
    terms: list[str] = []
    for word in _WORD.findall(text or ""):
        word = word.lower()[:MAX_TERM_LENGTH]
        if word and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def has_too_many_terms(text: str) -> bool:
    return len({w.lower() for w in _WORD.findall(text or "")}) > MAX_TERMS


def fts5_query(terms: list[str]) -> str:
    """``"word"*`` for each word, implicitly ANDed. Words hold no quotes, but double them anyway."""
    return " ".join('"{}"*'.format(t.replace('"', '""')) for t in terms)


def tsquery(terms: list[str]) -> str:
    """``'word':* & ...`` for to_tsquery('simple', ...). Words are \\w+ only; quotes doubled anyway."""
    return " & ".join("'{}':*".format(t.replace("'", "''").replace("\\", "")) for t in terms)


def apply_search(qs: QuerySet, text: str) -> QuerySet:
    """Restrict a CoworkerMessage queryset to rows matching ``text`` (no words: unchanged)."""
    terms = search_terms(text)
    if not terms:
        return qs
    vendor = connections[qs.db].vendor
    if vendor == "postgresql":
        condition = RawSQL(
            f'"{MESSAGE_TABLE}"."search_vector" @@ to_tsquery(\'simple\'::regconfig, %s)',
            [tsquery(terms)],
            output_field=BooleanField(),
        )
    elif vendor == "sqlite":
        condition = RawSQL(
            f'"{MESSAGE_TABLE}"."id" IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)',
            [fts5_query(terms)],
            output_field=BooleanField(),
        )
    else:  # pragma: no cover - the project supports SQLite and PostgreSQL only
        raise NotImplementedError(f"No full-text search for database vendor {vendor!r}")
    return qs.filter(condition)
