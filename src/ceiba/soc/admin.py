from django.contrib import admin

from ceiba.soc.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "administration",
        "category",
        "action",
        "outcome",
        "actor_name",
        "source_ip",
    ]
    list_filter = ["category", "action", "outcome", "administration"]
    search_fields = ["actor_name", "source_ip", "request_id"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        # The security log is evidence: nobody deletes from it through the application.
        return False
