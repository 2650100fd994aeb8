"""`ceiba demo`: one application walked through to a signed certificate, so a newcomer sees a
real one at once (under the media root), with its case, history and ledger entries."""

from __future__ import annotations

from django.core.files.base import ContentFile

from ceiba.accounts.models import User
from ceiba.cases import actions as case_actions
from ceiba.cases.models import Case
from ceiba.catalog.models import Service
from ceiba.documents.actions import do_issue_case_outputs
from ceiba.documents.models import IssuedDocument
from ceiba.documents.pdfsign import render_pdf
from ceiba.tenancy.models import Administration

DEMO_SERVICE = "civil-registry.birth-certificate-copy"
DEMO_ANSWERS = {
    "requester_relationship": "self",
    "given_names": "Amina",
    "family_name": "Citoyenne",
    "date_of_birth": "1994-06-02",
    "place_of_birth": "Douala",
    "father_name": "Moussa Citoyen",
    "mother_name": "Awa Citoyenne",
    "copy_type": "full_copy",
    "copies": 1,
    "delivery": "download",
}
IDENTITY_HTML = (
    "<html><body><h1>Carte nationale d'identité (démonstration)</h1>"
    "<p>Amina Citoyenne, née le 2 juin 1994 à Douala. N° DEMO-1990-000123.</p></body></html>"
)


def issue_demo_certificate(administration: Administration) -> IssuedDocument | None:
    """Apply as the demo citizen, have the demo officer approve, and issue the certificate.

    Idempotent: once the demo case exists, its certificate is returned. Returns None when the
    demo accounts or the birth-certificate service are missing.
    """
    citizen = User.objects.filter(
        administration=administration, email="citoyen@demo.example"
    ).first()
    officer = User.objects.filter(administration=administration, email="agent@demo.example").first()
    service = Service.objects.filter(administration=administration, code=DEMO_SERVICE).first()
    if citizen is None or officer is None or service is None:
        return None
    case = Case.objects.filter(
        administration=administration, applicant=citizen, service=service
    ).first()
    if case is None:
        case = case_actions.do_start_draft(service, actor=citizen, answers=DEMO_ANSWERS)
        identity = ContentFile(render_pdf(IDENTITY_HTML), name="carte-identite.pdf")
        case_actions.do_upload_document(
            case, actor=citizen, requirement="requester_identity", file=identity
        )
        case = case_actions.do_submit_draft(case, actor=citizen)
        for step in ("start_review", "approve"):
            case = case_actions.do_transition_case(
                case, step, actor=officer, expected_version=case.version
            )
    issued = do_issue_case_outputs(case, actor=officer)
    if issued:
        return issued[0]
    return IssuedDocument.objects.filter(
        administration=administration, case_reference=case.reference
    ).first()
