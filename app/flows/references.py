"""Checks that relate one part of an organization's configuration to another.

Structural validation (types, patterns) is pydantic's; these rules need the whole
document, and each problem names the path inside it where the author must look.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app.flows.models import Flow, OrganizationConfig, ServiceGraph

REQUIRED_STEPS = ("ServiceSelection", "Timeslot", "Customer", "Summary")


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str


def _duplicates(values: Sequence[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def check_organization(config: OrganizationConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    flow_ids = [f.id for f in config.flows]
    for dup in _duplicates(flow_ids):
        problems.append(ConfigProblem("flows", f"flow id {dup!r} is used more than once"))
    known = set(flow_ids)
    if config.routing.default_flow not in known:
        problems.append(ConfigProblem("routing.default_flow", f"no flow has the id {config.routing.default_flow!r}"))
    for i, rule in enumerate(config.routing.rules):
        if rule.flow not in known:
            problems.append(ConfigProblem(f"routing.rules[{i}].flow", f"no flow has the id {rule.flow!r}"))
    for i, trigger in enumerate(config.button_triggers):
        if trigger.flow is not None and trigger.flow not in known:
            problems.append(ConfigProblem(f"button_triggers[{i}].flow", f"no flow has the id {trigger.flow!r}"))
    calendar = getattr(config.vendor, "calendar", None)
    if calendar is not None:
        for dup in _duplicates([w.id for w in calendar.windows]):
            problems.append(ConfigProblem("vendor.calendar.windows", f"window id {dup!r} is used more than once"))
        for i, window in enumerate(calendar.windows):
            if window.start >= window.end:
                problems.append(ConfigProblem(f"vendor.calendar.windows[{i}]", "start must be before end"))
    service_ids = {s.id for f in config.flows for s in f.service_graph.services}
    for kind in ("job_types", "services"):
        for service_id in getattr(config.vendor, kind, {}):
            if service_id not in service_ids:
                problems.append(ConfigProblem(f"vendor.{kind}.{service_id}", f"no flow has the service {service_id!r}"))
    for i, flow in enumerate(config.flows):
        problems.extend(_check_flow(flow, f"flows[{i}]"))
    return problems


def _check_flow(flow: Flow, path: str) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    types = [s.type for s in flow.steps]
    for dup in _duplicates(types):
        problems.append(ConfigProblem(f"{path}.steps", f"step {dup} appears more than once"))
    for required in REQUIRED_STEPS:
        if required not in types:
            problems.append(ConfigProblem(f"{path}.steps", f"a flow needs a {required} step"))
    if types and types[-1] != "Summary" and "Summary" in types:
        problems.append(ConfigProblem(f"{path}.steps", "Summary must be the last step"))
    if "ServiceSelection" in types and "Timeslot" in types and types.index("Timeslot") < types.index("ServiceSelection"):
        problems.append(ConfigProblem(f"{path}.steps", "ServiceSelection must come before Timeslot"))
    if "ZipCode" in types and flow.service_area is None:
        problems.append(ConfigProblem(f"{path}.service_area", "a flow with a ZipCode step needs a service_area"))
    if "AdditionalDetails" in types and not flow.additional_details and flow.photos is None:
        problems.append(ConfigProblem(f"{path}.additional_details", "the AdditionalDetails step needs at least one field, or photos"))
    if flow.photos is not None:
        if "AdditionalDetails" not in types:
            problems.append(ConfigProblem(f"{path}.photos", "photos are asked for on the AdditionalDetails step: add it to the steps"))
        offered = {s.id for s in flow.service_graph.services}
        for i, service_id in enumerate(flow.photos.services):
            if service_id not in offered:
                problems.append(ConfigProblem(f"{path}.photos.services[{i}]", f"no service has the id {service_id!r}"))
    for dup in _duplicates([f.name for f in flow.additional_details]):
        problems.append(ConfigProblem(f"{path}.additional_details", f"field name {dup!r} is used more than once"))
    for i, field in enumerate(flow.additional_details):
        if field.kind == "select" and not field.options:
            problems.append(ConfigProblem(f"{path}.additional_details[{i}].options", "a select field needs options"))
    problems.extend(_check_graph(flow.service_graph, f"{path}.service_graph"))
    return problems


def _check_graph(graph: ServiceGraph, path: str) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    question_ids = [q.id for q in graph.questions]
    service_ids = [s.id for s in graph.services]
    for dup in _duplicates(question_ids):
        problems.append(ConfigProblem(f"{path}.questions", f"question id {dup!r} is used more than once"))
    for dup in _duplicates(service_ids):
        problems.append(ConfigProblem(f"{path}.services", f"service id {dup!r} is used more than once"))
    if graph.start not in question_ids:
        problems.append(ConfigProblem(f"{path}.start", f"no question has the id {graph.start!r}"))
    for qi, question in enumerate(graph.questions):
        for dup in _duplicates([a.id for a in question.answers]):
            problems.append(ConfigProblem(f"{path}.questions[{qi}].answers", f"answer id {dup!r} is used more than once"))
        for ai, answer in enumerate(question.answers):
            where = f"{path}.questions[{qi}].answers[{ai}]"
            if answer.question is not None and answer.question not in question_ids:
                problems.append(ConfigProblem(f"{where}.question", f"no question has the id {answer.question!r}"))
            if answer.service is not None and answer.service not in service_ids:
                problems.append(ConfigProblem(f"{where}.service", f"no service has the id {answer.service!r}"))
    if not problems:
        cycle = _find_cycle(graph)
        if cycle:
            problems.append(ConfigProblem(f"{path}.questions", "questions lead in a circle: " + " → ".join(cycle)))
    return problems


def _find_cycle(graph: ServiceGraph) -> list[str] | None:
    """A question path that returns to itself, or None; a visitor would never reach a service."""
    edges = {q.id: [a.question for a in q.answers if a.question] for q in graph.questions}
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in edges.get(node, []):
            if state.get(nxt) == "open":
                return trail[trail.index(nxt):] + [node, nxt] if nxt in trail else [node, nxt]
            if nxt not in state:
                found = visit(nxt, trail + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for question_id in edges:
        if question_id not in state:
            found = visit(question_id, [])
            if found:
                return found
    return None
