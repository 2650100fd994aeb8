from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ceiba.accounts import actions
from ceiba.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = (
        "Create, list or revoke API tokens of client systems. A token acts as its account, on "
        "that account's administration only; the secret is printed once and stored hashed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for an account")
        create.add_argument("--administration", metavar="SLUG", required=True)
        create.add_argument("--email", required=True, help="the account the token acts as")
        create.add_argument("--name", required=True, help="what the token is for")
        listing = sub.add_parser("list", help="list the tokens of an administration")
        listing.add_argument("--administration", metavar="SLUG", required=True)
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix", help="the first 12 characters, as listed")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            user = User.objects.filter(
                administration__slug=options["administration"], email__iexact=options["email"]
            ).first()
            if user is None:
                raise CommandError("no such account on that administration")
            token, clear = actions.do_create_api_token(user, options["name"], actor=user)
            self.stdout.write(f"Token {token.token_prefix}… for {user.email} (shown once):")
            self.stdout.write(clear)
        elif options["action"] == "list":
            for token in ApiToken.objects.filter(
                administration__slug=options["administration"]
            ).select_related("user"):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.token_prefix}  {state:<8} {token.user.email:<30} {token.name}"
                )
        else:
            found = ApiToken.objects.filter(token_prefix=options["prefix"]).first()
            if found is None:
                raise CommandError("no token with that prefix")
            actions.do_revoke_api_token(found, actor=found.user)
            self.stdout.write(f"Revoked {found.token_prefix}….")
