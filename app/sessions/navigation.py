"""Moving a session between the steps of its flow."""

from __future__ import annotations

from app.sessions.model import BookingSession


def previous_step(session: BookingSession) -> str | None:
    index = session.steps.index(session.current_step)
    return session.steps[index - 1] if index > 0 else None


def advance(session: BookingSession) -> bool:
    """Complete the current step and move to the next; False when it was the last one."""
    if session.current_step not in session.completed_steps:
        session.completed_steps.append(session.current_step)
    index = session.steps.index(session.current_step)
    session.direction = "forward"
    if index + 1 >= len(session.steps):
        return False
    session.current_step = session.steps[index + 1]
    return True


def go_back(session: BookingSession) -> bool:
    previous = previous_step(session)
    if previous is None:
        return False
    session.current_step = previous
    session.direction = "back"
    return True


def can_visit(session: BookingSession, step_id: str) -> bool:
    """A visitor may jump to a step they completed, or to the one they are on."""
    return step_id == session.current_step or step_id in session.completed_steps


def go_to(session: BookingSession, step_id: str) -> None:
    before = session.steps.index(session.current_step)
    session.current_step = step_id
    session.direction = "back" if session.steps.index(step_id) < before else "forward"
