"""Pages: public verification (no login), the holder's documents, download, revocation."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ceiba.accounts.models import User
from ceiba.documents import actions, queries, verification
from ceiba.documents.administration_pki import open_pki
from ceiba.documents.errors import DocumentError
from ceiba.documents.offline import MAX_PDF_BYTES
from ceiba.documents.pki import Pki, PkiError
from ceiba.documents.revocation import build_revocation_list
from ceiba.documents.verification import CheckStatus, DocumentCheck
from ceiba.tenancy.models import Administration

# Room for the multipart envelope and the other fields around a 50 MB file.
_MAX_REQUEST_BYTES = MAX_PDF_BYTES + 64 * 1024


class VerifyForm(forms.Form):
    document = forms.FileField(
        label=gettext_lazy("The document as a PDF file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    qr = forms.CharField(
        label=gettext_lazy("Or the text of its QR code, as scanned"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
    )
    number = forms.CharField(
        label=gettext_lazy("Or its document number"),
        help_text=gettext_lazy("Printed at the top of the document, e.g. BC-2026-7K3M-9QXD-A2F4."),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for revoking"),
        help_text=gettext_lazy(
            "Published in the revocation list and shown to whoever checks the document."
        ),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _administration(request: HttpRequest) -> Administration:
    administration: Administration = request.administration  # type: ignore[attr-defined]
    return administration


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def check_request(request: HttpRequest) -> DocumentCheck:
    """Run the check a verify form or API call asks for; the body is refused unread if too big."""
    administration = _administration(request)
    if _content_length(request) > _MAX_REQUEST_BYTES:
        return DocumentCheck(CheckStatus.TOO_LARGE)
    upload = request.FILES.get("document") or request.FILES.get("file")
    if upload is not None:
        if upload.size is not None and upload.size > MAX_PDF_BYTES:
            return DocumentCheck(CheckStatus.TOO_LARGE)
        return verification.check_pdf(administration, upload.read(MAX_PDF_BYTES + 1))
    qr = str(request.POST.get("qr", ""))[:20000].strip()
    if qr:
        return verification.check_qr(administration, qr)
    number = str(request.POST.get("number", ""))[:64].strip()
    if number:
        return verification.check_number(administration, number)
    return DocumentCheck(CheckStatus.NO_INPUT)


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    check = None
    status = 200
    if request.method == "POST":
        check = check_request(request)
        if check.status is CheckStatus.TOO_LARGE:
            status = 413
    return render(
        request,
        "documents/verify.html",
        {"form": VerifyForm(), "check": check, "max_mb": MAX_PDF_BYTES // (1024 * 1024)},
        status=status,
    )


def _published_pki(request: HttpRequest) -> Pki:
    try:
        return open_pki(_administration(request))
    except PkiError:
        raise Http404(_("This administration has not issued any documents yet.")) from None


@require_GET
def root_pem(request: HttpRequest) -> HttpResponse:
    pem = _published_pki(request).root_pem()
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'inline; filename="root.pem"'
    return response


@require_GET
def certificates_pem(request: HttpRequest) -> HttpResponse:
    pem = _published_pki(request).certificate_bundle_pem()
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'inline; filename="certificates.pem"'
    return response


@never_cache
@require_GET
def revocations_json(request: HttpRequest) -> HttpResponse:
    pki = _published_pki(request)
    current = queries.revocation_list(_administration(request), pki.administration_name)
    signer = pki.revocation_identity()
    data = build_revocation_list(
        current.entries,
        signer.key,
        signer.certificate,
        administration=current.administration,
        sequence=current.sequence,
        issued_at=current.issued_at,
    )
    response = HttpResponse(data, content_type="application/json")
    response["Content-Disposition"] = 'inline; filename="revocations.json"'
    return response


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@require_GET
def my_documents(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    documents = list(queries.visible_documents(user, _administration(request))[:200])
    rows = [(d, actions.can_revoke(user, d)) for d in documents]
    return render(request, "documents/list.html", {"rows": rows})


@login_required
@require_GET
def download(request: HttpRequest, number: str) -> FileResponse:
    document = queries.visible_document(_user(request), _administration(request), number)
    if document is None:
        raise Http404(_("No document with this number was found."))
    return FileResponse(
        document.pdf.open("rb"),
        as_attachment=True,
        filename=f"{document.number}.pdf",
        content_type="application/pdf",
    )


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request)
    document = queries.visible_document(user, _administration(request), number)
    if document is None:
        raise Http404(_("No document with this number was found."))
    if not actions.can_revoke(user, document):
        raise PermissionDenied("missing permission to revoke documents")
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_revoke_document(document, reason=form.cleaned_data["reason"], actor=user)
        except DocumentError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("documents:list")
    return render(request, "documents/revoke.html", {"document": document, "form": form})
