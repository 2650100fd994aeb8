"""`ceiba serve --prod`: gunicorn, WhiteNoise, HTTPS redirect and HSTS, a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback only
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def prod_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir: Path = tmp_path_factory.mktemp("prod")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEIBA_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        CEIBA_MODE="production",
        CEIBA_SECRET_KEY="test-secret-" + "0123456789abcdef" * 4,
        CEIBA_ALLOWED_HOSTS="127.0.0.1",
        CEIBA_VAR_DIR=str(var_dir),
        CEIBA_KEY_PASSPHRASE="a long test passphrase for the keys",
    )
    ceiba = [sys.executable, "-m", "ceiba.cli"]
    subprocess.run([*ceiba, "migrate", "-v0"], env=env, check=True, timeout=120)
    subprocess.run([*ceiba, "demo"], env=env, check=True, timeout=120, capture_output=True)
    subprocess.run([*ceiba, "collectstatic", "--noinput", "-v0"], env=env, check=True, timeout=600)
    port = _free_port()
    server = subprocess.Popen(
        [*ceiba, "serve", "--prod", "--no-collectstatic", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("ceiba serve --prod did not answer /healthz within 90 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_probes_answer_over_plain_http(prod_server: str) -> None:
    assert _get(prod_server + "/healthz")[0] == 200
    status, _headers, body = _get(prod_server + "/readyz")
    assert status == 200
    assert b'"database": "ok"' in body


@pytest.mark.slow
def test_pages_redirect_to_https(prod_server: str) -> None:
    status, headers, _body = _get(prod_server + "/")
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1")


@pytest.mark.slow
def test_behind_tls_proxy_pages_have_hsts_and_secure_cookies(prod_server: str) -> None:
    status, headers, body = _get(prod_server + "/accounts/login/", {"X-Forwarded-Proto": "https"})
    assert status == 200
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    cookie = headers["Set-Cookie"]
    assert "__Host-ceiba_csrf" in cookie
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert b"/static/ceiba/ceiba." in body  # hashed name from the manifest


@pytest.mark.slow
def test_static_files_are_served_compressed_and_cached(prod_server: str) -> None:
    _status, _headers, body = _get(prod_server + "/accounts/login/", {"X-Forwarded-Proto": "https"})
    start = body.index(b"/static/ceiba/ceiba.")
    href = body[start : body.index(b'"', start)].decode()
    status, headers, _css = _get(
        prod_server + href, {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert "immutable" in headers["Cache-Control"]
