"""Security events: the platform's own security-relevant facts, for the monitoring center.

Rows map one-to-one to a normalized (ECS-style) event: see `SecurityEvent.to_normalized`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ceiba.tenancy.models import Administration


class EventCategory(models.TextChoices):
    AUTHENTICATION = "authentication", _("Authentication")
    IAM = "iam", _("Identity and access management")
    CONFIGURATION = "configuration", _("Configuration")
    WEB = "web", _("Web")
    API = "api", _("API")


class EventAction(models.TextChoices):
    LOGIN = "login", _("Sign-in")
    LOGOUT = "logout", _("Sign-out")
    MFA_VERIFY = "mfa_verify", _("Two-factor verification")
    MFA_ENROLL = "mfa_enroll", _("Two-factor enrollment")
    LOCKOUT = "lockout", _("Account locked out")
    PERMISSION_DENIED = "permission_denied", _("Permission denied")
    ADMIN_CHANGE = "admin_change", _("Administrative change")
    API_TOKEN_USE = "api_token_use", _("API token use")
    PASSWORD_RESET = "password_reset", _("Password reset")
    PASSWORD_CHANGE = "password_change", _("Password change")
    REGISTER = "register", _("Account registration")


class EventOutcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    UNKNOWN = "unknown", _("Unknown")


class SecurityEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Null for events that reach no administration (an unknown host, a platform admin action).
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.CharField(max_length=20, choices=EventCategory.choices)
    action = models.CharField(max_length=32, choices=EventAction.choices)
    outcome = models.CharField(max_length=10, choices=EventOutcome.choices)
    actor_id = models.UUIDField(null=True, blank=True)
    # What the actor typed or is known as (an e-mail); kept for failed sign-ins of unknown accounts.
    actor_name = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    http_method = models.CharField(max_length=10, blank=True)
    url_path = models.CharField(max_length=512, blank=True)
    target = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["administration", "-occurred_at"], name="secevent_admin_time")
        ]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.category}/{self.action} {self.outcome}"

    def to_normalized(self) -> dict[str, Any]:
        """The event as flat ECS-style fields: what the detection engine reads (product `ceiba`)."""
        event: dict[str, Any] = {
            "@timestamp": self.occurred_at.isoformat(),
            "event.category": self.category,
            "event.action": self.action,
            "event.outcome": self.outcome,
            "user.id": str(self.actor_id) if self.actor_id else None,
            "user.name": self.actor_name or None,
            "user.roles": self.actor_role or None,
            "source.ip": self.source_ip,
            "user_agent.original": self.user_agent or None,
            "url.path": self.url_path or None,
            "http.request.method": self.http_method or None,
            "ceiba.administration": self.administration.slug if self.administration else None,
            "ceiba.request_id": self.request_id or None,
            "ceiba.target": self.target or None,
            "ceiba.reason": self.reason or None,
        }
        return {key: value for key, value in event.items() if value is not None}
