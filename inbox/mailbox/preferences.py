"""A person's inbox preferences: the row density (comfortable: two lines; compact: one line at wide
screens). Read on each full page of the inbox, with the user when they signed in through
inbox.auth.backends.HelpdeskBackend (else one primary-key query); written by the density control."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from inbox.models import Preference

DENSITIES = tuple(Preference.Density.values)
DEFAULT_DENSITY = Preference.Density.COMFORTABLE.value
DENSITY_ANNOTATION = "inbox_density"  # set by inbox.auth.backends.HelpdeskBackend on request.user


def density_annotation() -> Subquery:
    """The user's (the outer query's row) chosen density, None if they never chose, as an annotation."""
    return Subquery(Preference.objects.filter(user=OuterRef("pk")).values("density")[:1])


def density_for(*, user) -> str:
    if not getattr(user, "is_authenticated", False):
        return DEFAULT_DENSITY
    if hasattr(user, DENSITY_ANNOTATION):  # read with the user, this request
        return getattr(user, DENSITY_ANNOTATION) or DEFAULT_DENSITY
    value = Preference.objects.filter(user=user).values_list("density", flat=True).first()
    return value or DEFAULT_DENSITY


def set_density(*, user, density: str) -> str:
    if density not in DENSITIES:
        raise ValueError(f"Unknown density {density!r}.")
    Preference.objects.update_or_create(user=user, defaults={"density": density})
    return density
