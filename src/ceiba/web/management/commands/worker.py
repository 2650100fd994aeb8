from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run background jobs (huey consumer). Start as many as you need, on any host."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="worker threads or processes")
        parser.add_argument(
            "--processes", action="store_true", help="use processes instead of threads"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "run_huey",
            workers=options["workers"],
            worker_type="process" if options["processes"] else "thread",
        )
