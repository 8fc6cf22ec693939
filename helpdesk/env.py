"""Reading the settings from the environment (12-factor): typed getters that fail at start.

An unset or empty variable gives the default; a value that cannot be read raises
``ImproperlyConfigured`` naming the variable and what it takes, so a typo stops the process at
start-up instead of running with a default nobody chose. ``helpdesk/settings.py`` is their caller.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """``HTTP_X_FORWARDED_PROTO`` or ``HTTP_X_FORWARDED_PROTO,https``: the header (as Django names
    it in ``request.META``) by which the proxy says the request came over HTTPS, and its value."""
    value = env_str(name)
    if value is None:
        return None
    header, _, expected = (part.strip() for part in value.partition(","))
    expected = expected or "https"
    rest = header.removeprefix("HTTP_")
    header_ok = rest != header and rest.isascii() and rest.isupper() and rest.replace("_", "").isalnum()
    if not header_ok or not expected.isprintable() or any(c.isspace() or c == "," for c in expected):
        hint = "HTTP_" + "".join(c if c.isalnum() else "_" for c in header.upper()).removeprefix("HTTP_")
        raise ImproperlyConfigured(
            f"{name} must be a request header as Django names it, optionally with the value that "
            f"means HTTPS (default https): e.g. {hint} or {hint},https; not {value!r}."
        )
    return header, expected
