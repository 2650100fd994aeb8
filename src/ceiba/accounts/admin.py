from django.contrib import admin

from ceiba.accounts.models import ApiToken, LegalEntity, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Accounts, for platform administrators (the only role with the Django admin)."""

    list_display = ["email", "full_name", "role", "administration", "institution", "is_active"]
    list_filter = ["role", "administration", "is_active"]
    search_fields = ["email", "full_name"]
    fields = [
        "administration",
        "email",
        "full_name",
        "role",
        "institution",
        "legal_entity",
        "national_id",
        "preferred_language",
        "is_active",
    ]


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["name", "registration_number", "administration"]
    list_filter = ["administration"]
    search_fields = ["name", "registration_number"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "token_prefix", "user", "administration", "last_used_at", "revoked_at"]
    list_filter = ["administration"]
    fields = ["name", "user", "token_prefix", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["token_prefix", "last_used_at"]

    def has_add_permission(self, request: object) -> bool:
        return False  # tokens are created with `ceiba apitoken`, which shows the secret once
