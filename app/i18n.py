"""Languages: which one a visitor reads, our words in it, and dates and times as it writes them.

Our own visitor-facing words are marked in the templates (`{{ _("…") }}`, Jinja's i18n
extension) and in Python (`gettext`, `N_` for module constants) and kept in gettext
catalogues, one per locale: `app/translations/<locale>/LC_MESSAGES/messages.po`.
`make messages` extracts them (pybabel, babel.cfg) and updates the catalogues; designers
and translators edit the `.po` files; the server reads them as they are (compiled in memory
at first use, no build step). English is the source language and needs no catalogue.

A company's own words (step titles, services, questions; its YAML) are not ours to
translate: a flow carries its own `translations:` per language, looked up by the English
text (`company_text`).

The locale of the request being answered is a context variable: `using(locale, texts)`
sets it around rendering, and `gettext` reads it, so one process serves every language.
"""

from __future__ import annotations

import gettext as gettext_module
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_date, format_interval, format_skeleton, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup

Locale = Literal["en_US", "es_US"]
LOCALES: tuple[Locale, ...] = ("en_US", "es_US")
DEFAULT_LOCALE: Locale = "en_US"
# A language the visitor asks for (from a BCP 47 tag: es, es-MX, es_US…) → the catalogue we have.
BY_LANGUAGE: Mapping[str, Locale] = {"en": "en_US", "es": "es_US"}
# How a language is offered to the visitor, in its own words.
NATIVE_NAMES: Mapping[Locale, str] = {"en_US": "English", "es_US": "Español"}
FOLDER = Path(__file__).resolve().parent / "translations"

_locale: ContextVar[Locale] = ContextVar("locale", default=DEFAULT_LOCALE)
_company_texts: ContextVar[Mapping[str, str]] = ContextVar("company_texts", default=MappingProxyType({}))


def N_(message: str) -> str:
    """Marks a module-level message for extraction; translate it with `gettext` where it is used."""
    return message


def language_of(tag: object) -> Locale | None:
    """The locale we have for a language tag ('es-MX' → es_US), or None."""
    if not isinstance(tag, str):
        return None
    language = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return BY_LANGUAGE.get(language)


def negotiate(asked: str | None, accepted: Sequence[str], default: Locale = DEFAULT_LOCALE) -> Locale:
    """The visitor's locale: the one the page asked for (data-wrkbelt-locale), else the first
    of the browser's languages we have, else the organization's default."""
    for tag in [asked, *accepted[:20]]:
        found = language_of(tag)
        if found:
            return found
    return default


@cache
def catalogue(locale: Locale) -> gettext_module.NullTranslations:
    """The locale's messages; English (the source language) is the identity."""
    path = FOLDER / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy entry is a guess: English is shown instead
    compiled.seek(0)
    translations: gettext_module.NullTranslations = Translations(compiled)
    return translations


def known_locale(name: str) -> Locale:
    """A stored locale name as one we speak (a booking from before a language was dropped: the default)."""
    return next((locale for locale in LOCALES if locale == name), DEFAULT_LOCALE)


def current_locale() -> Locale:
    return _locale.get()


@contextmanager
def using(locale: Locale, company_texts: Mapping[str, str] | None = None) -> Iterator[None]:
    """Answer in this locale (and with this company's translations) inside the block."""
    locale_token = _locale.set(locale)
    texts_token = _company_texts.set(company_texts or {})
    try:
        yield
    finally:
        _locale.reset(locale_token)
        _company_texts.reset(texts_token)


def answer_in(locale: Locale, company_texts: Mapping[str, str] | None = None) -> None:
    """The rest of this task (one request: each runs in its own task) speaks `locale`."""
    _locale.set(locale)
    _company_texts.set(company_texts or {})


def gettext(message: str) -> str:
    return catalogue(_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(_locale.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return catalogue(_locale.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return catalogue(_locale.get()).npgettext(context, singular, plural, n)


def company_text(text: object) -> object:
    """A company's own words in the visitor's language, when its flow translates them (or
    they are ours: a default the company kept, like the out-of-area message)."""
    if isinstance(text, str):
        return _company_texts.get().get(text) or gettext(text)
    return text


# A day with its weekday in full, without the year (CLDR has no such skeleton in full width).
LONG_DATE: Mapping[Locale, str] = {"en_US": "EEEE, MMMM d", "es_US": "EEEE, d 'de' MMMM"}


class Window(Protocol):
    """An arrival window as the widget shows it (ChosenWindow, ArrivalWindow)."""

    @property
    def label(self) -> str: ...
    @property
    def start(self) -> time: ...
    @property
    def end(self) -> time: ...


def window_text(window: Window) -> str:
    """A window in the visitor's language: the company's translation of its label, else the
    label itself in English, else its hours as the locale writes them ('8–11 a.m.')."""
    label = window.label
    translated = _company_texts.get().get(label)
    if translated:
        return translated
    locale = _locale.get()
    if locale == DEFAULT_LOCALE:
        return label
    skeleton = "h" if window.start.minute == 0 and window.end.minute == 0 else "hm"
    return str(format_interval(window.start, window.end, skeleton, locale=locale))


def tidy(text: str) -> str:
    """One full stop where a sentence ends on an abbreviation ('… 8–11 a.m..' → '… a.m.')."""
    tidied = re.sub(r"(?<=[^.]\.)\.(?!\.)", "", text)
    return Markup(tidied) if isinstance(text, Markup) else tidied


def long_date(day: date) -> str:
    """'Wednesday, March 3' / 'miércoles, 3 de marzo': how a day reads in the widget and emails."""
    return _long_date(day, _locale.get())


@lru_cache(maxsize=4096)
def _long_date(day: date, locale: Locale) -> str:
    # Each calendar names every day of its month: Babel's formatting is worth keeping.
    return str(format_date(day, LONG_DATE[locale], locale=locale))


def month_name(day: date) -> str:
    """'March 2027' / 'marzo de 2027': a calendar's heading."""
    return _month_name(day.year, day.month, _locale.get())


@lru_cache(maxsize=1024)
def _month_name(year: int, month: int, locale: Locale) -> str:
    # Babel's skeleton formatting is a twentieth of a calendar view's CPU, for one of a few names.
    return str(format_skeleton("yMMMM", date(year, month, 1), locale=locale))


def weekday_initials() -> list[tuple[str, str]]:
    """The calendar's column heads, Sunday first: (short, full) in the locale: ('Su', 'Sunday')."""
    return list(_weekday_initials(_locale.get()))


@lru_cache(maxsize=16)
def _weekday_initials(locale: Locale) -> tuple[tuple[str, str], ...]:
    days = [date(2023, 1, n) for n in range(1, 8)]  # 1 January 2023 was a Sunday
    return tuple((str(format_date(d, "EEEEEE", locale=locale)), str(format_date(d, "EEEE", locale=locale))) for d in days)


def zone_label(company_zone: str, visitor_zone: str | None, day: date, city: str | None = None) -> str | None:
    """'Austin time' / 'hora de Austin' when the visitor's clock differs from the company's
    on `day` (times are the company's), else None. `city` names the company's time (its
    config), else the zone's own city (America/Chicago: Chicago)."""
    if not visitor_zone or visitor_zone == company_zone:
        return None
    try:
        theirs, ours = ZoneInfo(visitor_zone), ZoneInfo(company_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    noon = datetime.combine(day, time(12))
    if noon.replace(tzinfo=theirs).utcoffset() == noon.replace(tzinfo=ours).utcoffset():
        return None
    place = city or get_timezone_location(company_zone, locale=_locale.get(), return_city=True)
    return gettext("%(city)s time") % {"city": place}


def install(env: jinja2.Environment) -> None:
    """Templates rendered by `env` speak the current locale: `_()`/`gettext`/`ngettext`
    (new-style: `_("%(n)s windows", n=3)`, escaped), dates, and the company's words."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    env.filters.update(
        long_date=long_date, month_name=month_name, company_text=company_text, window_text=window_text, tidy=tidy,
    )
    env.globals.update(current_locale=current_locale, weekday_initials=weekday_initials, zone_label=zone_label)
