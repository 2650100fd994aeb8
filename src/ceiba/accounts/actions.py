"""State changes of accounts: creation, two-factor enrollment, recovery codes, API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts.models import ApiToken, LegalEntity, User, hash_token
from ceiba.accounts.roles import Role
from ceiba.accounts.secondfactor import recovery_code_hash
from ceiba.soc.actions import record_security_event
from ceiba.soc.models import EventAction, EventCategory, EventOutcome
from ceiba.tenancy.models import Administration, Institution

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"


@transaction.atomic
def do_create_account(
    *,
    administration: Administration | None,
    email: str,
    password: str | None,
    role: str,
    full_name: str = "",
    institution: Institution | None = None,
    legal_entity: LegalEntity | None = None,
    national_id: str = "",
    actor: User | None,
) -> User:
    user = User.objects.create_user(
        email,
        password,
        administration=administration,
        role=role,
        full_name=full_name,
        institution=institution,
        legal_entity=legal_entity,
        national_id=national_id,
    )
    if actor is not None:
        record_security_event(
            category=EventCategory.IAM,
            action=EventAction.ADMIN_CHANGE,
            outcome=EventOutcome.SUCCESS,
            actor=actor,
            administration=administration,
            target=f"accounts.user:{user.pk}",
            details={"change": "created", "role": role},
        )
    return user


@transaction.atomic
def do_register_citizen(
    *,
    administration: Administration,
    email: str,
    password: str,
    full_name: str,
    language: str = "",
) -> User:
    """A person signs up as a citizen; the account is theirs, so they are its actor.

    No national identification number is taken here: a number anyone may type proves
    nothing, and services and the data-usage page trust it. It is set by identity proofing
    (an officer, an eID or the population registry), never self-declared.
    """
    user = User.objects.create_user(
        email,
        password,
        administration=administration,
        role=Role.CITIZEN,
        full_name=full_name,
        preferred_language=language,
    )
    record_security_event(
        category=EventCategory.IAM,
        action=EventAction.REGISTER,
        outcome=EventOutcome.SUCCESS,
        actor=user,
        administration=administration,
        target=f"accounts.user:{user.pk}",
    )
    return user


@transaction.atomic
def do_start_totp_enrollment(user: User, *, actor: User) -> TOTPDevice:
    """Return the user's unconfirmed authenticator, creating one (with a fresh secret) if needed."""
    TOTPDevice.objects.filter(user=user, confirmed=False).exclude(name=TOTP_DEVICE_NAME).delete()
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": TOTP_DEVICE_NAME}
    )
    return device


@transaction.atomic
def do_confirm_totp_enrollment(device: TOTPDevice, *, actor: User) -> list[str]:
    """Confirm the authenticator and issue fresh recovery codes (returned once, stored hashed).

    Confirming replaces any earlier authenticator, so a lost phone is retired by enrolling anew.
    """
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_security_event(
        category=EventCategory.AUTHENTICATION,
        action=EventAction.MFA_ENROLL,
        outcome=EventOutcome.SUCCESS,
        actor=actor,
    )
    return do_regenerate_recovery_codes(device.user, actor=actor)


def _recovery_code() -> str:
    raw = secrets.token_hex(5)
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def do_regenerate_recovery_codes(user: User, *, actor: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_code_hash(code)) for code in codes]
    )
    return codes


@transaction.atomic
def do_create_api_token(
    user: User, name: str, *, expires_at: datetime | None = None, actor: User
) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`; the clear token is returned once and stored hashed."""
    if user.administration is None or user.role == Role.PLATFORM_ADMIN:
        raise ValueError("API tokens belong to accounts of an administration")
    clear = ApiToken.generate()
    token = ApiToken.objects.create(
        administration=user.administration,
        user=user,
        name=name,
        token_hash=hash_token(clear),
        token_prefix=clear[:12],
        expires_at=expires_at,
    )
    record_security_event(
        category=EventCategory.IAM,
        action=EventAction.ADMIN_CHANGE,
        outcome=EventOutcome.SUCCESS,
        actor=actor,
        administration=user.administration,
        target=f"accounts.apitoken:{token.pk}",
        details={"change": "api token created", "name": name},
    )
    return token, clear


@transaction.atomic
def do_revoke_api_token(token: ApiToken, *, actor: User) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_security_event(
        category=EventCategory.IAM,
        action=EventAction.ADMIN_CHANGE,
        outcome=EventOutcome.SUCCESS,
        actor=actor,
        administration=token.administration,
        target=f"accounts.apitoken:{token.pk}",
        details={"change": "api token revoked", "name": token.name},
    )
