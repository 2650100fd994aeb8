from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "ceiba.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self) -> None:
        from ceiba.web import checks  # noqa: F401
