"""A month's calendar grid, rendered once for everyone who is shown the same one.

The grid (the month's name and arrows, a button per day with its label, state and link)
is the largest part of a calendar view: 35-odd buttons, a tenth of the view's CPU. Every
visitor of a company who looks at the same month, with the same days open and the same
day chosen, in the same language, is shown the very same grid — the links carry the step,
not the session (the session travels in a header). So it is rendered once and kept: the
key is everything the grid shows (`month_table` in templates/components/_calendar.html
reads nothing else), and a few hundred grids are kept, the least recently used dropped
first. A booking that closes a day changes the open days, so the key: no grid goes stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup

from app.i18n import current_locale
from app.steps.timeslot import MonthCalendar

TEMPLATE = "components/_calendar.html"
MAX_GRIDS = 512  # about 6 KB each


class QueryURL:
    """A URL that adds a query when called (`view_url(date="2027-01-04")`); its `base` is
    what a grid's key needs to know of it."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, **query: Any) -> str:
        return f"{self.base}?{urlencode(query)}" if query else self.base


class Grids:
    def __init__(self, max_entries: int = MAX_GRIDS) -> None:
        self._kept: OrderedDict[Hashable, Markup] = OrderedDict()
        self._max_entries = max_entries

    def render(self, env: jinja2.Environment, calendar: MonthCalendar, mode: str, view_url: QueryURL | None) -> Markup:
        template = env.get_template(TEMPLATE)  # a template reloaded in development is a new key
        key = (
            template, current_locale(), mode, view_url.base if view_url else None,
            calendar.month, calendar.month_label, calendar.previous_month, calendar.next_month, calendar.chosen_day,
            calendar.any_open, tuple(tuple(week) for week in calendar.weeks),
            tuple(day for day, shown in calendar.availability.items() if shown.available),
        )
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
            return found
        grid = Markup(template.module.month_table(calendar, mode, view_url))  # type: ignore[attr-defined]
        self._kept[key] = grid
        while len(self._kept) > self._max_entries:
            self._kept.popitem(last=False)
        return grid


GRIDS = Grids()


@jinja2.pass_environment
def calendar_table(env: jinja2.Environment, calendar: MonthCalendar, mode: str, view_url: QueryURL | None = None) -> Markup:
    return GRIDS.render(env, calendar, mode, view_url)


def install(env: jinja2.Environment) -> None:
    """`{{ calendar_table(calendar, mode, view_url) }}` in templates (the month_grid macro)."""
    env.globals["calendar_table"] = calendar_table
