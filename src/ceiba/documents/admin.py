from django.contrib import admin
from django.http import HttpRequest

from ceiba.documents.models import IssuedDocument


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(admin.ModelAdmin):
    """Read-only: documents are issued and revoked through actions, never edited."""

    list_display = ["number", "template", "institution", "issued_at", "revoked_at"]
    list_filter = ["template", "administration"]
    search_fields = ["number"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
