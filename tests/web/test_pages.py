from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Tenant


@pytest.mark.django_db
def test_home_lists_institutions_in_the_administration_language(tenant_a: Tenant) -> None:
    response = Client(HTTP_HOST=tenant_a.host, HTTP_ACCEPT_LANGUAGE="en").get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr" dir="ltr">' in response.content.decode()
    assert "État civil alpha" in response.content.decode()


@pytest.mark.django_db
def test_switching_language_without_javascript(tenant_a: Tenant) -> None:
    client = Client(HTTP_HOST=tenant_a.host)
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en" dir="ltr">' in page
    assert "Civil registry alpha" in page


@pytest.mark.django_db
def test_right_to_left_languages_set_dir(tenant_a: Tenant) -> None:
    client = Client(HTTP_HOST=tenant_a.host)
    client.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    assert '<html lang="ar" dir="rtl">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_security_headers(tenant_a: Tenant) -> None:
    response = Client(HTTP_HOST=tenant_a.host).get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_incoming_request_id_is_kept(tenant_a: Tenant) -> None:
    response = Client(HTTP_HOST=tenant_a.host).get("/", HTTP_X_REQUEST_ID="abc-123-def-456")
    assert response["X-Request-ID"] == "abc-123-def-456"


@pytest.mark.django_db
def test_pages_stay_small_and_need_no_script(tenant_a: Tenant) -> None:
    page = Client(HTTP_HOST=tenant_a.host).get("/").content
    assert b"<script" not in page
    assert len(page) < 14_000


@pytest.mark.django_db
def test_forms_refuse_a_missing_csrf_token(tenant_a: Tenant) -> None:
    client = Client(HTTP_HOST=tenant_a.host, enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a@b.example", "password": "x"})
    assert response.status_code == 403
    assert b"expired" in response.content or b"expir" in response.content


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404(tenant_a: Tenant) -> None:
    response = Client(HTTP_HOST=tenant_a.host).get("/no-such-page/")
    assert response.status_code == 404
    assert b"<h1>" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "skip_link", "sign_in"),
    [
        ("fr", "Aller au contenu principal", "Se connecter"),
        ("es", "Ir al contenido principal", "Iniciar sesión"),
        ("en", "Skip to main content", "Sign in"),
    ],
)
def test_pages_are_translated(
    tenant_a: Tenant, language: str, skip_link: str, sign_in: str
) -> None:
    client = Client(HTTP_HOST=tenant_a.host)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    page = client.get("/accounts/login/").content.decode()
    assert skip_link in page
    assert sign_in in page
