"""Who is signed in, read once a request with what every page asks about them.

Django's session middleware reads the signed-in user on each request through the backend that
signed them in (``get_user``). Every page then asked two more things, each in a query of its own:
is this person a help-desk admin (the navigation shows the admin pages), and which row density
did they choose. ``HelpdeskBackend`` reads both in the same query as the user, as annotations
(``helpdesk_admin``, ``inbox_density``); :func:`inbox.auth.permissions.is_helpdesk_admin` and
:func:`inbox.mailbox.preferences.density_for` use them when present and ask the database when not
(a user from elsewhere: a shell, a task). With the database on another host, each round trip saved
is a network hop saved; docs/rendering.md has the measurements.

The query's SQL is compiled once per database and admin group: building a queryset with two
subqueries costs Django about 1.5 ms, four times what running it costs.

Signing in is Django's ``ModelBackend`` unchanged (username, password, ``is_active``).
https://docs.djangoproject.com/en/5.2/topics/auth/customizing/#writing-an-authentication-backend
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from inbox.auth.permissions import ADMIN_ANNOTATION, admin_annotation
from inbox.mailbox.preferences import DENSITY_ANNOTATION, density_annotation

_MARK = -7_031_977  # a primary key no user has: where the user's id goes among the parameters


@functools.lru_cache(maxsize=8)
def _user_query(alias: str, admin_group: str) -> tuple[str, tuple, int]:
    """(SQL, parameters, index of the user's id among them) of the user with the two facts."""
    users = get_user_model()._default_manager.using(alias)
    users = users.annotate(**{ADMIN_ANNOTATION: admin_annotation(), DENSITY_ANNOTATION: density_annotation()})
    sql, params = users.filter(pk=_MARK).query.get_compiler(alias).as_sql()
    return sql, params, params.index(_MARK)


class HelpdeskBackend(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        alias = model._default_manager.db
        sql, params, at = _user_query(alias, settings.HELPDESK_ADMIN_GROUP)
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:  # a session naming no valid id: nobody is signed in
            return None
        params = (*params[:at], pk, *params[at + 1 :])
        users = list(model._default_manager.raw(sql, params))
        user = users[0] if users else None
        return user if user is not None and self.user_can_authenticate(user) else None
