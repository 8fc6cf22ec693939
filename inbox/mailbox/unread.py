"""Unread, per person: for person u a message is unread iff u has a mark on it saying so (read or
unread), else Nexudus's ``IsNewMessage`` (``is_new_message``).

Nobody (``user=None``, or an anonymous user: a command-line export) has no marks, so for nobody
"unread" is Nexudus's flag alone, with no subqueries.
"""

from __future__ import annotations

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from inbox.models import MessageMark


def person(user):
    """``user`` if it is someone who can have marks, else None (nobody)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    return user


def _marks(user, *, is_read: bool):
    return MessageMark.objects.filter(user_id=user.pk, message_id=OuterRef("pk"), is_read=is_read)


def unread_condition(user) -> Q:
    """Unread for ``user`` (None or anonymous: Nexudus's flag alone, no subqueries)."""
    if person(user) is None:
        return Q(is_new_message=True)
    return Q(Exists(_marks(user, is_read=False))) | (
        Q(is_new_message=True) & ~Q(Exists(_marks(user, is_read=True)))
    )


def unread_value(user):
    """Unread for ``user`` as each row's value (a list's ``is_unread``): the person's mark where
    there is one (one per person and message), else Nexudus's flag. One subquery a row, where the
    filter (:func:`unread_condition`, shaped for the indexes) has two."""
    if person(user) is None:
        return F("is_new_message")
    mark = MessageMark.objects.filter(user_id=user.pk, message_id=OuterRef("pk")).values("is_read")[:1]
    return Coalesce(
        ExpressionWrapper(~Q(Subquery(mark)), output_field=BooleanField()), F("is_new_message"),
        output_field=BooleanField(),
    )
