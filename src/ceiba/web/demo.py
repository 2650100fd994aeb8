"""The demo administration, "République de Démo": what `ceiba demo` loads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts import actions as account_actions
from ceiba.accounts.models import LegalEntity, User
from ceiba.accounts.roles import STAFF_ROLES, Role
from ceiba.tenancy.models import Administration, Institution, InstitutionKind

DEMO_SLUG = "demo"
DEMO_NAMES = {"fr": "République de Démo", "es": "República de Demo", "en": "Republic of Demo"}

INSTITUTIONS = [
    (
        "70000001",
        InstitutionKind.REGISTRY,
        "civil-registry",
        {
            "fr": "Direction de l'état civil",
            "es": "Dirección del Registro Civil",
            "en": "Civil Registry Office",
        },
    ),
    (
        "70000002",
        InstitutionKind.REGISTRY,
        "commerce",
        {
            "fr": "Registre du commerce et des sociétés",
            "es": "Registro Mercantil",
            "en": "Commerce and Companies Registry",
        },
    ),
    (
        "70000003",
        InstitutionKind.MINISTRY,
        "education",
        {
            "fr": "Ministère de l'Éducation nationale",
            "es": "Ministerio de Educación Nacional",
            "en": "Ministry of National Education",
        },
    ),
    (
        "70000004",
        InstitutionKind.MINISTRY,
        "agriculture",
        {
            "fr": "Ministère de l'Agriculture",
            "es": "Ministerio de Agricultura",
            "en": "Ministry of Agriculture",
        },
    ),
    (
        "70000005",
        InstitutionKind.AGENCY,
        "tax",
        {
            "fr": "Direction générale des impôts",
            "es": "Dirección General de Impuestos",
            "en": "General Tax Directorate",
        },
    ),
]

# (role, e-mail, full name, institution member code or None)
USERS = [
    (Role.CITIZEN, "citoyen@demo.example", "Amina Citoyenne", None),
    (Role.BUSINESS_REP, "entreprise@demo.example", "Jean Entrepreneur", None),
    (Role.OFFICER, "agent@demo.example", "Paul Agent", "70000001"),
    (Role.SUPERVISOR, "superviseur@demo.example", "Marie Superviseure", "70000001"),
    (Role.SOC_ANALYST, "soc@demo.example", "Idriss Analyste", None),
    (Role.ADMIN, "admin@demo.example", "Fatou Administratrice", None),
    (Role.PLATFORM_ADMIN, "plateforme@demo.example", "Ops Plateforme", None),
]


@dataclass
class DemoCredential:
    role: str
    email: str
    password: str
    totp_secret: str | None
    totp_uri: str | None


@dataclass
class DemoResult:
    administration: Administration
    created: bool
    credentials: list[DemoCredential]
    certificate_path: str | None = None


def _set_credentials(user: User) -> DemoCredential:
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.save(update_fields=["password"])
    secret = uri = None
    if user.role in STAFF_ROLES:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        from base64 import b32encode

        secret = b32encode(device.bin_key).decode()
        uri = device.config_url
    return DemoCredential(user.role, user.email, password, secret, uri)


@transaction.atomic
def load_demo(*, reset_passwords: bool = False) -> DemoResult:
    """Create the demo administration if absent (idempotent); credentials only for new accounts."""
    administration, created = Administration.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={
            "names": DEMO_NAMES,
            "default_language": "fr",
            "time_zone": "Africa/Douala",
            "currency": "XAF",
        },
    )
    institutions = {}
    for code, kind, sector, names in INSTITUTIONS:
        institution, _ = Institution.objects.get_or_create(
            administration=administration,
            member_class="GOV",
            member_code=code,
            defaults={"names": names, "kind": kind, "sector": sector},
        )
        institutions[code] = institution
    entity, _ = LegalEntity.objects.get_or_create(
        administration=administration,
        registration_number="RCCM-DEMO-2026-B-0001",
        defaults={"name": "Coopérative Démo SARL"},
    )
    credentials = []
    for role, email, full_name, institution_code in USERS:
        tenant = None if role == Role.PLATFORM_ADMIN else administration
        user = User.objects.filter(administration=tenant, email=email).first()
        if user is None:
            user = account_actions.do_create_account(
                administration=tenant,
                email=email,
                password=None,
                role=role,
                full_name=full_name,
                institution=institutions[institution_code] if institution_code else None,
                legal_entity=entity if role == Role.BUSINESS_REP else None,
                national_id="DEMO-1990-000123" if role == Role.CITIZEN else "",
                actor=None,
            )
            credentials.append(_set_credentials(user))
        elif reset_passwords:
            credentials.append(_set_credentials(user))
    _load_packs(administration)
    from ceiba.documents.demo import issue_demo_certificate

    certificate = issue_demo_certificate(administration)
    return DemoResult(
        administration, created, credentials, certificate.pdf.path if certificate else None
    )


def _load_packs(administration: Administration) -> None:
    """Load the service definitions shipped in packs/ (a no-op for unchanged ones)."""
    from ceiba.catalog.actions import PACKS_DIR, do_load_service_definitions

    if PACKS_DIR.is_dir():
        do_load_service_definitions([PACKS_DIR], administration=administration, actor=None)
