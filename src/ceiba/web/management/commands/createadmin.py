from __future__ import annotations

import getpass
import secrets
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ceiba.accounts import actions
from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.tenancy.models import Administration


class Command(BaseCommand):
    help = (
        "Create a platform administrator, or with --administration SLUG an administrator of that "
        "administration. The password is asked for, or generated and printed once with "
        "--generate-password. Two-factor enrollment happens at first sign-in."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--administration", metavar="SLUG", default=None)
        parser.add_argument("--generate-password", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        administration = None
        role = Role.PLATFORM_ADMIN
        if options["administration"]:
            administration = Administration.objects.filter(slug=options["administration"]).first()
            if administration is None:
                raise CommandError(f"no administration with slug {options['administration']!r}")
            role = Role.ADMIN
        if User.objects.filter(
            administration=administration, email__iexact=options["email"]
        ).exists():
            raise CommandError(f"an account {options['email']} exists already")
        if options["generate_password"]:
            password = secrets.token_urlsafe(15)
        else:
            if not sys.stdin.isatty():
                raise CommandError("no terminal to ask the password on: use --generate-password")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the two passwords differ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        user = actions.do_create_account(
            administration=administration,
            email=options["email"],
            password=password,
            role=role,
            full_name=options["name"],
            actor=None,
        )
        self.stdout.write(f"Created {user.get_role_display()} {user.email}.")
        if options["generate_password"]:
            self.stdout.write(f"Password (shown once): {password}")
