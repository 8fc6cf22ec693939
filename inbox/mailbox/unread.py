"""Unread, per person: for person u a message is unread iff u has a mark on it saying so (read or
unread), else Nexudus's ``IsNewMessage`` (``is_new_message``).

Nobody (``user=None``, or an anonymous user: a command-line export) has no marks, so for nobody
"unread" is Nexudus's flag alone, with no subqueries.

Every list, count and mark of a signed-in person asks one of the two questions below, so they are
written as two small expressions of their own rather than built from querysets: the ORM spent
~0.75 ms building and compiling the row's one subquery (a ``Subquery`` of a ``MessageMark``
queryset, wrapped twice), half of a page's whole query, to write the same SQL. The SQL is what that
ORM version wrote, subqueries correlated to the message's own columns (``F("pk")``,
``F("is_new_message")``, resolved and relabelled by the ORM like any column), so a list, a count
or an ``exclude`` nests them like any other condition.
https://docs.djangoproject.com/en/5.2/ref/models/expressions/#writing-your-own-query-expressions
"""

from __future__ import annotations

from django.db.models import BooleanField, Expression, F, Q

from inbox.models import MessageMark

# The marks table's alias inside the subqueries: one no alias of the ORM's can be ("U0", "T2", or
# a table's name), so a list nested in another query never shadows it.
MARK = "person_mark"


def person(user):
    """``user`` if it is someone who can have marks, else None (nobody)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    return user


class _MarksOf(Expression):
    """An expression over one message's columns and one person's marks on it."""

    output_field = BooleanField()

    def __init__(self, user_id: int, pk=None, flag=None):
        super().__init__()
        self.user_id = user_id
        self.pk = F("pk") if pk is None else pk
        self.flag = F("is_new_message") if flag is None else flag

    def get_source_expressions(self):
        return [self.pk, self.flag]

    def set_source_expressions(self, exprs):
        self.pk, self.flag = exprs

    def _mark(self, compiler, *, select: str, is_read: bool | None) -> tuple[str, list]:
        """``SELECT <select> FROM marks WHERE [(NOT) is_read AND] message = <pk> AND user = %s LIMIT 1``."""
        qn = compiler.connection.ops.quote_name
        meta = MessageMark._meta
        pk_sql, pk_params = compiler.compile(self.pk)
        read = f"{MARK}.{qn(meta.get_field('is_read').column)}"
        state = "" if is_read is None else (f"{read} AND " if is_read else f"NOT {read} AND ")
        sql = (
            f"SELECT {select.format(read=read)} FROM {qn(meta.db_table)} {MARK} WHERE ({state}"
            f"{MARK}.{qn(meta.get_field('message').column)} = ({pk_sql}) AND "
            f"{MARK}.{qn(meta.get_field('user').column)} = %s) LIMIT 1"
        )
        return sql, [*pk_params, self.user_id]


class UnreadValue(_MarksOf):
    """The person's mark where there is one (one per person and message), else Nexudus's flag:
    ``COALESCE(NOT (SELECT is_read ...), is_new_message)``."""

    def as_sql(self, compiler, connection):
        mark_sql, mark_params = self._mark(compiler, select="{read}", is_read=None)
        flag_sql, flag_params = compiler.compile(self.flag)
        return f"COALESCE(NOT ({mark_sql}), {flag_sql})", [*mark_params, *flag_params]


class UnreadCondition(_MarksOf):
    """Unread as a condition, shaped for the marks' index: a mark saying unread, or Nexudus's flag
    and no mark saying read: ``EXISTS(unread mark) OR (is_new_message AND NOT EXISTS(read mark))``."""

    conditional = True

    def as_sql(self, compiler, connection):
        unread_sql, unread_params = self._mark(compiler, select="1", is_read=False)
        read_sql, read_params = self._mark(compiler, select="1", is_read=True)
        flag_sql, flag_params = compiler.compile(self.flag)
        return (
            f"(EXISTS({unread_sql}) OR ({flag_sql} AND NOT EXISTS({read_sql})))",
            [*unread_params, *flag_params, *read_params],
        )


def unread_condition(user):
    """Unread for ``user``, to filter by (None or anonymous: Nexudus's flag alone, no subqueries)."""
    if person(user) is None:
        return Q(is_new_message=True)
    return UnreadCondition(user.pk)


def unread_value(user):
    """Unread for ``user`` as each row's value (a list's ``is_unread``). One subquery a row, where
    the filter (:func:`unread_condition`, shaped for the indexes) has two."""
    if person(user) is None:
        return F("is_new_message")
    return UnreadValue(user.pk)
