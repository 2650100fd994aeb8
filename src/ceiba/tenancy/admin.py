from django.contrib import admin

from ceiba.tenancy.models import Administration, AdministrationHostname, Institution


class HostnameInline(admin.TabularInline):
    model = AdministrationHostname
    extra = 1


@admin.register(Administration)
class AdministrationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "default_language", "currency", "is_active"]
    inlines = [HostnameInline]


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["member_id", "name", "administration", "kind", "is_active"]
    list_filter = ["administration", "kind"]
