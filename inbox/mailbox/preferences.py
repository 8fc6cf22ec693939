"""A person's inbox preferences: the row density (comfortable: two lines; compact: one line at wide
screens). Read on each full page of the inbox (one primary-key query), written by the density control."""

from __future__ import annotations

from inbox.models import Preference

DENSITIES = tuple(Preference.Density.values)
DEFAULT_DENSITY = Preference.Density.COMFORTABLE.value


def density_for(*, user) -> str:
    if not getattr(user, "is_authenticated", False):
        return DEFAULT_DENSITY
    value = Preference.objects.filter(user=user).values_list("density", flat=True).first()
    return value or DEFAULT_DENSITY


def set_density(*, user, density: str) -> str:
    if density not in DENSITIES:
        raise ValueError(f"Unknown density {density!r}.")
    Preference.objects.update_or_create(user=user, defaults={"density": density})
    return density
