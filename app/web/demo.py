"""The demo company's website, for `make run` (not served in production).

`?vendor=servicetitan` (or housecallpro, jobber) shows the same site with the widget of
the demo company's twin that books into that vendor's local fake.
"""

from __future__ import annotations

from quart import Blueprint, render_template, request

from app.demo import FAKE_PORTS

bp = Blueprint("demo", __name__)

DEMO_KEY = "pk_test_demo"
VENDOR_NAMES = {"local": "Built-in calendar", "servicetitan": "ServiceTitan", "housecallpro": "Housecall Pro", "jobber": "Jobber"}


LANGUAGES = {"en": "English", "es": "Español"}


async def _page(page: str) -> str:
    vendor = request.args.get("vendor", "local")
    if vendor not in FAKE_PORTS:
        vendor = "local"
    key = DEMO_KEY if vendor == "local" else f"{DEMO_KEY}_{vendor}"
    lang = request.args.get("lang", "")
    return await render_template(
        "demo/index.html", publishable_key=key, page=page, vendor=vendor, vendor_names=VENDOR_NAMES,
        lang=lang if lang in LANGUAGES else None, languages=LANGUAGES,
    )


@bp.get("/")
async def home() -> str:
    return await _page("home")


@bp.get("/commercial")
async def commercial() -> str:
    return await _page("commercial")


@bp.get("/book")
async def book() -> str:
    """The booking form in the page itself (data-wrkbelt-inline)."""
    return await _page("inline")
