"""The demo company's website, for `make run` (not served in production)."""

from __future__ import annotations

from quart import Blueprint, render_template

bp = Blueprint("demo", __name__)

DEMO_KEY = "pk_test_demo"


@bp.get("/")
async def home() -> str:
    return await render_template("demo/index.html", publishable_key=DEMO_KEY, page="home")


@bp.get("/commercial")
async def commercial() -> str:
    return await render_template("demo/index.html", publishable_key=DEMO_KEY, page="commercial")
