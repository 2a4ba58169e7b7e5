"""The JSON API: flow resolution, button triggers, availability and bookings."""

from __future__ import annotations

from quart import Quart


def init_api(app: Quart) -> None:
    from app.api import errors, routes

    app.register_blueprint(routes.bp)
    errors.init_errors(app)
