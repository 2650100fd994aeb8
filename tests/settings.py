"""Test settings: the real settings, with the database from CEIBA_TEST_DATABASE_URL when set."""

import atexit
import os
import shutil
import tempfile

# Runtime files of the test run (keys, media, job queue) go to a throwaway folder, not var/.
if "CEIBA_VAR_DIR" not in os.environ:
    _var = tempfile.mkdtemp(prefix="ceiba-test-var-")
    os.environ["CEIBA_VAR_DIR"] = _var
    atexit.register(shutil.rmtree, _var, True)

from ceiba.i18n import compile_catalogs

# Compile the catalogs before Django loads any: tests read them as users do.
compile_catalogs()

from ceiba.config import ConfigError, _database  # noqa: E402
from ceiba.settings import *  # noqa: E402, F403
from ceiba.settings import CONFIG, HUEY  # noqa: E402

_test_url = os.environ.get("CEIBA_TEST_DATABASE_URL")
if _test_url:
    try:
        DATABASES = {
            "default": _database(
                {"CEIBA_TEST_DATABASE_URL": _test_url},
                "CEIBA_TEST_DATABASE_URL",
                CONFIG.var_dir / "unused.sqlite3",
            )
        }
    except ConfigError as exc:
        raise SystemExit(f"ceiba tests: {exc}") from None
else:
    DATABASES = {"default": {**CONFIG.database, "TEST": {"NAME": ":memory:"}}}

# Tasks run in the test process as soon as they are enqueued (after commit).
HUEY = {**HUEY, "immediate": True}
# Argon2 is deliberately slow; tests that check hashing assert on the production list.
PRODUCTION_PASSWORD_HASHERS = PASSWORD_HASHERS  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = [*ALLOWED_HOSTS, ".example"]  # noqa: F405
