from __future__ import annotations

import atexit
import os
import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serve the platform. Without --prod: Django's development server, with a background-job "
        "worker process started alongside. With --prod: gunicorn with N workers and static "
        "files via WhiteNoise (run `ceiba worker` separately)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument("--prod", action="store_true", help="serve with gunicorn")
        parser.add_argument(
            "--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1, help="gunicorn workers"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="development: do not start a background-job worker alongside",
        )
        parser.add_argument("--reload", action="store_true", help="development: reload on changes")
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="production: static files were collected already (ceiba collectstatic)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bind = f"{options['host']}:{options['port']}"
        if options["prod"]:
            if not options["no_collectstatic"]:
                call_command("collectstatic", interactive=False, verbosity=0)
            argv = [
                sys.executable,
                "-m",
                "gunicorn",
                "ceiba.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(max(1, options["workers"])),
                # Load the application once, before forking: workers start warm and share
                # memory. Access lines come from RequestIdMiddleware (JSON, request id).
                "--preload",
                "--forwarded-allow-ips",
                os.environ.get("CEIBA_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            ]
            os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
        if not options["no_worker"]:
            start_worker_process()
        call_command("runserver", bind, use_reloader=options["reload"], use_threading=True)


def start_worker_process() -> subprocess.Popen[bytes] | None:
    """Run `ceiba worker` next to the development server; stopped when the server stops.

    A separate process, exactly as in production: it discovers every app's tasks, handles
    signals, and runs the periodic jobs.
    """
    if getattr(settings, "HUEY", {}).get("immediate") or os.environ.get("RUN_MAIN") == "true":
        return None
    worker = subprocess.Popen([sys.executable, "-m", "ceiba.cli", "worker", "--workers", "1"])
    atexit.register(_stop, worker)
    return worker


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
