"""Languages the platform ships; the order is the order of the language switcher."""

from django.utils.translation import gettext_lazy as _

LANGUAGES = [
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("en", _("English")),
    ("ar", _("Arabic")),
    ("pt", _("Portuguese")),
]
LANGUAGE_CODES = [code for code, _name in LANGUAGES]
