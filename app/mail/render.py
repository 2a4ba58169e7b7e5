"""Rendering emails from Jinja templates (templates/email/), outside any request.

Mail is composed where a booking changes — in a request, or in the background when a
vendor answers later — so it has its own environment: HTML autoescaped, text not, and
undefined variables fail (as the step templates do).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from app import i18n

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


class MailTemplates:
    def __init__(self, filters: dict[str, Callable[..., Any]] | None = None, folder: Path = TEMPLATES) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=True,
        )
        i18n.install(self._env)  # the visitor's emails speak their language (i18n.using)
        self._env.filters.update(filters or {})

    def render(self, name: str, **variables: Any) -> tuple[str, str]:
        """templates/email/NAME.txt and NAME.html: the plain-text and the HTML body."""
        text = self._env.get_template(f"email/{name}.txt").render(**variables)
        html = self._env.get_template(f"email/{name}.html").render(**variables)
        return text.strip() + "\n", html
