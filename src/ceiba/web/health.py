"""Readiness checks. Each returns "ok" or a short reason that is safe to show publicly."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)


def check_database(connection: BaseDatabaseWrapper) -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        return "unreachable"
    return "ok"


def check_queue() -> str:
    from huey.contrib.djhuey import HUEY

    try:
        HUEY.storage.queue_size()
    except Exception as exc:  # any storage failure means the queue is not usable
        logger.warning("readiness: job queue unreachable: %s", exc.__class__.__name__)
        return "unreachable"
    return "ok"
