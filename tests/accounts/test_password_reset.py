from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from ceiba.accounts.roles import Role
from tests.conftest import Tenant


@pytest.mark.django_db
def test_reset_mail_leaves_after_commit_and_the_link_sets_a_new_password(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    client = Client(HTTP_HOST=tenant_a.host)
    # when: the reset is asked for
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/accounts/password-reset/", {"email": citizen.email})
        # then: nothing is sent while the transaction is open
        assert mail.outbox == []
    assert response.status_code == 302
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [citizen.email]
    link = re.search(r"https?://[^/]+(/accounts/password-reset/[^\s]+)", message.body)
    assert link is not None
    # and the link works once, on this administration
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "a brand new long passphrase",
            "new_password2": "a brand new long passphrase",
        },
    )
    assert done.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password("a brand new long passphrase")


@pytest.mark.django_db
def test_reset_for_unknown_address_looks_the_same_and_sends_nothing(
    tenant_a: Tenant, tenant_b: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client(HTTP_HOST=tenant_a.host)
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post("/accounts/password-reset/", {"email": "nobody@alpha.example"})
        other = client.post(
            "/accounts/password-reset/", {"email": tenant_b.users[Role.CITIZEN].email}
        )
    assert unknown.status_code == other.status_code == 302
    assert mail.outbox == []
