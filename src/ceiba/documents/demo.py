"""`ceiba demo`: one signed certificate for the demo citizen, so a newcomer sees a real one."""

from __future__ import annotations

from ceiba.accounts.models import User
from ceiba.documents.actions import do_issue_document
from ceiba.documents.models import IssuedDocument
from ceiba.tenancy.models import Administration, Institution

DEMO_TEMPLATE = "civil-registry/birth-certificate-copy"
DEMO_ANSWERS = {
    "given_names": "Amina",
    "family_name": "Citoyenne",
    "date_of_birth": "1994-06-02",
    "place_of_birth": "Douala",
    "mother_name": "Awa Citoyenne",
    "copy_type": "full_copy",
}


def issue_demo_certificate(administration: Administration) -> IssuedDocument | None:
    """Issue (once) a birth certificate copy to citoyen@demo.example, signed by the civil
    registry; return it, or None when the demo accounts are missing."""
    citizen = User.objects.filter(
        administration=administration, email="citoyen@demo.example"
    ).first()
    officer = User.objects.filter(administration=administration, email="agent@demo.example").first()
    institution = Institution.objects.filter(
        administration=administration, member_class="GOV", member_code="70000001"
    ).first()
    if citizen is None or officer is None or institution is None:
        return None
    existing = IssuedDocument.objects.filter(
        administration=administration, applicant=citizen, template=DEMO_TEMPLATE
    ).first()
    if existing is not None:
        return existing
    return do_issue_document(
        administration=administration,
        institution=institution,
        applicant=citizen,
        template=DEMO_TEMPLATE,
        answers=DEMO_ANSWERS,
        language="fr",
        title="Copie d'acte de naissance",
        case_reference="DEMO",
        actor=officer,
    )
