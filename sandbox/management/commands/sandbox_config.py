"""``python manage.py sandbox_config``: show or change the stand-in Nexudus's knobs (``sandbox.models.Config``)."""

from __future__ import annotations

import argparse

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import services
from sandbox.models import Config

# Config field -> command-line option. A test checks that every field of Config has one.
OPTIONS = {
    "failure_rate": "--failure-rate",
    "throttle_rate": "--throttle-rate",
    "truncate_rate": "--truncate-rate",
    "latency_ms": "--latency-ms",
    "rate_per_second": "--rate-per-second",
    "token_expires_in": "--token-expires-in",
    "refresh_expires_in": "--refresh-expires-in",
    "require_two_factor": "--require-two-factor",
    "dir_convention": "--dir-convention",
    "sort_direction_echo": "--sort-direction-echo",
    "businesses_denied_status": "--businesses-denied-status",
}
UNSET = object()  # the default of every knob option: "not given" (None is a value for some)


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number between 0 and 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a number between 0 and 1, not {text!r}")
    return value


def whole(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{minimum} or more, not {text!r}")
        return value

    return parse


def rate(text: str) -> int | None:
    return None if text.lower() == "default" else whole(1)(text)


def denied_status(text: str) -> int | None:
    if text.lower() == "none":
        return None
    allowed = [status for status, _ in Config.DENIED_STATUSES]
    if text not in {str(status) for status in allowed}:
        raise argparse.ArgumentTypeError(f"one of {', '.join(map(str, allowed))} or none, not {text!r}")
    return int(text)


class Command(BaseCommand):
    help = (
        "Show the sandbox's knobs, or change those given (the others keep their values). Every web "
        "process and worker reads them from the sandbox database, so a change applies at once. "
        "Knobs: faults (--failure-rate, --truncate-rate, --latency-ms), throttling "
        "(--rate-per-second, --throttle-rate), tokens (--token-expires-in, --refresh-expires-in, "
        "--[no-]require-two-factor), the meaning of dir (--dir-convention), how CurrentSortDirection "
        "is echoed (--sort-direction-echo), and refusing /api/sys/businesses (--businesses-denied-status). "
        "--defaults puts every knob back to its default first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.set_defaults(**{option.removeprefix("--").replace("-", "_"): UNSET for option in OPTIONS.values()})
        parser.add_argument(
            "--defaults", action="store_true", help="every knob back to its default, before the options given apply"
        )
        parser.add_argument(
            "--failure-rate", type=share, metavar="SHARE",
            help="share of API answers (0 to 1) that fail with 500, 502 or 503 at random (default 0)",
        )
        parser.add_argument(
            "--throttle-rate", type=share, metavar="SHARE",
            help="share of API answers (0 to 1) throttled with 409 and Retry-After at random (default 0)",
        )
        parser.add_argument(
            "--truncate-rate", type=share, metavar="SHARE",
            help="share of 200 API answers (0 to 1) whose JSON is cut in half (default 0)",
        )
        parser.add_argument(
            "--latency-ms", type=whole(0), metavar="MS", help="milliseconds added to every API answer (default 0)"
        )
        parser.add_argument(
            "--rate-per-second", type=rate, metavar="N|default",
            help="requests a second before the API answers 409 with Retry-After; 'default' uses the "
            "SANDBOX_RATE_PER_SECOND setting",
        )
        parser.add_argument(
            "--token-expires-in", type=whole(0), metavar="SECONDS",
            help="lifetime of an access token (default 604799, as the REST docs show)",
        )
        parser.add_argument(
            "--refresh-expires-in", type=whole(0), metavar="SECONDS",
            help="lifetime of a refresh token (default 1296000, 15 days)",
        )
        parser.add_argument(
            "--require-two-factor", action=argparse.BooleanOptionalAction, default=UNSET,
            help="the main sandbox user must also send a TOTP to get a token (default: no)",
        )
        parser.add_argument(
            "--dir-convention", choices=[value for value, _ in Config.DIR_CONVENTIONS],
            help="what dir means on the list endpoints: 'developers' (default; developers.nexudus.com: 1 or 0 "
            "ascending, -1 descending) or 'learn' (learn.nexudus.com: 0 ascending, 1 descending, -1 is a 400); "
            "with no dir both sort ascending",
        )
        parser.add_argument(
            "--sort-direction-echo", choices=[value for value, _ in Config.SORT_DIRECTION_ECHOES],
            help="how the list envelope echoes CurrentSortDirection: 'integer' (default; dir as received, or the "
            "convention's ascending integer when none was sent), 'word' (Ascending/Descending) or 'omit' (no key)",
        )
        parser.add_argument(
            "--businesses-denied-status", type=denied_status, metavar="401|403|404|none",
            help="/api/sys/businesses (list and get-one) answers this status, as to an API user without the "
            "Business-List role; 'none' (default) serves it",
        )

    def handle(self, *args, defaults: bool, **options) -> None:
        changes = {}
        if defaults:
            changes = {field.name: field.get_default() for field in knobs()}
        for name, option in OPTIONS.items():
            value = options.get(option.removeprefix("--").replace("-", "_"), UNSET)
            if value is not UNSET:
                changes[name] = value
        if changes:
            try:
                services.configure(**changes)
            except (ValidationError, ValueError) as error:
                raise CommandError(f"Sandbox settings not changed: {error}") from None
        config = Config.current()
        width = max(len(name) for name in OPTIONS)
        for name in OPTIONS:
            self.stdout.write(f"{name.ljust(width)}  {getattr(config, name)!r}")


def knobs():
    return [field for field in Config._meta.concrete_fields if not field.primary_key]
