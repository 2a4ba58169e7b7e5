"""Rendering a `StepView` (from the step engine) as an HTML fragment with its URLs."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import jinja2
from quart import Quart, Response, render_template
from quart.templating import Environment as QuartEnvironment

from app.steps.engine import CONFIRMATION_TEMPLATE, StepView
from app.web import services
from app.web.calendar_grid import QueryURL
from app.web.photos import photo_link
from app.web.urls import external_url


async def render_view(view: StepView, photo_url: Callable[[str], str] = photo_link) -> str:
    """The fragment's HTML: the view's variables and the URLs its forms and links use
    (`photo_url`: the gallery's sample photos are not in a bucket)."""
    urls: dict[str, object] = {}
    if view.template == CONFIRMATION_TEMPLATE:
        booking, organization = view.variables["booking"], view.variables["organization"]
        token = services.current().links.token(booking, "calendar", organization.zone)
        urls["calendar_url"] = external_url("booking_pages.booking_calendar", token=token)
    elif view.step_id is not None:
        step_id = view.step_id
        urls = {
            "submit_url": external_url("steps.submit_step", step_id=step_id),
            "back_url": external_url("steps.go_back") if view.has_back else None,
            "edit_url": lambda edited: external_url("steps.edit_step", step_id=edited),
            # The calendar links every day of its month: the URL is built once, its query per day.
            "view_url": QueryURL(external_url("steps.view_step", step_id=step_id)),
        }
        if "places" in view.variables:  # the Customer step: returning customers
            urls["returning_url"] = external_url("steps.returning_customer")
        if view.variables.get("photo_request") is not None:
            urls |= {"photos_url": external_url("photos.begin_upload"), "photo_url": photo_url}
    return await render_template(view.template, **view.variables, **urls)


class _RenderedAtOnce(jinja2.Template):
    """A template compiled for synchronous rendering that Quart's `render_template` (which
    awaits `render_async`) renders all the same."""

    async def render_async(self, *args: Any, **kwargs: Any) -> str:
        return self.render(*args, **kwargs)


class SynchronousEnvironment(QuartEnvironment):
    """Quart's Jinja environment, with templates compiled as plain Python rather than
    coroutines: Jinja's async mode wraps every block, macro call and attribute in
    `auto_await` and async generators, for templates that never wait on anything (what
    they show is computed before they render). A fragment renders in about half the CPU.
    A template may then call no coroutine function: it would print the coroutine."""

    template_class = _RenderedAtOnce

    def __init__(self, app: Quart, **options: Any) -> None:
        super().__init__(app, **options)
        self.is_async = False


def context_processors_in_the_loop(app: Quart) -> None:
    """Quart runs a synchronous template context processor in a worker thread, on every
    render: Flask's default one (g, request, session) and Quart-Auth's (the signed-in
    person, from the cookie) are synchronous and wait on nothing, so that was two thread
    hops a fragment for no gain. They run in the event loop instead. Call it once the
    extensions have registered theirs."""
    for name, processors in app.template_context_processors.items():
        app.template_context_processors[name] = [_in_the_loop(p) for p in processors]


def _in_the_loop(processor: Callable[[], Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
    if inspect.iscoroutinefunction(processor):
        return processor

    async def run() -> dict[str, Any]:
        found: dict[str, Any] = processor()
        return found

    return run


async def view_response(view: StepView) -> Response:
    return Response(await render_view(view), status=view.status, content_type="text/html; charset=utf-8")
