from django.contrib import admin

from ceiba.cases.models import Case, FarmerRegistration, PublicHoliday


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("reference", "service", "state", "phase", "assignee", "due_at")
    list_filter = ("phase",)
    search_fields = ("reference",)
    readonly_fields = [f.name for f in Case._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(PublicHoliday)
class PublicHolidayAdmin(admin.ModelAdmin):
    list_display = ("administration", "date")


@admin.register(FarmerRegistration)
class FarmerRegistrationAdmin(admin.ModelAdmin):
    list_display = ("farmer_id", "full_name", "region", "registered_hectares", "is_active")
    search_fields = ("farmer_id", "national_id")
