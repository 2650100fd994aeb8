from django.contrib import admin

from ceiba.catalog.models import Service, ServiceVersion


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "administration", "sector", "current_version", "is_published")
    list_filter = ("sector", "is_published")
    search_fields = ("code",)


@admin.register(ServiceVersion)
class ServiceVersionAdmin(admin.ModelAdmin):
    list_display = ("service", "number", "label", "content_hash", "loaded_at")
    readonly_fields = [f.name for f in ServiceVersion._meta.fields]
