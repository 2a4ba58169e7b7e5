"""A month's grid is rendered once for all shown the same one — and never shown to anyone else.

Every grid served from what was kept must be the grid a fresh render gives for that
calendar: hypothesis walks months, open days, chosen days, languages and both modes one
after another through the same kept grids, and compares each with a fresh render.
"""

from __future__ import annotations

import calendar as months
from datetime import date

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quart import Quart

from app import create_app
from app.i18n import LOCALES, Locale, month_name, using
from app.settings import load_settings
from app.steps.timeslot import MonthCalendar
from app.vendors.base import DayAvailability
from app.web.calendar_grid import TEMPLATE, Grids, QueryURL


@pytest.fixture(scope="module")
def app() -> Quart:
    # Only its templates are used: nothing here connects to the database.
    return create_app(load_settings(environment="test", mongodb_uri="mongodb://127.0.0.1:9", mongodb_database="grid"))


def month(year: int, number: int, open_days: set[int] | frozenset[int], chosen: int | None, locale: Locale) -> MonthCalendar:
    last = months.monthrange(year, number)[1]
    with using(locale):
        label = month_name(date(year, number, 1))
    days = [DayAvailability(date(year, number, d), 3 if d in open_days else 0) for d in range(1, last + 1)]
    weeks = months.Calendar(firstweekday=months.SUNDAY).monthdayscalendar(year, number)
    return MonthCalendar(
        month_label=label, month=f"{year}-{number:02d}",
        previous_month=None if number == 1 else f"{year}-{number - 1:02d}",
        next_month=None if number == 12 else f"{year}-{number + 1:02d}",
        weeks=[[date(year, number, d) if d else None for d in week] for week in weeks],
        availability={d.day: d for d in days}, any_open=any(d.available for d in days),
        chosen_day=date(year, number, chosen) if chosen and chosen <= last else None, windows=[],
    )


def fresh(env: jinja2.Environment, shown: MonthCalendar, mode: str, view_url: QueryURL | None) -> str:
    return str(env.get_template(TEMPLATE).module.month_table(shown, mode, view_url))  # type: ignore[attr-defined]


# Few choices of each, so that grids differing in one thing only meet in one walk.
grids_shown = st.lists(
    st.tuples(
        st.sampled_from([(2027, 2), (2027, 12)]),
        st.sampled_from([frozenset(), frozenset({4, 5, 6}), frozenset({4, 6}), frozenset(range(1, 32))]),
        st.sampled_from([None, 5, 6]),
        st.sampled_from(LOCALES),
        st.sampled_from(["htmx", "form"]),
        st.sampled_from(["https://a.example/session/steps/Timeslot", "https://b.example/session/steps/Timeslot"]),
    ),
    min_size=1, max_size=16,
)


@settings(max_examples=150, deadline=None)
@given(grids_shown)
def test_a_kept_grid_is_the_grid_a_fresh_render_gives(app: Quart, shown: list[tuple]) -> None:  # type: ignore[type-arg]
    grids = Grids(max_entries=4)  # small: some are dropped and rendered again on the way
    for (year, number), open_days, chosen, locale, mode, base in shown * 2:  # each twice: the second from the kept ones
        view_url = QueryURL(base) if mode == "htmx" else None
        calendar = month(year, number, open_days, chosen, locale)
        with using(locale):
            assert str(grids.render(app.jinja_env, calendar, mode, view_url)) == fresh(app.jinja_env, calendar, mode, view_url)


def test_a_day_that_closes_is_shown_closed_at_once(app: Quart) -> None:
    grids = Grids()
    view_url = QueryURL("https://a.example/session/steps/Timeslot")
    before = grids.render(app.jinja_env, month(2027, 3, {4, 5, 6}, None, "en_US"), "htmx", view_url)
    after = grids.render(app.jinja_env, month(2027, 3, {4, 6}, None, "en_US"), "htmx", view_url)  # the 5th was booked full
    assert "Friday, March 5, no windows" not in before and "Friday, March 5, no windows" in after
    assert grids.render(app.jinja_env, month(2027, 3, {4, 5, 6}, None, "en_US"), "htmx", view_url) is before  # kept


def test_each_language_has_its_own_grid(app: Quart) -> None:
    grids = Grids()
    shown = {locale: month(2027, 3, {4}, None, locale) for locale in LOCALES}
    with using("en_US"):
        english = grids.render(app.jinja_env, shown["en_US"], "form", None)
    with using("es_US"):
        spanish = grids.render(app.jinja_env, shown["es_US"], "form", None)
    assert "Previous month" in english and "Previous month" not in spanish and "marzo" in spanish
