"""Checking a second-factor code: an authenticator (TOTP) code or a single-use recovery code.

Recovery codes are stored as keyed hashes (HMAC-SHA256 with the secret key, truncated to
django-otp's 16-character token field), so a copy of the database gives no working codes.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts.models import User

_TOTP = re.compile(r"^\d{6,8}$")


def recovery_code_hash(code: str) -> str:
    normalized = code.strip().lower().replace(" ", "").replace("-", "")
    digest = hmac.new(settings.SECRET_KEY.encode(), normalized.encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def verify_second_factor(user: User, code: str) -> Device | None:
    """The device that accepts `code` (consuming a recovery code), or None.

    A six-digit code is tried on authenticators only and anything else on recovery codes only,
    so a mistyped recovery code does not count as a failed authenticator attempt.
    """
    code = code.strip().replace(" ", "")
    if _TOTP.match(code):
        for totp in TOTPDevice.objects.filter(user=user, confirmed=True):
            if totp.verify_is_allowed()[0] and totp.verify_token(code):
                return totp
        return None
    hashed = recovery_code_hash(code)
    for static in StaticDevice.objects.filter(user=user, confirmed=True):
        if static.verify_is_allowed()[0] and static.verify_token(hashed):
            return static
    return None
