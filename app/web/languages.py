"""The language a request is answered in: the visitor's session's, or the booking's (its
emails and page), or — before either is known — the browser's, if the widget speaks it."""

from __future__ import annotations

from quart import request

from app import i18n
from app.flows.models import Flow, Organization


def speak(locale: str, flow: Flow | None) -> None:
    """The rest of this request speaks `locale`, the company's words (its flow's) included."""
    chosen = i18n.known_locale(locale)
    i18n.answer_in(chosen, flow.texts_in(chosen) if flow is not None else None)


def visitors_locale(asked: str | None, organization: Organization) -> i18n.Locale:
    """The page's data-wrkbelt-locale, else the browser's language, else the company's default."""
    return i18n.negotiate(asked, browsers_languages(), i18n.BY_LANGUAGE[organization.default_language])


async def speak_the_browsers_language() -> None:
    """Until a session or a booking says which language it speaks (an expired session, a
    broken link say nothing), answer in the browser's. (A before_request hook: async, as
    Quart runs a plain function in a thread, whose context would not reach the request's.)"""
    i18n.answer_in(i18n.negotiate(None, browsers_languages()))


def browsers_languages() -> list[str]:
    return list(request.accept_languages.values())
