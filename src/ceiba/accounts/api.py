from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from ceiba.accounts.models import User

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    administration: str | None
    institution: str | None


@router.get("/me", response=MeOut, summary="The signed-in account")
def me(request: HttpRequest) -> MeOut:
    user: User = request.user  # type: ignore[assignment]
    return MeOut(
        id=user.pk,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        administration=user.administration.slug if user.administration else None,
        institution=user.institution.member_id if user.institution else None,
    )
