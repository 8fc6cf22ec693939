"""The health rules of a mail account: pure functions, no database, no clock of their own.

``assess(account, now=..., stats=...)`` reads an ``EmailAccount`` (or an ``EmailAccountRecord``,
or anything with the same attribute names) and says how it is doing, with every reason in plain
words. Thresholds come from the settings (``HEALTH_*``) unless a ``Thresholds`` is passed.

Every field may be null (the API's examples show nulls and zeros almost everywhere): a missing
value never raises, it either is a reason of its own ("no incoming server is set") or is skipped
when it says nothing (an unknown SSL flag is not called insecure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

from django.conf import settings

from inbox import clock, timefmt

IMAP = 1  # eEmailServerType: the only value Nexudus documents for IncomingServerType; 0 means unset


class Status(StrEnum):
    HEALTHY = "healthy"
    WARNING = "warning"
    FAILING = "failing"
    INACTIVE = "inactive"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        """Worst first: failing, warning, inactive (nobody is watching it), healthy."""
        return {"failing": 3, "warning": 2, "inactive": 1, "healthy": 0}[self.value]


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    FAILING = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # inactive, errors, stale, never_checked, insecure_incoming, ...
    text: str  # whole, its time written in the help desk's zone, named: for e-mails and the CSV
    severity: Severity
    at: datetime | None = None  # the instant the text names, as ``at_text``
    at_text: str = ""

    @property
    def around(self) -> tuple[str, str] | None:
        """The text before and after its time, for a page to write that time as a ``<time>``
        element, in the zone the page's other times are in; None if the text names no time."""
        if self.at is None or not self.at_text or self.at_text not in self.text:
            return None
        before, _, after = self.text.partition(self.at_text)
        return before, after


@dataclass(frozen=True, slots=True)
class Thresholds:
    error_failing: int  # more errors than this: failing
    stale_warning: timedelta  # last check older than this: warning
    stale_failing: timedelta  # ... older than this: failing
    silent: timedelta  # no incoming mail for this long, though there used to be some: warning
    # "Used to": at the rate of the ``silent_window`` before its last message, the account would
    # have received at least ``silent_expected`` messages during the silence (at 3, a silence
    # that long happens by chance about 5% of the time).
    silent_window: timedelta = timedelta(days=28)
    silent_expected: float = 3.0

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            error_failing=settings.HEALTH_ERROR_FAILING_THRESHOLD,
            stale_warning=timedelta(minutes=settings.HEALTH_STALE_WARNING_MINUTES),
            stale_failing=timedelta(minutes=settings.HEALTH_STALE_FAILING_MINUTES),
            silent=timedelta(days=settings.HEALTH_SILENT_DAYS),
            silent_window=timedelta(days=settings.HEALTH_SILENT_WINDOW_DAYS),
            silent_expected=settings.HEALTH_SILENT_EXPECTED,
        )


@dataclass(frozen=True, slots=True)
class Health:
    status: Status
    reasons: list[Reason] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return self.status in (Status.FAILING, Status.WARNING)

    @property
    def sort_key(self) -> tuple:
        """Ascending sort puts the worst first: status, then how bad and how many reasons."""
        worst = max((r.severity for r in self.reasons), default=Severity.INFO)
        return (-self.status.rank, -int(worst), -len(self.reasons))

    @property
    def summary(self) -> str:
        shown = [r.text for r in self.reasons if r.severity > Severity.INFO] or [
            r.text for r in self.reasons
        ]
        return "; ".join(shown) if shown else "no problems found"


def assess(account: Any, *, now: datetime, stats: Any = None, thresholds: Thresholds | None = None) -> Health:
    """Say how ``account`` is doing at ``now``.

    ``stats`` (optional) carries ``last_received_at`` (the newest incoming message of the account
    in the mirror) and ``received_before_silence`` (how many it received in the ``silent_window``
    up to that one; ``None`` if not counted). Without stats the "silent" rule is skipped.
    """
    t = thresholds or Thresholds.from_settings()
    reasons = [*_configuration(account), *_security(account)]
    if getattr(account, "active", None) is False:
        # Nobody checks an inactive account, so errors, staleness and silence mean nothing; its
        # configuration problems are still worth knowing before it is switched back on.
        inactive = Reason("inactive", "inactive: Nexudus does not check this account", Severity.INFO)
        return Health(Status.INACTIVE, [inactive, *(_as_info(r) for r in reasons)])
    reasons += [*_errors(account, t), *_staleness(account, now, t), *_silence(stats, now, t)]
    reasons.sort(key=lambda r: -int(r.severity))
    worst = max((r.severity for r in reasons), default=Severity.INFO)
    status = {Severity.FAILING: Status.FAILING, Severity.WARNING: Status.WARNING}.get(worst, Status.HEALTHY)
    return Health(status, reasons)


def _as_info(reason: Reason) -> Reason:
    return Reason(reason.code, reason.text, Severity.INFO)


def _configuration(account: Any) -> list[Reason]:
    reasons = []
    server = (getattr(account, "incoming_server", None) or "").strip()
    if not server:
        reasons.append(Reason("no_incoming_server", "no incoming server is set", Severity.FAILING))
    port = getattr(account, "incoming_server_port", None)
    if not port:
        reasons.append(Reason("no_incoming_port", f"the incoming port is {_port_text(port)}", Severity.FAILING))
    elif not 0 < port < 65536:
        reasons.append(Reason("bad_incoming_port", f"the incoming port {port} is not a valid port", Severity.FAILING))
    kind = getattr(account, "incoming_server_type", None)
    if kind in (None, 0):
        reasons.append(
            Reason("server_type_unset", "the incoming server type is not set (Nexudus checks IMAP only)", Severity.WARNING)
        )
    elif kind != IMAP:
        reasons.append(
            Reason(
                "unknown_server_type",
                f"unknown incoming server type {kind} (Nexudus checks IMAP, type 1, only)",
                Severity.FAILING,
            )
        )
    outgoing = (getattr(account, "outgoing_server", None) or "").strip()
    out_port = getattr(account, "outgoing_server_port", None)
    if outgoing and not (out_port and 0 < out_port < 65536):
        reasons.append(
            Reason("bad_outgoing_port", f"the outgoing port is {_port_text(out_port)}", Severity.WARNING)
        )
    return reasons


def _port_text(port: Any) -> str:
    return "not set" if port is None else str(port)


def _security(account: Any) -> list[Reason]:
    reasons = []
    if getattr(account, "incoming_server_ssl", None) is False:
        reasons.append(Reason("insecure_incoming", "SSL is off for incoming mail", Severity.WARNING))
    outgoing = (getattr(account, "outgoing_server", None) or "").strip()
    if outgoing and getattr(account, "outgoing_server_ssl", None) is False:
        reasons.append(Reason("insecure_outgoing", "SSL is off for outgoing mail", Severity.WARNING))
    return reasons


def _errors(account: Any, t: Thresholds) -> list[Reason]:
    count = getattr(account, "error_count", None) or 0
    if count <= 0:
        return []
    # Nexudus counts the errors since its last successful check; with none yet, since it began.
    since = "since the last successful check" if getattr(account, "last_check_time", None) else "and no successful check yet"
    text = f"{count} error{'s' if count != 1 else ''} {since}"
    if count > t.error_failing:
        return [Reason("errors", f"{text} (more than {t.error_failing})", Severity.FAILING)]
    return [Reason("errors", text, Severity.WARNING)]


def _staleness(account: Any, now: datetime, t: Thresholds) -> list[Reason]:
    checked = getattr(account, "last_check_time", None)
    if checked is None:
        created = getattr(account, "created_on", None)
        if created is not None and now - created > t.stale_failing:
            text = f"never checked, though it was added {ago(now - created)} ago"
            return [Reason("never_checked", text, Severity.FAILING)]
        return [Reason("never_checked", "never checked by Nexudus", Severity.WARNING)]
    age = now - checked
    if age <= t.stale_warning:
        return []
    at = exact(checked, now)
    text = f"last checked {ago(age)} ago (at {at}); Nexudus checks every 15 minutes"
    severity = Severity.FAILING if age > t.stale_failing else Severity.WARNING
    return [Reason("stale", text, severity, checked, at)]


def _silence(stats: Any, now: datetime, t: Thresholds) -> list[Reason]:
    last = getattr(stats, "last_received_at", None) if stats is not None else None
    if last is None or now - last <= t.silent:
        return []  # never received anything (nothing to miss), or received recently
    silence = now - last
    before = getattr(stats, "received_before_silence", None)
    if before is None:
        usual = "though it used to"
    else:
        if before * (silence / t.silent_window) < t.silent_expected:
            return []  # too little mail before for this silence to mean anything
        weeks = round(t.silent_window / timedelta(weeks=1))
        usual = f"though it received {before} in the {weeks} weeks before"
    at = exact(last, now)
    text = f"received nothing for {ago(silence)} (last message {at}), {usual}"
    return [Reason("silent", text, Severity.WARNING, last, at)]


def ago(delta: timedelta) -> str:
    """A duration in the largest whole unit: "45 minutes", "3 hours", "12 days"."""
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def exact(value: datetime, now: datetime) -> str:
    """The time of day if it is today, else the date too, in the help desk's time zone, named: text
    read later or elsewhere (a reason, an alert e-mail). Written by :mod:`inbox.timefmt`'s rules
    ("9:05", "1 May", "31 Dec 2024"), the one way the help desk writes a time."""
    zone = clock.zone()
    local, today = value.astimezone(zone), now.astimezone(zone)
    when = timefmt.time_of_day(value, zone)
    if local.year != today.year:
        when = f"{timefmt.day(value, zone)} {when}"
    elif local.date() != today.date():
        when = f"{local.day} {timefmt.MONTHS[local.month - 1]} {when}"
    return f"{when} {local.tzname() or ''}".strip()
