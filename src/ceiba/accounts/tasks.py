from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from huey.contrib.djhuey import db_task


@db_task(retries=5, retry_delay=60)
def send_account_email(
    subject: str, body: str, to: list[str], html_body: str | None = None
) -> None:
    """Send one account e-mail (password reset, ...). Retried when the mail server is down."""
    message = EmailMultiAlternatives(subject, body, to=to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()
