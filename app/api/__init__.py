"""The JSON API: flow resolution, button triggers, availability and bookings."""

from __future__ import annotations

from quart import Quart


def init_api(app: Quart) -> None:
    from app.api import errors, funnel, routes

    app.register_blueprint(routes.bp)
    app.register_blueprint(funnel.bp)
    errors.init_errors(app)
