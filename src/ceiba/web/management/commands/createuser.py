from __future__ import annotations

import secrets
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ceiba.accounts import actions
from ceiba.accounts.models import LegalEntity, User
from ceiba.accounts.roles import INSTITUTION_ROLES, Role
from ceiba.tenancy.models import Administration
from ceiba.tenancy.queries import institution_by_member


class Command(BaseCommand):
    help = (
        "Create an account of any role on an administration: officers and supervisors with "
        "--institution CLASS/CODE, business representatives with --legal-entity NUMBER. The "
        "password is generated and printed once; staff enroll two-factor at first sign-in."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--role", required=True, choices=[r.value for r in Role if r != Role.PLATFORM_ADMIN]
        )
        parser.add_argument("--administration", metavar="SLUG", required=True)
        parser.add_argument("--institution", metavar="CLASS/CODE", default=None)
        parser.add_argument("--legal-entity", metavar="REGISTRATION_NUMBER", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        administration = Administration.objects.filter(slug=options["administration"]).first()
        if administration is None:
            raise CommandError(f"no administration with slug {options['administration']!r}")
        role = options["role"]
        institution = None
        if role in INSTITUTION_ROLES:
            if not options["institution"]:
                raise CommandError(f"a {role} needs --institution CLASS/CODE (e.g. GOV/70000001)")
            institution = institution_by_member(administration, options["institution"])
            if institution is None:
                raise CommandError(f"no institution {options['institution']} here")
        legal_entity = None
        if role == Role.BUSINESS_REP:
            legal_entity = LegalEntity.objects.filter(
                administration=administration, registration_number=options["legal_entity"] or ""
            ).first()
            if legal_entity is None:
                raise CommandError("a business representative needs --legal-entity NUMBER")
        if User.objects.filter(
            administration=administration, email__iexact=options["email"]
        ).exists():
            raise CommandError(f"an account {options['email']} exists already")
        password = secrets.token_urlsafe(15)
        try:
            user = actions.do_create_account(
                administration=administration,
                email=options["email"],
                password=password,
                role=role,
                full_name=options["name"],
                institution=institution,
                legal_entity=legal_entity,
                actor=None,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created {user.get_role_display()} {user.email}.")
        self.stdout.write(f"Password (shown once): {password}")
