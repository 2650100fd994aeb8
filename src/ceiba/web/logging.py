from __future__ import annotations

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Put the current request id on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# Paths that carry a secret (password-reset links): the secret never reaches the logs.
SECRET_PATH = re.compile(r"(/password-reset/[^/\s]+/)[^/\s'\"]+/")


class RedactSecretsFilter(logging.Filter):
    """Mask secrets in URLs of every log line (Django logs 4xx/5xx paths on its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SECRET_PATH.search(message):
            record.msg = SECRET_PATH.sub(r"\1***/", message)
            record.args = ()
        if hasattr(record, "request"):
            record.request = SECRET_PATH.sub(r"\1***/", str(record.request))
        return True
