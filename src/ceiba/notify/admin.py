from django.contrib import admin

from ceiba.notify.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "recipient", "status", "attempts", "topic")
    list_filter = ("channel", "status")
    readonly_fields = [f.name for f in Notification._meta.fields]
