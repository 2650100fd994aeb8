from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ceiba.accounts.roles import Role
from ceiba.cases import actions
from ceiba.catalog import queries
from ceiba.catalog.actions import PACKS_DIR, do_load_service_definitions
from ceiba.catalog.definition import DefinitionInvalid
from ceiba.catalog.models import Service, ServiceVersion
from ceiba.tenancy.models import Institution
from tests.cases.conftest import BIRTH, BIRTH_VALID, pdf
from tests.conftest import Tenant


def _all_institutions(tenant: Tenant) -> None:
    for code in ("70000002", "70000003", "70000004", "70000005"):
        Institution.objects.create(
            administration=tenant.administration,
            member_class="GOV",
            member_code=code,
            names={"fr": code},
        )


def test_five_packs_load_and_reload_unchanged(tenant_a: Tenant) -> None:
    _all_institutions(tenant_a)
    first = do_load_service_definitions(
        [PACKS_DIR], administration=tenant_a.administration, actor=None
    )
    assert sorted(entry.status for entry in first.services) == ["created"] * 5
    again = do_load_service_definitions(
        [PACKS_DIR], administration=tenant_a.administration, actor=None
    )
    assert [entry.status for entry in again.services] == ["unchanged"] * 5
    assert ServiceVersion.objects.filter(administration=tenant_a.administration).count() == 5


def test_changed_definition_makes_a_new_version_and_cases_keep_theirs(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    do_load_service_definitions([BIRTH], administration=tenant_a.administration, actor=None)
    service = Service.objects.get(administration=tenant_a.administration)
    draft = actions.do_start_draft(
        service, actor=tenant_a.users[Role.CITIZEN], answers=dict(BIRTH_VALID)
    )
    changed = tmp_path / "birth.yaml"
    changed.write_text(BIRTH.read_text().replace("sla_working_days: 3", "sla_working_days: 4"))
    result = do_load_service_definitions(
        [changed], administration=tenant_a.administration, actor=None
    )
    assert [(e.status, e.version) for e in result.services] == [("new_version", 2)]
    service.refresh_from_db()
    assert service.current_version is not None
    assert service.current_version.number == 2
    actions.do_upload_document(
        draft, actor=tenant_a.users[Role.CITIZEN], requirement="requester_identity", file=pdf()
    )
    submitted = actions.do_submit_draft(draft, actor=tenant_a.users[Role.CITIZEN])
    assert submitted.service_version.number == 1


def test_one_invalid_file_loads_nothing(tenant_a: Tenant, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nname: [unclosed\n")
    with pytest.raises(DefinitionInvalid) as invalid:
        do_load_service_definitions(
            [BIRTH, broken], administration=tenant_a.administration, actor=None
        )
    assert any(error.file == str(broken) and error.line for error in invalid.value.errors)
    assert not Service.objects.filter(administration=tenant_a.administration).exists()


def test_unknown_institution_loads_nothing(tenant_a: Tenant) -> None:
    agriculture = PACKS_DIR / "agriculture"
    with pytest.raises(DefinitionInvalid) as invalid:
        do_load_service_definitions(
            [BIRTH, agriculture], administration=tenant_a.administration, actor=None
        )
    assert [error.path for error in invalid.value.errors] == ["institution"]
    assert not Service.objects.exists()


def test_catalog_load_command(tenant_a: Tenant, tmp_path: Path) -> None:
    out, err = StringIO(), StringIO()
    call_command("catalog", "load", str(BIRTH), "--administration", "alpha", stdout=out)
    assert "created" in out.getvalue()
    broken = tmp_path / "broken.yaml"
    broken.write_text("{}")
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command(
            "catalog", "load", str(broken), "--administration", "alpha", stdout=out, stderr=err
        )
    assert str(broken) in err.getvalue()


def test_search_and_filters(tenant_a: Tenant) -> None:
    _all_institutions(tenant_a)
    do_load_service_definitions([PACKS_DIR], administration=tenant_a.administration, actor=None)
    found = queries.published_services(tenant_a.administration, text="naissance")
    assert [s.code for s in found] == ["civil-registry.birth-certificate-copy"]
    accents: Any = queries.published_services(tenant_a.administration, text="agricolé")
    assert "agriculture.farmer-input-subsidy" in [s.code for s in accents]
    assert [s.sector for s in queries.published_services(tenant_a.administration, sector="tax")]
    service = queries.service(tenant_a.administration, "tax.annual-business-tax-declaration")
    assert service is not None
    assert service.current_version is not None
    definition = queries.definition_for(service.current_version)
    assert definition.content_hash == service.current_version.content_hash
    assert queries.definition_for(service.current_version) is definition
