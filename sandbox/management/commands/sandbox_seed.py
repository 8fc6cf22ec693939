"""``python manage.py sandbox_seed``: fill the stand-in Nexudus with generated data."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import services


class Command(BaseCommand):
    help = "Generate the sandbox's locations, mail accounts, customers and messages (replaces what is there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=5000, help="messages to generate (default 5000)")
        parser.add_argument("--accounts", type=int, default=16, help="mail accounts (default 16; 13+ covers every health state)")
        parser.add_argument("--customers", type=int, default=300, help="customers (default 300)")
        parser.add_argument("--seed", type=int, default=42, help="random seed: the same seed gives the same data")
        parser.add_argument("--reset", action="store_true", help="also clear issued tokens and fault settings")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the sandbox already has data")

    def handle(self, *args, messages: int, accounts: int, customers: int, seed: int, reset: bool, if_empty: bool, **options) -> None:
        for name, value in (("--messages", messages), ("--accounts", accounts), ("--customers", customers)):
            if value < 0:
                raise CommandError(f"{name} cannot be negative.")
        if messages and not customers:
            raise CommandError("Messages need customers: give --customers 1 or more.")
        if if_empty and not services.is_empty():
            self.stdout.write("The sandbox already has data; nothing generated (--if-empty).")
            return
        if reset:
            services.reset()
        started = time.perf_counter()
        summary = services.seed(accounts=accounts, customers=customers, messages=messages, seed=seed)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Sandbox seeded in {elapsed:.1f}s: {summary}."))
