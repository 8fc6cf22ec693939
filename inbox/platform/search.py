"""Full-text search as each database does it: SQLite FTS5 or PostgreSQL text search, never LIKE '%q%'.

Callers hand over words (``inbox.mailbox.search.search_terms``: letters and digits, lower-cased);
each becomes a quoted prefix term, all of them required, so the user's text never reaches the
engine's query syntax. Everything that differs between the two databases is here: the match
condition, how common a word is, and the plans for common words.

* SQLite: ``inbox_message_fts``, an FTS5 external-content table over the messages (subject,
  body_text, customer name, e-mail, company), kept in step by triggers (migration 0002). The
  query is ``id IN (SELECT rowid FROM inbox_message_fts WHERE inbox_message_fts MATCH ?)``; every
  other condition (dates) stays outside MATCH, where the date indexes can serve it.
  https://www.sqlite.org/fts5.html#external_content_tables
* PostgreSQL: a stored generated ``search_vector`` tsvector column ('simple' configuration: the
  data is multilingual, so no stemming or stop words) with a GIN index, matched with
  ``to_tsquery`` built from the same words (``'word':*``).
  https://www.postgresql.org/docs/current/textsearch-tables.html
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import math
import re
from collections.abc import Callable

from django.db import NotSupportedError, connections, models
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import Col, Expression, RawSQL

from inbox.models import CoworkerMessage
from inbox.platform import cache as platform_cache
from inbox.platform.sql import id_rows, is_postgresql, is_sqlite
from inbox.platform.tables import FTS_TABLE, TALLY_TABLE, VOCAB_TABLE

MIN_PREFIX_LENGTH = 2  # shorter words are matched whole, not as the start of longer ones
MESSAGE_TABLE = CoworkerMessage._meta.db_table


def is_prefix(term: str) -> bool:
    """Whether a word is looked for as the start of words. A single letter is not: "b*" is most of
    the index (every word starting with b), too broad to be worth its cost; "b" is the word b."""
    return len(term) >= MIN_PREFIX_LENGTH


def fts5_query(terms: list[str]) -> str:
    """``"word"*`` for each word, implicitly ANDed. Words hold no quotes, but double them anyway."""
    return " ".join('"{}"{}'.format(t.replace('"', '""'), "*" if is_prefix(t) else "") for t in terms)


def tsquery(terms: list[str]) -> str:
    """``'word':* & ...`` for to_tsquery('simple', ...). Words are \\w+ only; quotes doubled anyway."""
    return " & ".join(
        "'{}'{}".format(t.replace("'", "''").replace("\\", ""), ":*" if is_prefix(t) else "") for t in terms
    )


# Newest-first search has two good plans and each is terrible for the other kind of word: a rare
# word wants "find the matches, then sort them"; a common one wants "walk the newest-first index
# and keep the rows that match" (found after a page's worth of rows). PostgreSQL estimates any
# word it has no statistics for (any rare word, any prefix) at 0.5% of the rows and walks the
# index for it, reading every row (1.3 s at a million); SQLite always drives by the match list
# (3.3 s for a word in half the messages). So we ask the index how many rows match, up to
# FEW_MATCHES (a rare word stops the probe at once, a common one after FEW_MATCHES rows), remember
# the answer for a while, and write the query for the plan that fits.
FEW_MATCHES = 3000
PROBE_CACHE_SECONDS = 3600  # how common a word is changes slowly; either answer gives the same rows


def _matches_fewer_than(alias: str, query: str, limit: int) -> bool:
    key = "inbox:search-few:v1:" + hashlib.sha256(f"{alias}:{limit}:{query}".encode()).hexdigest()[:32]
    known = platform_cache.get(key)
    if known is not None:
        return known
    probe = _pg_probe if is_postgresql(connections[alias]) else _sqlite_probe
    few = probe(alias, query, limit)
    platform_cache.set(key, few, PROBE_CACHE_SECONDS)
    return few


def _pg_probe(alias: str, query: str, limit: int) -> bool:
    return _pg_count(alias, query, limit) < limit


def _pg_any(alias: str, query: str) -> bool:
    """Whether any message matches (whole words only: no prefix). Asked as "count up to 10": with
    LIMIT 1 (or EXISTS) the planner scans the table for a word it has no statistics for, which is
    every word it has never seen (a second at a million rows); at 10 it reads the GIN index."""
    return _pg_count(alias, query, 10) > 0


def _pg_count(alias: str, query: str, limit: int) -> int:
    """How many messages match, counting no further than ``limit``."""
    sql = (
        f'SELECT count(*) FROM (SELECT 1 FROM "{MESSAGE_TABLE}" '
        f"WHERE \"search_vector\" @@ to_tsquery('simple'::regconfig, %s) LIMIT %s) AS probe"
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [query, limit])
        return cursor.fetchone()[0]


def _sqlite_probe(alias: str, query: str, limit: int) -> bool:
    sql = f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s)"
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [query, limit])
        return cursor.fetchone()[0] < limit


class _SearchVectorField(models.Field):
    """The generated tsvector column of migration 0002 (PostgreSQL only; not a model field)."""

    def db_type(self, connection):
        return "tsvector"


_SEARCH_VECTOR = _SearchVectorField()
_SEARCH_VECTOR.set_attributes_from_name("search_vector")


class _PgMatch(Expression):
    """``<alias>.search_vector @@ q`` (many matches), or ``<alias>.id = ANY(ARRAY(<GIN matches>))``
    (few). A real expression, not RawSQL, so the table alias follows the query when Django nests
    it as a subquery (counts, "mark all matching")."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, query: str, *, few: bool, col=None):
        super().__init__()
        self.query, self.few, self.col = query, few, col

    def get_source_expressions(self):
        return [self.col] if self.col is not None else []

    def set_source_expressions(self, exprs):
        self.col = exprs[0] if exprs else None

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        clone = self.copy()
        _SEARCH_VECTOR.model = query.model
        target = query.model._meta.pk if self.few else _SEARCH_VECTOR
        clone.col = Col(query.get_initial_alias(), target)
        return clone

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.col)
        if self.few:
            sql = (
                f'{column} = ANY(ARRAY(SELECT fts_m."id" FROM "{MESSAGE_TABLE}" fts_m '
                f"WHERE fts_m.\"search_vector\" @@ to_tsquery('simple'::regconfig, %s)))"
            )
        else:
            sql = f"{column} @@ to_tsquery('simple'::regconfig, %s)"
        return sql, [*params, self.query]


class _Fts5Match(_PgMatch):
    """``<alias>.id IN (FTS5 matches)`` (few: SQLite looks each match up by id, then sorts), or
    ``+<alias>.id IN (...)`` (many: the unary + keeps SQLite from driving the query by the match
    list, so it walks the newest-first index and stops after a page). Measured at 1M rows: a word
    in half the messages took 3.3 s the first way and 70 ms the second; a rare one the reverse.

    ``walk``: the same words as exact terms (see :func:`_spelled_out`). Inside
    ``search_plan(WALK)`` the condition is a probe of the index for each row, ``EXISTS (SELECT 1
    FROM fts WHERE fts MATCH <exact terms> AND rowid = <alias>.id)``: no setup at all, ~40 µs a
    row, so a page of a word in half the messages costs ~3 ms instead of the 70 ms of copying half
    a million matches into a temporary index. Inside ``search_plan(WALK, from_id=low)`` it is the
    matches from id ``low`` up, ``+<alias>.id IN (SELECT rowid FROM fts WHERE fts MATCH <exact
    terms> AND rowid >= low)``: FTS5 seeks each word's list to ``low`` (a rowid range is a
    constraint it serves), so the set is only the matches among the newest ids, built once
    (~0.2 ms for the window of a word in half the messages, against ~5 ms of probes). Only
    :func:`first_rows` (either) and :func:`bounded_count` (the probes) ask for them, over a
    bounded window of rows; everything else (counts, exports, marks) keeps the set plans.

    ``share``: the part of the live messages the words are in (many matches only). Words in at
    least WALK_MIN_SHARE of them are walked as above; rarer ones (two words together, say) are
    found in a window sized by it (:func:`first_rows`)."""

    def __init__(self, query: str, *, few: bool, col=None, walk: str | None = None, share: float = 0.0):
        super().__init__(query, few=few, col=col)
        self.walk, self.share = walk, share

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        clone = self.copy()
        clone.col = Col(query.get_initial_alias(), query.model._meta.pk)
        return clone

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.col)
        plan = _PLAN.get()
        if plan == SKIP:
            return "1 = 1", []
        if plan == WALK and self.walk:
            low = _FROM_ID.get()
            if low is not None:
                sql = f"+{column} IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid >= %s)"
                return sql, [*params, self.walk, low]
            sql = f"EXISTS (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND {FTS_TABLE}.rowid = {column})"
            return sql, [self.walk, *params]
        plus = "" if self.few else "+"
        sql = f"{plus}{column} IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
        return sql, [*params, self.query]


# --- Walking the newest-first index for a common word (SQLite) ---------------------------------
# FTS5 answers "does row X contain the exact word w" in ~40 µs, but a prefix ("invoice"*, what
# every search term is) rebuilds the merged list of all its words on each question (16 ms). So a
# common search is rewritten with each prefix spelled out as the words the index holds
# (fts5vocab): "invoice"* -> ("invoice" OR "invoices"). A word must be common for walking to pay
# (a page needs size / share rows probed); a prefix of many words, or a word outside ASCII (whose
# folding we would have to copy from the tokenizer exactly), keeps the set plan.

SKIP, WALK = "skip", "walk"
WALK_WINDOW = 500  # at most this many rows of the view are probed before the set plan takes over
WALK_MIN_SHARE = 0.2  # walk only words found in at least this share of the live messages
MAX_EXPANSIONS = 16
_ASCII_WORD = re.compile(r"^[a-z0-9]+$")
SPAN_PER_WINDOW = 4  # the range plan when the ids from the window's lowest up are at most this many windows
_PLAN: contextvars.ContextVar[str | None] = contextvars.ContextVar("inbox_search_plan", default=None)
_FROM_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("inbox_search_from_id", default=None)


@contextlib.contextmanager
def search_plan(plan: str, *, from_id: int | None = None):
    """Compile full-text conditions inside the block as ``WALK`` (where the words allow it: per-row
    probes, or with ``from_id`` the matches from that id up) or ``SKIP`` (left out: the rows the
    words are looked for among)."""
    token, from_token = _PLAN.set(plan), _FROM_ID.set(from_id)
    try:
        yield
    finally:
        _PLAN.reset(token)
        _FROM_ID.reset(from_token)


def _ids_follow_dates(alias: str, low: int) -> bool:
    """Whether the matches from id ``low`` (the lowest of a window of WALK_WINDOW rows) up are a
    set worth building: the ids from there up are at most SPAN_PER_WINDOW windows of rows.
    Messages are numbered as Nexudus creates them, so the newest rows hold the highest ids and the
    span is about the window itself; where ids and dates disagree (a mirror filled out of order,
    an old message brought in late), the span is wide and the per-row probes, whose cost does not
    depend on ids, are kept."""
    cap = SPAN_PER_WINDOW * WALK_WINDOW
    return CoworkerMessage._base_manager.using(alias).filter(id__gte=low).order_by()[: cap + 1].count() <= cap


def _walk_match(qs: QuerySet) -> _Fts5Match | None:
    """The search condition of ``qs`` when its words can be looked for among the view's rows
    (many matches, spelled out as exact words), else None."""

    def found(node) -> _Fts5Match | None:
        expression = getattr(node, "lhs", node)
        if isinstance(expression, _Fts5Match):
            return expression if expression.walk else None
        return next(filter(None, map(found, getattr(node, "children", ()))), None)

    return found(qs.query.where)


def walkable(qs: QuerySet) -> bool:
    """Whether ``qs`` holds a search common enough to be walked row by row (see above)."""
    match = _walk_match(qs)
    return match is not None and match.share >= WALK_MIN_SHARE


def sqlite_plan(alias: str, terms: list[str]) -> tuple[str, bool, str | None, float]:
    """(FTS5 query, few, walk, share) for ``terms`` on SQLite.

    Few matches: the prefix query, driving the query by its matches. Many: the words spelled out
    as exact words where the vocabulary allows (a prefix's setup costs 10 ms for a word in half
    the messages, the exact words' none), and ``walk`` (the same: the rows are looked for among
    the view's newest, :func:`first_rows`) when they are common enough to walk, or are several
    words (whose whole match set costs the commonest word's list), with the share of the live
    messages they are in. One word less common than that keeps the set plan: its set is no
    larger than the window that would hold a page of it.

    Cached whole, for the newest message id (as the spelling: a word form a new message brings
    is never missed): one cache read per search where its parts took three."""
    newest = _newest_id(alias)
    key = "inbox:search-plan:v1:" + hashlib.sha256(f"{alias}:{newest}:{' '.join(terms)}".encode()).hexdigest()[:32]
    known = platform_cache.get(key)
    if known is not None:
        return known
    plan = _sqlite_plan(alias, terms)
    platform_cache.set(key, plan, PROBE_CACHE_SECONDS)
    return plan


def _sqlite_plan(alias: str, terms: list[str]) -> tuple[str, bool, str | None, float]:
    prefix = fts5_query(terms)
    if _matches_fewer_than(alias, prefix, FEW_MATCHES):
        return prefix, True, None, 0.0
    spelled = _spelled_out(alias, terms)
    if not spelled:
        return prefix, False, None, 0.0
    share = _share(alias, spelled)
    if share >= WALK_MIN_SHARE or len(terms) > 1:
        return spelled, False, spelled, share
    return spelled, False, None, share


def sqlite_match_query(alias: str, terms: list[str]) -> str:
    return sqlite_plan(alias, terms)[0]


def _newest_id(alias: str) -> int | None:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {MESSAGE_TABLE}")
        return cursor.fetchone()[0]


def _spelled_out(alias: str, terms: list[str]) -> str | None:
    """``("invoice" OR "invoices") AND ("parking")`` for ["invoice", "parking"]: each prefix as
    the words the index holds that start with it. None when a word is not plain ASCII (its
    folding is the tokenizer's business), spells out to nothing (nothing matches: the prefix query
    says so at once) or to more than MAX_EXPANSIONS words. Not cached itself: the plan it is part
    of is, for the newest message id (:func:`sqlite_plan`)."""
    if not terms or not all(_ASCII_WORD.match(t) for t in terms):
        return None
    return _vocabulary_query(alias, terms)


def _vocabulary_query(alias: str, terms: list[str]) -> str | None:
    groups = []
    with connections[alias].cursor() as cursor:
        for term in terms:
            if is_prefix(term):
                cursor.execute(
                    f"SELECT term FROM {VOCAB_TABLE} WHERE term >= %s AND term < %s LIMIT %s",
                    [term, term + "\U0010ffff", MAX_EXPANSIONS + 1],
                )
            else:
                cursor.execute(f"SELECT term FROM {VOCAB_TABLE} WHERE term = %s", [term])
            words = [row[0] for row in cursor.fetchall()]
            if not words or len(words) > MAX_EXPANSIONS:
                return None
            groups.append("(" + " OR ".join('"{}"'.format(w.replace('"', '""')) for w in words) + ")")
    return " AND ".join(groups)


def _share(alias: str, query: str) -> float:
    """The part of the live messages holding the words, 0 to 1 (cached like the probe: it changes
    slowly, and either answer gives the same rows)."""
    key = "inbox:search-share:v1:" + hashlib.sha256(f"{alias}:{query}".encode()).hexdigest()[:32]
    known = platform_cache.get(key)
    if known is not None:
        return known
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [query])
        matches = cursor.fetchone()[0]
        cursor.execute(f"SELECT coalesce(sum(n), 0) FROM {TALLY_TABLE}")
        live = cursor.fetchone()[0]
    share = min(1.0, matches / live) if live else 0.0
    platform_cache.set(key, share, PROBE_CACHE_SECONDS)
    return share


def match(qs: QuerySet, terms: list[str]) -> QuerySet:
    """Restrict a CoworkerMessage queryset to rows holding every one of ``terms`` (none: unchanged)."""
    if not terms:
        return qs
    connection = connections[qs.db]
    if is_postgresql(connection):
        # PostgreSQL's GIN index gathers every row of a prefix's words before it intersects the
        # terms (a common prefix: 100-500 ms at a million messages), even when a whole word of the
        # search is in no message at all. Whole words alone are quick to look up: when they match
        # nothing, neither does the search.
        exact = [t for t in terms if not is_prefix(t)]
        if exact and len(exact) < len(terms) and not _pg_any(qs.db, tsquery(exact)):
            return qs.filter(_PgMatch(tsquery(exact), few=True))  # nothing, by a query that says so quickly
        query = tsquery(terms)
        # Few matches: take them from the GIN index first, then sort them (ARRAY(...) is an
        # InitPlan the planner cannot turn back into a walk down the date index). Many: walking
        # the newest-first index finds a page of them at once.
        return qs.filter(_PgMatch(query, few=_matches_fewer_than(qs.db, query, FEW_MATCHES)))
    if is_sqlite(connection):
        query, few, walk, share = sqlite_plan(qs.db, terms)
        return qs.filter(_Fts5Match(query, few=few, walk=walk, share=share))
    raise NotSupportedError(f"No full-text search for database vendor {connection.vendor!r}: use PostgreSQL or SQLite.")


def matches_from_index(qs: QuerySet, terms: list[str]) -> QuerySet | None:
    """``qs`` restricted to ``terms``, read from the full-text index outwards, where that is the
    cheapest way to stream the matches (the counts' sample, which stops after the cap); None
    where :func:`match` is as good.

    On SQLite that is ``FROM messages, fts WHERE fts.rowid = id``: SQLite's ``id IN (<matches>)``
    would first copy every match into a temporary index (78 ms for a word in half a million
    messages, against 16 ms to stream 10,001 of them)."""
    if not terms or not is_sqlite(connections[qs.db]):
        return None
    return qs.extra(
        tables=[FTS_TABLE],
        where=[f'{FTS_TABLE}.rowid = "{MESSAGE_TABLE}"."id"', f"{FTS_TABLE} MATCH %s"],
        params=[sqlite_match_query(qs.db, terms)],
    )


def first_rows(qs: QuerySet, n: int, *, older_than: Callable[[QuerySet, object, int], QuerySet]) -> list:
    """The first ``n`` rows of a newest-first queryset (``qs[:n]``).

    A common search word on SQLite (:func:`walkable`) is found by walking the view's newest rows
    within a window of WALK_WINDOW rows (the window's edge is the view's WALK_WINDOW-th row
    without the words: one index seek), keeping those among the word's matches from the window's
    lowest id up, or probing the full-text index for each where ids do not follow the dates
    (:func:`_ids_follow_dates`); whatever the window lacks comes from beyond its edge with the usual
    plan (``older_than(qs, created_on, id)``: the rows after that one). The window is a prefix of the same order, so the rows are exactly those
    of ``qs[:n]``; a word that is common overall but rare among the newest rows costs the
    window's probes (~20 ms) and then the usual plan.

    Words with many matches that are not that common (two words together, each common alone) are
    looked for in a window sized to hold ``n`` of them by their share (:func:`_rows_among_matches`)."""
    match = _walk_match(qs)
    if match is None:
        return list(qs[:n])
    if match.share < WALK_MIN_SHARE:
        return _rows_among_matches(qs, n, match, older_than=older_than)
    edge, low = _window_edge(qs, WALK_WINDOW)
    if low is not None and not _ids_follow_dates(qs.db, low):
        low = None
    with search_plan(WALK, from_id=low):
        if edge is None:  # the whole view (words aside) is inside the window
            return list(qs[:n])
        rows = list(_up_to(qs, edge)[:n])
    return _and_beyond(rows, qs, n, edge, older_than)


def _up_to(qs: QuerySet, edge: tuple) -> QuerySet:
    """``qs`` down to its row ``edge`` (created_on, id), newest first: the window."""
    created_on, pk = edge
    return qs.filter(created_on__gte=created_on).exclude(Q(created_on=created_on) & Q(id__lt=pk))


def _and_beyond(rows: list, qs: QuerySet, n: int, edge: tuple | None, older_than) -> list:
    """The window's ``rows``, and what they lack of ``n`` from beyond its edge, by the usual plan."""
    if len(rows) < n and edge is not None:
        rows += list(older_than(qs, *edge)[: n - len(rows)])
    return rows


# Several words in a few thousand messages or more, but less than WALK_MIN_SHARE of them
# ("parking invoice": both together in 0.5%): building their whole match set reads the list of
# the commonest word (5.5 ms at a million messages, for a word in half of them), and probing row
# by row costs 40 µs a row of the thousands of rows that hold one page of them. Instead: the
# view's newest rows (words aside), as many as should hold WINDOW_MARGIN times the rows asked for
# by the words' share; the matches among them are the matches from the window's lowest id up (an
# FTS5 rowid range, ~0.3 ms), read as a list of ids. Measured at a million messages, two words in
# 0.5% of them: 1.8 ms of queries against 5.5.
WINDOW_MARGIN = 1.5  # a window expected to hold this many times the rows asked for
MAX_WINDOW = 30_000  # rows of the view (~3 ms of index to read); rarer words keep the set plan
MAX_WINDOW_IDS = 2_000  # more matches from the window's lowest id up: ids do not follow the dates


def _rows_among_matches(qs: QuerySet, n: int, match: _Fts5Match, *, older_than) -> list:
    """``qs[:n]`` (newest first) for several words of ``match``'s share: the window's rows whose
    ids are among the words' matches from the window's lowest id up, then (if the window held
    fewer than ``n``, the words being rarer among the newest rows) the rows beyond its edge by the
    usual plan."""
    window = math.ceil(WINDOW_MARGIN * n / match.share) if match.share else MAX_WINDOW + 1
    if window > MAX_WINDOW:
        return list(qs[:n])
    edge, low = _window_edge(qs, window)
    if low is None:  # the view has no rows at all
        return []
    connection = connections[qs.db]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid >= %s LIMIT %s",
            [match.walk, low, MAX_WINDOW_IDS + 1],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) > MAX_WINDOW_IDS:
        return list(qs[:n])
    sql, param = id_rows(connection, ids)
    within = qs.filter(id__in=RawSQL(sql, [param]))
    if edge is not None:
        within = _up_to(within, edge)
    with search_plan(SKIP):  # the ids hold the words
        rows = list(within[:n])
    return _and_beyond(rows, qs, n, edge, older_than)


def _window_edge(qs: QuerySet, window: int) -> tuple[tuple | None, int | None]:
    """((created_on, id) of the view's ``window``-th row, or None when it has fewer rows; the
    lowest id among its first ``window`` rows, or None when it has none), words left out. One
    statement (each ORM query costs more to build than these take to run)."""
    connection = connections[qs.db]
    rows = qs.values_list("id", "created_on")
    with search_plan(SKIP):
        rows_sql, rows_params = rows[:window].query.get_compiler(qs.db).as_sql()
        edge_sql, edge_params = rows[window - 1 : window].query.get_compiler(qs.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT min(w.id) FROM ({rows_sql}) w), e.id, e.created_on "
            f"FROM (SELECT 1) LEFT JOIN ({edge_sql}) e",
            [*rows_params, *edge_params],
        )
        low, pk, created_on = cursor.fetchone()
    if pk is None:
        return None, low
    field = CoworkerMessage._meta.get_field("created_on")
    for convert in connection.ops.get_db_converters(field.get_col(CoworkerMessage._meta.db_table)):
        created_on = convert(created_on, field, connection)
    return (created_on, pk), low


def bounded_count(qs: QuerySet, cap: int) -> int:
    """How many rows ``qs`` has, counting no further than ``cap``.

    A common search word on SQLite (polled every few seconds by everyone on that view) is probed
    row by row among the rows when they are few (one more index count), instead of copying every
    match of the word into a temporary index at each poll."""
    if walkable(qs):
        with search_plan(SKIP):
            few = qs.order_by().values("pk")[: WALK_WINDOW + 1].count() <= WALK_WINDOW
        if few:
            with search_plan(WALK):
                return qs.order_by().values("pk")[:cap].count()
    return qs.order_by().values("pk")[:cap].count()
