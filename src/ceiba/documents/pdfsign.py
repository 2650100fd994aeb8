"""Render certificates from HTML (WeasyPrint) and sign them as PAdES (pyHanko).

The signature is a PAdES baseline B-T signature: a CMS signature with ``ETSI.CAdES.detached``
and an RFC 3161 signature timestamp from the administration's own timestamping authority,
which runs in process (:class:`AdministrationTimeStamper`) with the TSA certificate of the
PKI. All private-key operations go through :class:`~ceiba.documents.keystore.KeySigner`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from io import BytesIO

import weasyprint
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, general, signers
from pyhanko.sign.general import SigningError, simple_cms_attribute
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from weasyprint.urls import URLFetcher

from ceiba.documents.keystore import KeySigner

__all__ = [
    "DOCUMENT_NUMBER_KEY",
    "AdministrationTimeStamper",
    "PdfSigningError",
    "render_pdf",
    "sign_pdf",
]

# The document number rides in the signed revision's document information dictionary,
# so offline verification can look it up in the revocation list.
DOCUMENT_NUMBER_KEY = "/CeibaDocumentNumber"
SIGNATURE_FIELD = "CeibaSignature"
# The TSA's policy (RFC 3161 TSTInfo.policy): an X.667 UUID-based OID, which needs no
# registration, instead of the third-party policy OID pyHanko's test TSA puts in.
TSA_POLICY_OID = "2.25.277199069035022928782036106534192592972"


class PdfSigningError(Exception):
    """The PDF could not be rendered or signed."""


def _to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render HTML to PDF. Only ``file:`` and ``data:`` resources load: no network."""
    fetcher = URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)
    try:
        pdf = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    except weasyprint.urls.FatalURLFetchingError as exc:
        raise PdfSigningError(f"The template refers to a resource that cannot load: {exc}") from exc
    assert isinstance(pdf, bytes)
    return pdf


class _KeySignerAdapter(signers.Signer):
    """pyHanko's signer interface on top of a KeySigner (file store or HSM)."""

    def __init__(self, key: KeySigner, cert_chain: Sequence[x509.Certificate]) -> None:
        asn1_chain = [_to_asn1(c) for c in cert_chain]
        super().__init__(
            signing_cert=asn1_chain[0],
            cert_registry=SimpleCertificateStore.from_certs(asn1_chain),
            embed_roots=True,
        )
        self._key = key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if digest_algorithm != "sha256":
            raise SigningError(f"Keys sign with SHA-256 only, not {digest_algorithm}.")
        return self._key.sign(data)


class AdministrationTimeStamper(DummyTimeStamper):
    """The administration's RFC 3161 timestamping authority, in process.

    pyHanko's ``DummyTimeStamper`` builds the RFC 3161 token; this subclass signs it through
    a KeySigner with ECDSA, so the TSA key can live in an HSM like every other key.
    ``at`` fixes the time (tests, benchmarks); by default the TSA uses the system clock.
    """

    def __init__(
        self,
        key: KeySigner,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        at: dt.datetime | None = None,
    ) -> None:
        TimeStamper.__init__(self, include_nonce=True)
        self.tsa_cert = _to_asn1(certificate)
        self.certs_to_embed = [_to_asn1(c) for c in chain if c != certificate]
        self.fixed_dt = at
        self.override_md = "sha256"
        self._key = key

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        if self.fixed_dt is None:
            self.fixed_dt = dt.datetime.now(dt.UTC)
            try:
                return super().request_tsa_response(req)
            finally:
                self.fixed_dt = None
        return super().request_tsa_response(req)

    def _build_tst_info(
        self, message_imprint: tsp.MessageImprint, moment: dt.datetime, req: tsp.TimeStampReq
    ) -> tsp.TSTInfo:
        tst_info = super()._build_tst_info(message_imprint, moment, req)
        tst_info["policy"] = tsp.ObjectIdentifier(TSA_POLICY_OID)
        return tst_info

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, moment: dt.datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(moment)})),
                simple_cms_attribute(
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute("message_digest", hashlib.sha256(tst_info_data).digest()),
            ]
        )
        return self._key.sign(signed_attrs.dump()), signed_attrs

    def _build_signed_data(
        self,
        tst_info_data: bytes,
        md_algorithm: str,
        signature: bytes,
        signed_attrs: cms.CMSAttributes,
    ) -> dict[str, object]:
        signed_data: dict[str, object] = super()._build_signed_data(
            tst_info_data, md_algorithm, signature, signed_attrs
        )
        signer_infos = signed_data["signer_infos"]
        assert isinstance(signer_infos, list)
        signer_infos[0]["signature_algorithm"] = algos.SignedDigestAlgorithm(
            {"algorithm": "sha256_ecdsa"}
        )
        return signed_data


def sign_pdf(
    pdf_bytes: bytes,
    signer: KeySigner,
    cert_chain: Sequence[x509.Certificate],
    timestamper: TimeStamper,
    *,
    document_number: str | None = None,
    reason: str | None = None,
    location: str | None = None,
) -> bytes:
    """Sign a PDF as PAdES B-T with ``signer``; ``cert_chain`` is leaf first, root last.

    The document number, when given, is written into the signed revision's information
    dictionary under ``/CeibaDocumentNumber``, covered by the signature.
    """
    if not cert_chain:
        raise PdfSigningError("A certificate chain (signing certificate first) is required.")
    if signer.public_key.public_numbers() != cert_chain[0].public_key().public_numbers():  # type: ignore[union-attr]
        raise PdfSigningError("The signing key does not match the first certificate of the chain.")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfSigningError(f"This is not a PDF that can be signed: {exc}") from exc
    if document_number is not None:
        info_ref = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
        if isinstance(info_ref, generic.IndirectObject):
            info = info_ref.get_object()
            assert isinstance(info, generic.DictionaryObject)
            info[DOCUMENT_NUMBER_KEY] = generic.TextStringObject(document_number)
            writer.update_container(info)
        else:
            info = generic.DictionaryObject(
                {generic.NameObject(DOCUMENT_NUMBER_KEY): generic.TextStringObject(document_number)}
            )
            writer.set_info(writer.add_object(info))
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    pdf_signer = signers.PdfSigner(
        metadata, signer=_KeySignerAdapter(signer, cert_chain), timestamper=timestamper
    )
    output = BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=output)
    except (PdfError, SigningError) as exc:
        raise PdfSigningError(f"Signing failed: {exc}") from exc
    return output.getvalue()
