"""Automatic workflow steps: hooks that service definitions name in ``transitions[].hook``.

A hook is a function ``hook(case) -> HookResult``, registered under a dotted name with
:func:`register`. The workflow engine calls it inside the transaction that brought the case
into one of the transition's ``from`` states (after a submission or a transition), with the
case row locked; it must be quick and read only the database (or a local cache). It returns:

- ``HookResult(proceed=True, ...)``: the engine takes the transition;
- ``HookResult(proceed=False, ...)``: the case stays where it is and an officer decides.

Either way ``passed``, ``summary`` and ``facts`` are stored in ``Case.checks[<hook name>]`` and
in the history, for the officer. A hook that cannot answer now (a registry is unreachable)
raises :class:`HookUnavailable`; the case stays and the SLA job retries it later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from ceiba.cases.models import Case


@dataclass(frozen=True)
class HookResult:
    proceed: bool
    passed: bool
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)


class HookUnavailable(Exception):
    """The hook cannot decide now; try again later."""


Hook = Callable[["Case"], HookResult]
_REGISTRY: dict[str, Hook] = {}


def register(name: str) -> Callable[[Hook], Hook]:
    def decorator(function: Hook) -> Hook:
        _REGISTRY[name] = function
        return function

    return decorator


def registered() -> frozenset[str]:
    """Names definitions may use; given to ``definition.load_paths(hooks=...)``."""
    return frozenset(_REGISTRY)


def get(name: str) -> Hook:
    return _REGISTRY[name]


@register("agriculture.farmer_registry_check")
def farmer_registry_check(case: Case) -> HookResult:
    """Check the applicant against the farmer registry (``cases.FarmerRegistration``).

    Passes when the answered ``farmer_id`` is an active registration of the case's
    administration, belonging to the applicant (same national id number), in the answered
    region, with at least the answered hectares registered. The case always moves on to the
    eligibility check; a failed check is flagged to the officer with the reasons, who rejects
    or asks for information. The summary is an untranslated message id, shown translated.
    """
    from ceiba.cases.models import FarmerRegistration

    farmer_id = str(case.answers.get("farmer_id", ""))
    registration = FarmerRegistration.objects.filter(
        administration=case.administration, farmer_id=farmer_id
    ).first()
    if registration is None:
        return HookResult(
            proceed=True,
            passed=False,
            summary=gettext_noop("The farmer registry number is not in the registry."),
            facts={"farmer_id": farmer_id, "found": False},
        )
    problems: list[str] = []
    if not registration.is_active:
        problems.append("inactive")
    if not case.applicant.national_id or registration.national_id != case.applicant.national_id:
        problems.append("other_person")
    if registration.region != case.answers.get("region"):
        problems.append("region")
    try:
        hectares = Decimal(str(case.answers.get("hectares", "0")))
    except InvalidOperation:
        hectares = Decimal(0)
    if hectares > registration.registered_hectares:
        problems.append("hectares")
    facts = {
        "farmer_id": farmer_id,
        "found": True,
        "problems": problems,
        "registered_region": registration.region,
        "registered_hectares": str(registration.registered_hectares),
    }
    if problems:
        return HookResult(
            proceed=True,
            passed=False,
            summary=gettext_noop("The registry does not confirm the application."),
            facts=facts,
        )
    return HookResult(
        proceed=True,
        passed=True,
        summary=gettext_noop("The registry confirms the farmer and the farm."),
        facts=facts,
    )
