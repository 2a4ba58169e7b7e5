"""ServiceSelection: one question at a time through the flow's graph until a service is reached.

State: `trail`, the questions on screen so far (the last is the one shown), and
`answers`, the choice made on each question (so Back and forward again pre-select it).
"""

from __future__ import annotations

from typing import Any

from app.domain.booking import Answer, ChosenService
from app.flows.models import Question
from app.i18n import N_, gettext
from app.steps.base import FormData, StepContext, StepHandler, StepResult

CHOOSE_MESSAGE = N_("Choose one of the options.")


class ServiceSelectionStep(StepHandler):
    step_type = "ServiceSelection"
    template = "steps/service_selection.html"

    def _trail(self, ctx: StepContext) -> list[str]:
        graph = ctx.flow.service_graph
        known = {q.id for q in graph.questions}
        trail = [q for q in ctx.state.get("trail", []) if q in known]
        return trail or [graph.start]

    def _question(self, ctx: StepContext) -> Question:
        return ctx.flow.service_graph.question(self._trail(ctx)[-1])

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        question = self._question(ctx)
        return {
            "question": question,
            "selected": ctx.state.get("answers", {}).get(question.id),
            "question_number": len(self._trail(ctx)),
            "inner_back": len(self._trail(ctx)) > 1,
        }

    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        graph = ctx.flow.service_graph
        trail = self._trail(ctx)
        question = graph.question(trail[-1])
        answer = next((a for a in question.answers if a.id == form.text("answer")), None)
        ctx.state["trail"] = trail
        if answer is None:
            return StepResult(errors={"answer": gettext(CHOOSE_MESSAGE)})
        answers: dict[str, str] = ctx.state.setdefault("answers", {})
        answers[question.id] = answer.id
        ctx.record("answer_chosen", question=question.id, answer=answer.id)
        if answer.question is not None:
            trail.append(answer.question)
            return StepResult()
        service = graph.service(answer.service or "")
        ctx.session.booking.service = ChosenService(service.id, service.name, service.duration_minutes)
        ctx.session.booking.answers = [
            Answer(q.id, q.prompt, answers[q.id], next(a.label for a in q.answers if a.id == answers[q.id]))
            for q in (graph.question(qid) for qid in trail)
        ]
        return StepResult(advance=True)

    def reopened(self, ctx: StepContext) -> None:
        """*Change service* starts at the first question, its answer pre-selected."""
        ctx.state["trail"] = [ctx.flow.service_graph.start]

    async def back(self, ctx: StepContext) -> bool:
        trail = self._trail(ctx)
        if len(trail) <= 1:
            return False
        ctx.state["trail"] = trail[:-1]
        ctx.session.direction = "back"
        return True
