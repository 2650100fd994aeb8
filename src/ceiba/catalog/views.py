"""The public catalog: browse and search services, and the page of one service.

Both pages work for anonymous visitors; everything is scoped to ``request.administration``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ceiba.cases.forms import localize, media_names, size_text
from ceiba.catalog import queries
from ceiba.catalog.definition import Fees, ServiceDefinition
from ceiba.catalog.formula import FormulaError
from ceiba.tenancy import queries as tenancy_queries

# Tags used by the shipped packs; any other tag is shown as written, made readable.
SECTORS = {
    "civil-registry": gettext_lazy("Civil registry"),
    "commerce-registry": gettext_lazy("Commerce registry"),
    "education": gettext_lazy("Education"),
    "agriculture": gettext_lazy("Agriculture"),
    "tax": gettext_lazy("Taxes"),
}
LIFE_EVENTS = {
    "birth": gettext_lazy("Having a baby"),
    "identity-documents": gettext_lazy("Identity documents"),
    "marriage": gettext_lazy("Getting married"),
    "starting-a-business": gettext_lazy("Starting a business"),
    "running-a-business": gettext_lazy("Running a business"),
    "school": gettext_lazy("Going to school"),
    "starting-school": gettext_lazy("Starting school"),
    "moving-home": gettext_lazy("Moving home"),
    "farming": gettext_lazy("Farming"),
    "paying-taxes": gettext_lazy("Paying taxes"),
}
APPLICANTS = {
    "citizen": gettext_lazy("People applying for themselves or their family"),
    "business": gettext_lazy("Businesses, through their registered representative"),
}
MAX_QUERY = 100
MAX_COMBINATIONS = 512


def tag_label(tag: str, labels: Mapping[str, Any]) -> str:
    return str(labels.get(tag) or tag.replace("-", " ").capitalize())


@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    administration = request.administration  # type: ignore[attr-defined]
    text = request.GET.get("q", "")[:MAX_QUERY].strip()
    sector = request.GET.get("sector", "")[:64]
    life_event = request.GET.get("life_event", "")[:64]
    member_id = request.GET.get("institution", "")[:80]
    institution = (
        tenancy_queries.institution_by_member(administration, member_id) if member_id else None
    )
    services = []
    if not member_id or institution is not None:
        services = list(
            queries.published_services(
                administration,
                institution=institution,
                sector=sector,
                life_event=life_event,
                text=text,
            ).select_related("institution__administration")
        )
    context = {
        "services": services,
        "q": text,
        "filters": {"sector": sector, "life_event": life_event, "institution": member_id},
        "filtered": bool(text or sector or life_event or member_id),
        "institutions": list(tenancy_queries.institutions(administration)),
        "sectors": [(tag, tag_label(tag, SECTORS)) for tag in queries.sectors(administration)],
        "life_events": [
            (tag, tag_label(tag, LIFE_EVENTS)) for tag in queries.life_events(administration)
        ],
    }
    return render(request, "catalog/portal/list.html", context)


@require_GET
def service_detail(request: HttpRequest, code: str) -> HttpResponse:
    administration = request.administration  # type: ignore[attr-defined]
    service = queries.service(administration, code)
    if service is None or service.current_version is None:
        raise Http404
    definition = queries.definition_for(service.current_version)
    documents = [
        {
            "label": localize(document.label),
            "help": localize(document.help),
            "types": media_names(document.mime_types),
            "max_size": size_text(document.max_bytes),
            "requirement": document.requirement,
        }
        for document in definition.documents
    ]
    user = request.user
    context = {
        "service": service,
        "definition": definition,
        "description": localize(definition.description),
        "applicants": [str(APPLICANTS.get(a, a)) for a in definition.applicants],
        "documents": documents,
        "fee": describe_fees(definition.fees, definition),
        "working_days": expected_working_days(definition),
        "sector": tag_label(definition.sector, SECTORS),
        "can_apply": user.is_authenticated
        and getattr(user, "role", "") in {"citizen", "business_rep"},
        "applies_as": _applies_as(definition, getattr(user, "role", "")),
    }
    return render(request, "catalog/portal/detail.html", context)


def _applies_as(definition: ServiceDefinition, role: str) -> bool:
    return (role == "citizen" and "citizen" in definition.applicants) or (
        role == "business_rep" and "business" in definition.applicants
    )


# ---------------------------------------------------------------------------------------------
# Fees and time, as the service page states them


@dataclass(frozen=True)
class FeeText:
    summary: str
    items: list[tuple[str, str]]


def money(amount: Decimal, currency: str) -> str:
    places = 0 if amount == amount.to_integral_value() else 2
    return f"{number_format(amount, places, force_grouping=True)} {currency}"


def describe_fees(fees: Fees | None, definition: ServiceDefinition) -> FeeText:
    """ "Free", a fixed amount, a range, or "calculated from your answers"."""
    if fees is None or not fees.items:
        return FeeText(_("Free"), [])
    items: list[tuple[str, str]] = []
    low_total, high_total = Decimal(0), Decimal(0)
    bounded = True
    for item in fees.items:
        span = fee_range(item, definition)
        label = localize(item.label)
        if span is None:
            bounded = False
            items.append((label, _("calculated from your answers")))
            continue
        low, high = span
        low_total += low
        high_total += high
        if low == high:
            items.append((label, money(high, fees.currency)))
        elif low == 0 and item.when is not None and item.formula is None:
            items.append(
                (label, _("%(amount)s, in some cases") % {"amount": money(high, fees.currency)})
            )
        else:
            items.append(
                (
                    label,
                    _("from %(low)s to %(high)s")
                    % {"low": money(low, fees.currency), "high": money(high, fees.currency)},
                )
            )
    if not bounded:
        summary = _("Calculated from your answers; you see the amount before you submit.")
    elif high_total == 0:
        summary = _("Free")
    elif low_total == high_total:
        summary = money(high_total, fees.currency)
    else:
        summary = _("From %(low)s to %(high)s, depending on your answers") % {
            "low": money(low_total, fees.currency),
            "high": money(high_total, fees.currency),
        }
    return FeeText(summary, items)


def fee_range(item: Any, definition: ServiceDefinition) -> tuple[Decimal, Decimal] | None:
    """Lowest and highest amount of one fee over every combination of the bounds of the
    fields it uses; None when a field is unbounded (a declared profit, say)."""
    if item.formula is None and item.when is None:
        return item.amount, item.amount
    names = set(item.formula.names if item.formula else ()) | set(
        item.when.names if item.when else ()
    )
    domains = []
    for name in sorted(names):
        domain = _domain(definition.form.schema["properties"].get(name, {}))
        if domain is None:
            return None
        domains.append([(name, value) for value in domain])
    amounts: list[Decimal] = []
    for count, combination in enumerate(itertools.product(*domains)):
        if count >= MAX_COMBINATIONS:
            return None
        try:
            amount = item.amount_for(dict(combination))
        except FormulaError:
            continue
        amounts.append(amount if amount is not None else Decimal(0))
    if not amounts:
        return None
    return min(amounts), max(amounts)


def _domain(prop: Mapping[str, Any]) -> list[Any] | None:
    if "enum" in prop:
        return list(prop["enum"])
    if prop.get("type") == "boolean":
        return [True, False]
    if prop.get("type") in ("integer", "number") and "minimum" in prop and "maximum" in prop:
        return [prop["minimum"], prop["maximum"]]
    return None


def expected_working_days(definition: ServiceDefinition) -> int | None:
    """Working days the institution has on the shortest path to an outcome that issues a
    document (or to any final state when none does); None when no state has a time limit."""
    workflow = definition.workflow
    targets = {output.state for output in definition.outputs} or {
        state for state, value in workflow.states.items() if value.final
    }
    if not any(state.sla_working_days for state in workflow.states.values()):
        return None
    best: dict[str, int] = {workflow.initial: 0}
    queue: list[tuple[int, str]] = [(0, workflow.initial)]
    while queue:
        cost, state = heapq.heappop(queue)
        if state in targets:
            return cost
        if cost > best.get(state, cost):
            continue
        step = workflow.states[state].sla_working_days or 0
        for transition in _institution_moves(workflow.transitions_from(state)):
            following = cost + step
            if following < best.get(transition.target, following + 1):
                best[transition.target] = following
                heapq.heappush(queue, (following, transition.target))
    return None


def _institution_moves(transitions: Iterable[Any]) -> Iterable[Any]:
    for transition in transitions:
        if transition.automatic or transition.roles & {"officer", "supervisor"}:
            yield transition
