"""``python manage.py export_messages [filters] > messages.csv``: the inbox export, from a shell.

The same filters as the inbox and ``/export.csv`` (checked by the same form), the same selector,
the same CSV. For very large or scheduled exports: the CSV goes to stdout (or ``-o FILE``, written
to ``FILE.part`` and renamed when complete, so a scheduled job never leaves half a file behind),
a progress bar to stderr.
"""

from __future__ import annotations

import os
import sys
from contextlib import closing
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inbox.exports.messages import filter_form, message_csv, message_values, plain_error


class Command(BaseCommand):
    help = "Write the inbox's messages as CSV (the same filters and columns as /export.csv)."

    def add_arguments(self, parser):
        parser.add_argument("--unread", action="store_true", help="Only unread messages.")
        parser.add_argument("--direction", metavar="incoming|outgoing", help="Received or sent messages only.")
        parser.add_argument(
            "--account", metavar="ID|none", help="One mail account's messages ('none': the location's default settings)."
        )
        parser.add_argument("--customer", metavar="ID", help="One customer's messages (their CoworkerId).")
        parser.add_argument("--q", metavar="TEXT", help="Messages containing these words.")
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="Created on or after this day.")
        parser.add_argument("--until", metavar="YYYY-MM-DD", help="Created on or before this day.")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Whose read marks decide Unread (the inbox as this person sees it). "
            "Default: Nexudus's own unread flag (IsNewMessage) only.",
        )
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args, **options):
        form = filter_form(self.filter_params(options))
        if not form.is_valid():
            raise CommandError(_error_text(form))
        filters = form.filters
        user = self.exporting_user(options["user"])
        show_progress = options["verbosity"] > 0
        total = message_values(user=user, filters=filters).count() if show_progress else None
        err = getattr(self.stderr, "_out", sys.stderr)  # tqdm redraws with "\r": the raw stream
        with tqdm(total=total, unit=" rows", file=err, disable=not show_progress) as bar:
            chunks = message_csv(user=user, filters=filters, progress=bar.update)
            try:
                with closing(chunks):
                    written = self.write(chunks, options["output"])
            except BrokenPipeError:
                # `export_messages | head`: the reader has all it wants, which is not an error.
                # Point stdout at /dev/null so the interpreter's final flush stays quiet too
                # (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
        if show_progress:
            where = options["output"] or "stdout"
            err.write(f"Exported {bar.n} messages ({written:,} bytes) to {where}.\n")

    @staticmethod
    def filter_params(options) -> dict[str, str]:
        params = {name: options[name] for name in ("direction", "account", "customer", "q", "since", "until")}
        params = {name: value for name, value in params.items() if value is not None}
        if options["unread"]:
            params["unread"] = "1"
        return params

    @staticmethod
    def exporting_user(username: str | None):
        if username is None:
            # No person: nobody's marks apply, so Unread is Nexudus's IsNewMessage (the selector
            # matches marks by user id, and an anonymous user has none).
            return AnonymousUser()
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--user: there is no user named {username!r}.") from None

    def write(self, chunks, output: str | None) -> int:
        written = 0
        if output is None:
            stream = getattr(self.stdout, "_out", self.stdout)
            binary = getattr(stream, "buffer", None)
            for chunk in chunks:
                if binary is not None:
                    binary.write(chunk)
                else:  # a text stream (e.g. call_command(stdout=StringIO()))
                    stream.write(chunk.decode("utf-8"))
                written += len(chunk)
            (binary or stream).flush()
            return written
        path = Path(output)
        partial = path.with_name(path.name + ".part")
        try:
            file = open(partial, "wb")
        except OSError as exc:
            raise CommandError(f"--output: cannot write {output}: {exc.strerror}.") from None
        try:
            with file:
                for chunk in chunks:
                    file.write(chunk)
                    written += len(chunk)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return written


def _error_text(form) -> str:
    lines = []
    for name, errors in form.errors.items():
        for error in errors:
            lines.append(f"--{name}: {plain_error(error)}")
    return "Invalid filter. " + " ".join(lines)
