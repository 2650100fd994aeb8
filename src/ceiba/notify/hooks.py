"""SMS gateways. Choose one with the ``CEIBA_SMS_GATEWAY`` setting (a dotted class path).

A gateway is a class with ``send(self, to: str, text: str) -> str`` returning the provider's
message id; it raises :class:`SmsError` when the message was not accepted (the outbox retries).
The default, :class:`FileSmsGateway`, appends one JSON line per message to ``var/sms/outbox.jsonl``
so that a demo or a test sees what would have been sent.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

DEFAULT_GATEWAY = "ceiba.notify.hooks.FileSmsGateway"


class SmsError(Exception):
    """The gateway did not accept the message."""


class SmsGateway(Protocol):
    def send(self, to: str, text: str) -> str: ...


class FileSmsGateway:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or Path(settings.VAR_DIR) / "sms"

    def send(self, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"id": message_id, "to": to, "text": text, "at": timezone.now().isoformat()},
            ensure_ascii=False,
        )
        with (self.directory / "outbox.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return message_id


def sms_gateway() -> SmsGateway:
    path = getattr(settings, "CEIBA_SMS_GATEWAY", DEFAULT_GATEWAY)
    gateway: SmsGateway = import_string(path)()
    return gateway
