"""The transparency log's API: public, read-only proofs and checkpoints (no login), witness
cosignature submission, and the citizen's GovStack "my personal data usage" endpoint.

Hashes travel in standard base64, as in C2SP checkpoints. Malformed requests (size 0, an index
outside the tree, a second size below the first, a size beyond the current tree) get 400
problem+json with a stable ``code`` and the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from ceiba.accounts.models import User
from ceiba.accounts.roles import PUBLIC_ROLES
from ceiba.ledger import actions, queries
from ceiba.ledger.errors import LedgerError, LedgerErrorCode
from ceiba.tenancy.models import Administration

public_router = Router(tags=["ledger"], auth=None)
router = Router(tags=["ledger"])

_STATUS = {
    LedgerErrorCode.NO_LOG: 404,
    LedgerErrorCode.NO_CHECKPOINT: 404,
    LedgerErrorCode.ENTRY_NOT_FOUND: 404,
    LedgerErrorCode.KEY_MISSING: 404,
    LedgerErrorCode.WRONG_ADMINISTRATION: 404,
}


def problem_for(request: HttpRequest, error: LedgerError) -> HttpResponse:
    from ceiba.api import problem

    return problem(request, _STATUS.get(error.code, 400), error.code.value, error.message)


def _administration(request: HttpRequest) -> Administration:
    administration = getattr(request, "administration", None)
    if administration is None:
        raise LedgerError(LedgerErrorCode.NO_LOG, _("No administration is served on this host."))
    return administration


def plain(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


# --- public --------------------------------------------------------------------------------


def checkpoint_text(request: HttpRequest) -> HttpResponse:
    try:
        checkpoint = queries.latest_checkpoint(_administration(request))
    except LedgerError as exc:
        return problem_for(request, exc)
    return plain(queries.published_note(checkpoint))


def vkey_text(request: HttpRequest) -> HttpResponse:
    try:
        log = queries.require_log(_administration(request))
    except LedgerError as exc:
        return problem_for(request, exc)
    if not log.vkey:
        return problem_for(
            request, LedgerError(LedgerErrorCode.KEY_MISSING, "the log has no signing key yet")
        )
    return plain(log.vkey + "\n")


@public_router.get("/checkpoint", summary="Latest signed checkpoint (C2SP tlog-checkpoint)")
def latest_checkpoint(request: HttpRequest) -> HttpResponse:
    return checkpoint_text(request)


@public_router.get("/vkey", summary="The log's verifier key (C2SP signed-note vkey)")
def vkey(request: HttpRequest) -> HttpResponse:
    return vkey_text(request)


class CheckpointOut(Schema):
    size: int
    root_hash: str
    created_at: datetime
    note: str


@public_router.get("/checkpoints", response=list[CheckpointOut], summary="Checkpoint history")
def checkpoint_history(request: HttpRequest, start: str = "0", limit: str = "100") -> Any:
    try:
        first = queries.parse_integer("start", start)
        count = queries.parse_integer("limit", limit)
        if not 1 <= count <= queries.MAX_PAGE:
            raise LedgerError(
                LedgerErrorCode.INDEX_OUT_OF_RANGE,
                f"limit must be between 1 and {queries.MAX_PAGE}",
            )
        rows = queries.checkpoints(_administration(request)).filter(size__gte=first)[:count]
    except LedgerError as exc:
        return problem_for(request, exc)
    return [
        {
            "size": row.size,
            "root_hash": queries.b64(bytes(row.root_hash)),
            "created_at": row.created_at,
            "note": queries.published_note(row),
        }
        for row in rows
    ]


class EntryOut(Schema):
    index: int
    leaf_hash: str
    entry: str | None = Field(
        description="The exact entry bytes; null for a version 1 entry withheld from the public "
        "because it carries a case or document identifier in clear (its leaf hash still "
        "places it in the tree)."
    )


def _entry_out(entry: queries.PublicEntry) -> dict[str, Any]:
    return {
        "index": entry.index,
        "leaf_hash": queries.b64(entry.leaf_hash),
        "entry": entry.entry.decode("utf-8") if entry.entry is not None else None,
    }


@public_router.get("/entries", response=list[EntryOut], summary="Integrated entries, in tree order")
def entries(request: HttpRequest, start: str = "0", limit: str = "100") -> Any:
    try:
        rows = queries.entries_from(
            _administration(request),
            queries.parse_integer("start", start),
            queries.parse_integer("limit", limit),
        )
    except LedgerError as exc:
        return problem_for(request, exc)
    return [_entry_out(row) for row in rows]


@public_router.get("/entries/{index}", response=EntryOut, summary="One entry by its index")
def entry(request: HttpRequest, index: str) -> Any:
    try:
        row = queries.entry_at(_administration(request), queries.parse_integer("index", index))
    except LedgerError as exc:
        return problem_for(request, exc)
    return _entry_out(row)


class InclusionProofOut(Schema):
    index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


@public_router.get(
    "/proofs/inclusion",
    response=InclusionProofOut,
    url_name="ledger_inclusion_proof",
    summary="Inclusion proof (RFC 9162 §2.1.3) of an entry, by index or leaf hash",
)
def inclusion_proof(request: HttpRequest, index: str = "", hash: str = "", size: str = "") -> Any:
    try:
        administration = _administration(request)
        if bool(index) == bool(hash):
            raise LedgerError(
                LedgerErrorCode.INDEX_OUT_OF_RANGE, "give exactly one of index or hash"
            )
        proof = queries.inclusion_proof(
            administration,
            index=queries.parse_integer("index", index) if index else None,
            leaf_hash=queries.parse_hash(hash) if hash else None,
            size=queries.parse_integer("size", size) if size else None,
        )
    except LedgerError as exc:
        return problem_for(request, exc)
    return {
        "index": proof.index,
        "tree_size": proof.tree_size,
        "leaf_hash": queries.b64(proof.leaf_hash),
        "hashes": [queries.b64(h) for h in proof.hashes],
    }


class ConsistencyProofOut(Schema):
    first: int
    second: int
    hashes: list[str]


@public_router.get(
    "/proofs/consistency",
    response=ConsistencyProofOut,
    summary="Consistency proof (RFC 9162 §2.1.4) between two tree sizes",
)
def consistency_proof(request: HttpRequest, first: str = "", second: str = "") -> Any:
    try:
        size1 = queries.parse_integer("first tree size", first)
        size2 = queries.parse_integer("second tree size", second)
        hashes = queries.consistency_proof(_administration(request), size1, size2)
    except LedgerError as exc:
        return problem_for(request, exc)
    return {"first": size1, "second": size2, "hashes": [queries.b64(h) for h in hashes]}


class CosignatureResult(Schema):
    size: int
    accepted: list[str]


@public_router.post(
    "/cosignatures",
    response={201: CosignatureResult},
    summary="Submit a witness-cosigned checkpoint (C2SP tlog-cosignature)",
)
def submit_cosignatures(request: HttpRequest) -> Any:
    try:
        administration = _administration(request)
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise LedgerError(
                LedgerErrorCode.COSIGNATURE_INVALID, "the body must be a UTF-8 signed note"
            ) from None
        checkpoint, accepted = actions.do_add_cosignatures(administration, text)
    except LedgerError as exc:
        return problem_for(request, exc)
    return Status(201, {"size": checkpoint.size, "accepted": accepted})


# --- GovStack Digital Registries: my personal data usage ----------------------------------


class PersonalDataReference(Schema):
    ReferenceID: str


class PersonalDataUsage(Schema):
    """GovStack's ``PersonalDataUsage`` schema, field names and spelling as published."""

    id: str
    readerId: str
    readerInitials: str
    readerInstitutionId: str
    readerInstitutionName: str
    readerApplicationName: str
    searchDateTime: datetime
    refrences: list[PersonalDataReference]  # the GovStack schema spells it so


def _initials(name: str) -> str:
    return "".join(part[0].upper() for part in name.split() if part)


@router.get(
    "/data/myPersonalDataUsage",
    response=list[PersonalDataUsage],
    summary="Who used my personal data (GovStack Digital Registries DPU)",
)
def my_personal_data_usage(request: HttpRequest, userId: str, databaseId: str) -> Any:
    user = request.user
    if not isinstance(user, User) or user.role not in PUBLIC_ROLES:
        from ceiba.api import problem

        return problem(request, 403, "auth.forbidden", _("Only the person concerned may ask."))
    if not userId or userId != user.national_id:
        from ceiba.api import problem

        return problem(
            request,
            400,
            "ledger.user_mismatch",
            _("userId must be your own national identification number."),
        )
    policy = queries.disclosure_policy(user.administration)  # type: ignore[arg-type]
    out = []
    for row in queries.data_usage_for(user):
        name = row.actor_name if policy.show_officer_names else ""
        out.append(
            {
                "id": str(row.index) if row.index is not None else f"pending-{row.pk}",
                "readerId": row.actor_role or "system",
                "readerInitials": _initials(name),
                "readerInstitutionId": row.institution.member_id if row.institution else "",
                "readerInstitutionName": row.institution.name if row.institution else "",
                "readerApplicationName": "Ceiba",
                "searchDateTime": row.recorded_at,
                "refrences": [{"ReferenceID": row.reference}] if row.reference else [],
            }
        )
    return out
