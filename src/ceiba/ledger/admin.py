from typing import Any

from django.contrib import admin

from ceiba.ledger.models import (
    Checkpoint,
    DeferredDisclosure,
    DisclosurePolicy,
    LedgerEntry,
    Log,
    Witness,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The log is append-only: rows are shown, never added, changed or deleted here."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Log)
class LogAdmin(ReadOnlyAdmin):
    list_display = ["origin", "administration", "size", "updated_at"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["index", "kind", "recorded_at", "administration", "institution", "actor_role"]
    list_select_related = ["leaf", "administration", "institution"]
    list_filter = ["kind", "administration"]
    exclude = ["salt"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["size", "log", "created_at"]


@admin.register(Witness)
class WitnessAdmin(ReadOnlyAdmin):
    list_display = ["name", "administration", "created_at"]


@admin.register(DisclosurePolicy)
class DisclosurePolicyAdmin(admin.ModelAdmin):
    list_display = ["administration", "show_officer_names", "updated_at"]


@admin.register(DeferredDisclosure)
class DeferredDisclosureAdmin(admin.ModelAdmin):
    list_display = ["administration", "institution", "days"]
