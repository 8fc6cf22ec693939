"""``python manage.py sandbox_live``: keep the sandbox moving (new mail, changing account health)."""

from __future__ import annotations

import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from sandbox import live


class Command(BaseCommand):
    help = "Every SANDBOX_LIVE_INTERVAL seconds add new messages and change mail-account health, until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=None, help="seconds between ticks (default: SANDBOX_LIVE_INTERVAL)")
        parser.add_argument("--ticks", type=int, default=0, help="stop after this many ticks (default: run until interrupted)")
        parser.add_argument("--seed", type=int, default=None, help="random seed (default: unpredictable)")

    def handle(self, *args, interval: float | None, ticks: int, seed: int | None, **options) -> None:
        """One line per tick at verbosity 2 and more; at 1 only the failures (the run command's
        console shows a line per sync run, not one every few seconds)."""
        verbosity = options.get("verbosity", 1)
        interval = settings.SANDBOX_LIVE_INTERVAL if interval is None else interval
        rng = random.Random(seed)
        done = 0
        if verbosity >= 1:
            self.stdout.write(f"Sandbox live mode: a tick every {interval:g}s (Ctrl+C stops).")
        try:
            while not ticks or done < ticks:
                try:
                    line = live.tick(rng)
                    shown = verbosity >= 2
                except Exception as error:  # a locked database must not end the demo
                    line = f"tick failed: {error.__class__.__name__}: {error}"
                    shown = verbosity >= 1
                if shown:
                    self.stdout.write(f"{timezone.now():%H:%M:%S} {line}")
                    self.stdout.flush()
                done += 1
                if not ticks or done < ticks:
                    time.sleep(interval)
        except KeyboardInterrupt:
            if verbosity >= 1:
                self.stdout.write("Sandbox live mode stopped.")
