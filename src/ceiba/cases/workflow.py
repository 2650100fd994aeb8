"""The explicit state machine of a service version, and who may move a case along it.

Built from the parsed definition (``catalog.queries.definition_for``); holds no state of its
own. ``ceiba.cases.actions`` calls :meth:`Machine.check` under the case's row lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.cases.errors import CaseError, CaseErrorCode
from ceiba.catalog.definition import ServiceDefinition, State, Transition
from ceiba.catalog.formula import FormulaError

APPLICANT_ROLES = frozenset({Role.CITIZEN, Role.BUSINESS_REP})
STAFF_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR})
TEXT_INPUTS = ("reason", "message", "note")
MAX_INPUT_LENGTH = 5000


def text_of(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    if not texts:
        return ""
    lang = (language or get_language() or "en").split("-")[0]
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


@dataclass(frozen=True)
class Machine:
    definition: ServiceDefinition

    @property
    def initial(self) -> str:
        return self.definition.workflow.initial

    def state(self, state_id: str) -> State:
        return self.definition.workflow.states[state_id]

    def state_label(self, state_id: str, language: str | None = None) -> str:
        state = self.definition.workflow.states.get(state_id)
        return text_of(state.label, language) if state else state_id

    def is_final(self, state_id: str) -> bool:
        state = self.definition.workflow.states.get(state_id)
        return state is not None and state.final

    def sla_days(self, state_id: str) -> int | None:
        state = self.definition.workflow.states.get(state_id)
        return state.sla_working_days if state else None

    def automatic_from(self, state_id: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.definition.workflow.transitions_from(state_id) if t.automatic)

    def transition(self, name: str) -> Transition:
        try:
            return self.definition.workflow.transition(name)
        except KeyError:
            raise CaseError(
                CaseErrorCode.TRANSITION_UNKNOWN, _("This service has no such step.")
            ) from None

    def find(self, state_id: str, *, target_final: bool | None = None, name: str = "") -> Any:
        for transition in self.definition.workflow.transitions_from(state_id):
            if name and transition.name != name:
                continue
            if target_final is not None and self.is_final(transition.target) != target_final:
                continue
            return transition
        return None

    def may_act(self, case: Any, transition: Transition, actor: User) -> bool:
        """Whether the actor's role and relation to the case allow this transition (no guard)."""
        if transition.automatic or case.state not in transition.sources:
            return False
        if actor.role not in transition.roles or not actor.is_active:
            return False
        if actor.administration_id != case.administration_id:
            return False
        if actor.role in APPLICANT_ROLES:
            return is_applicant_of(case, actor)
        if actor.role in STAFF_ROLES:
            if actor.institution_id != case.institution_id:
                return False
            if actor.role == Role.OFFICER:
                return case.assignee_id in (None, actor.pk)
            return True
        return False

    def guard_holds(self, case: Any, transition: Transition) -> bool:
        if transition.guard is None:
            return True
        try:
            return transition.guard.evaluate_condition(case.answers)
        except FormulaError:
            return False

    def available(self, case: Any, actor: User) -> list[Transition]:
        """The manual transitions the actor may take now (their guard may still fail)."""
        return [
            t
            for t in self.definition.workflow.transitions_from(case.state)
            if self.may_act(case, t, actor)
        ]

    def check(
        self, case: Any, transition: Transition, actor: User, inputs: Mapping[str, Any]
    ) -> None:
        """Raise CaseError unless the actor may take the transition now with these inputs."""
        if case.phase != "open":
            raise CaseError(CaseErrorCode.CLOSED, _("This case is closed; nothing can change it."))
        if case.state not in transition.sources or transition.automatic:
            raise CaseError(
                CaseErrorCode.TRANSITION_NOT_ALLOWED,
                _("This step is not possible while the case is “%(state)s”.")
                % {"state": self.state_label(case.state)},
            )
        if not self.may_act(case, transition, actor):
            raise CaseError(
                CaseErrorCode.TRANSITION_NOT_ALLOWED, _("Your role does not allow this step.")
            )
        if not self.guard_holds(case, transition):
            raise CaseError(
                CaseErrorCode.GUARD_FAILED,
                _("The answers do not meet the conditions of this step (%(condition)s).")
                % {"condition": transition.guard.source if transition.guard else ""},
            )
        errors = []
        for name in transition.inputs:
            if name in ("reason", "message"):
                value = inputs.get(name)
                if not isinstance(value, str) or not value.strip():
                    errors.append((name, required_message(name)))
        for name in TEXT_INPUTS:
            value = inputs.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_INPUT_LENGTH):
                errors.append(
                    (name, _("Write at most %(count)d characters.") % {"count": MAX_INPUT_LENGTH})
                )
        if errors:
            raise CaseError(
                CaseErrorCode.INPUT_REQUIRED, _("Some information is missing."), errors=errors
            )


def required_message(name: str) -> str:
    if name == "reason":
        return _("Give the reason; the applicant will read it.")
    if name == "message":
        return _("Write the message to send.")
    return _("This is required.")


def is_applicant_of(case: Any, user: User) -> bool:
    """The applicant, or for a business's case, any representative of that business."""
    if case.applicant_id == user.pk:
        return True
    return bool(
        case.legal_entity_id is not None
        and user.role == Role.BUSINESS_REP
        and user.legal_entity_id == case.legal_entity_id
    )


def machine_for(version: Any) -> Machine:
    from ceiba.catalog.queries import definition_for

    return Machine(definition_for(version))
