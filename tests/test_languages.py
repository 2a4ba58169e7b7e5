"""Languages: every word of the widget in English and Spanish, the visitor's locale chosen
as the issue says (the page's data-wrkbelt-locale, else the browser's language, else the
company's default), the company's own words translated by its flow, and the company's time
named when the visitor's clock differs."""

from __future__ import annotations

import html
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app import ROOT, i18n
from app.demo.mailbox import Mailbox
from app.flows.loading import load_organization_file
from app.flows.models import OrganizationConfig
from app.flows.repository import save_organization
from app.i18n import LOCALES, negotiate
from app.web.services import services_of
from tests.conftest import demo_config
from tests.visitor import Visitor

TRANSLATIONS = ROOT / "app" / "translations"
KEY = {"X-Scheduler-Key": "pk_test_demo"}


def extracted() -> set[object]:
    """What `make messages` extracts now (babel.cfg), as msgids (plural: (singular, plural))."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
    found: set[object] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalogue(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en_US"])
def test_every_word_of_the_widget_is_translated(locale: str) -> None:
    """Run `make messages`, then translate each new msgstr: this fails while any word of the
    widget (templates and Python) has no translation, a guessed (fuzzy) one, or one whose
    placeholders differ from the English."""
    messages = extracted()
    assert len(messages) > 80  # the extraction found the templates, not just the Python
    catalog = catalogue(locale)
    translated = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog if m.id}
    missing = sorted(str(m) for m in messages if m not in translated)
    assert not missing, f"not in {locale}'s catalogue (run `make messages`): {missing}"
    empty = sorted(str(key) for key in messages if not all(s for s in (
        translated[key].string if isinstance(translated[key].string, tuple) else (translated[key].string,))))
    assert not empty, f"untranslated in {locale}: {empty}"
    fuzzy = sorted(str(key) for key in messages if translated[key].fuzzy)
    assert not fuzzy, f"fuzzy (a guess, not shown) in {locale}: {fuzzy}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, problems


def test_the_template_the_catalogues_come_from_is_current() -> None:
    """app/translations/messages.pot is what `make messages` writes today."""
    with (TRANSLATIONS / "messages.pot").open("rb") as pot:
        committed = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(pot) if m.id}
    assert committed == extracted()


class _Text(HTMLParser):
    """The words a visitor reads or hears in a fragment: text, and labels in attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"aria-label", "placeholder", "title", "alt", "abbr"} and value:
                self.words.append(value.strip())

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.words.append(" ".join(data.split()))


def _fragments(page: str) -> dict[str, list[str]]:
    found = {}
    for name, body in re.findall(r'<template id="fragment-([^"]+)">(.*?)</template>', page, flags=re.S):
        parser = _Text()
        parser.feed(html.unescape(body))
        found[name] = parser.words
    return found


# What stays the same in both languages: the sample visitor's entries and the company's name.
SAME_IN_BOTH = re.compile(
    r"^(Demo Plumbing & Air|Austin, TX 78701|Ada|Lovelace|Ada Lovelace|ada@example\.com|100 Congress Ave|Suite 4|Austin|TX|78701|78a|10001|"
    r"Texas|555|ada@|\(512\) 555-0142|12|x@|WB-7K4M2Q|Water under the kitchen sink|•••• Congress Ave|•••• E 6th St|[\d\s,.–:—()-]*|[\W\d]*)$"
)


async def test_no_english_is_left_in_the_spanish_widget(client) -> None:  # type: ignore[no-untyped-def]
    """Every state of every step (the gallery renders them with the real handlers) in English
    and in Spanish: whatever reads the same in both, beyond names and the visitor's entries,
    is a word nobody translated (ours in a template not marked for extraction, or the demo
    company's in its flow)."""
    english = _fragments(await (await client.get("/_dev/gallery?lang=en")).get_data(as_text=True))
    spanish = _fragments(await (await client.get("/_dev/gallery?lang=es")).get_data(as_text=True))
    assert english.keys() == spanish.keys() and len(english) >= 30
    left = {}
    for name, words in spanish.items():
        same = [w for w in words if w in english[name] and not SAME_IN_BOTH.match(w)]
        if same:
            left[name] = same
    assert not left, left


async def test_the_browsers_language_chooses_spanish_and_the_session_keeps_it(visitor: Visitor, today) -> None:  # type: ignore[no-untyped-def]
    """A browser that prefers Mexican Spanish gets the widget in Spanish (es_US: ours), from
    the first step through its messages, the calendar and the confirmation's dates."""
    visitor.headers = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
    page = await visitor.start()
    assert page.heading == "¿Dónde necesita el servicio?" and 'lang="es-US"' in page.text
    assert page.contains("Paso 1 de 6") and page.contains("Continuar")
    visitor.headers = {}  # the session remembers its language, whatever the next request says
    page = await visitor.submit("ZipCode", zip_code="7870")
    assert page.errors == {"zip_code": "Escriba un código postal (ZIP) de 5 dígitos."}
    page = await visitor.walk_to("Timeslot", today, first_page=await visitor.submit("ZipCode", zip_code="78701"))
    assert page.heading == "Elija un horario de llegada" and page.contains("Lo antes posible")
    assert re.search(r'<p class="wb-calendar__month"[^>]*>[a-z]+ de \d{4}</p>', page.text), "the month, as Spanish writes it"
    day, window = await visitor.first_open_window(today)
    page = await visitor.view("Timeslot", date=day)
    assert page.contains("Horarios de llegada del ") and page.contains("de 8 a 11 de la mañana")
    page = await visitor.walk_to("Summary", today, window=(day, window), first_page=await visitor.submit("Timeslot", date=day, window=window))
    assert page.contains("Confirmar reserva") and page.contains("Reparación de fuga")
    page = await visitor.submit("Summary")
    assert page.heading in {"¡Su reserva está lista!", "Recibimos su solicitud"} and page.contains("Su número de reserva es ")


@pytest.mark.parametrize(
    ("asked", "accept", "default", "expected"),
    [
        ("en", "es-MX,es;q=0.9", "es", "Where do you need service?"),  # the page's word wins
        ("es-US", "en-US", "en", "¿Dónde necesita el servicio?"),
        (None, "fr-FR,de;q=0.8", "es", "¿Dónde necesita el servicio?"),  # neither spoken: the company's default
        (None, "fr-FR,es;q=0.5", "en", "¿Dónde necesita el servicio?"),  # the first the widget speaks
        (None, "", "en", "Where do you need service?"),
        ("x" * 2000, "en", "es", "Where do you need service?"),  # hostile: ignored, never a 500
        ("$ne", "\x00;q=abc", "en", "Where do you need service?"),
    ],
)
async def test_the_locale_is_the_pages_else_the_browsers_else_the_companys(  # type: ignore[no-untyped-def]
    app, client, asked: str | None, accept: str, default: str, expected: str
) -> None:
    config = demo_config().model_dump()
    config["default_language"] = default
    await save_organization(services_of(app).db, OrganizationConfig.model_validate(config))
    form = {"page_url": "http://localhost:8000/"} | ({"locale": asked} if asked is not None else {})
    response = await client.post("/sessions", form=form, headers=KEY | {"Accept-Language": accept})
    body = await response.get_data(as_text=True)
    assert response.status_code == 200, body[:500]
    assert expected in html.unescape(body)


async def test_the_widget_learns_the_company_and_its_words_from_the_resolve_answer(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/booking-flow-routers/resolve", json={"url": "http://localhost:8000/", "locale": "es"}, headers=KEY)
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["locale"] == "es_US"
    assert body["company"] == {"name": "Demo Plumbing & Air", "logo_url": None, "phone": "(512) 555-0100", "phone_href": "tel:5125550100"}
    assert body["texts"]["title"] == "Reserve una visita" and body["texts"]["call"] == "Llámenos"
    assert body["steps"][0]["title"] == "¿Dónde necesita el servicio?"
    response = await client.post("/booking-flow-routers/resolve", json={"url": "http://localhost:8000/", "locale": "x" * 100}, headers=KEY)
    assert response.status_code == 422  # longer than any language tag
    response = await client.post("/booking-flow-routers/resolve", json={"url": "http://localhost:8000/", "locale": {"$ne": 1}}, headers=KEY)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("zone", "language", "said"),
    [
        ("America/Los_Angeles", "en", "8 – 11 am Austin time"),
        ("America/Los_Angeles", "es", "de 8 a 11 de la mañana hora de Austin"),
        ("America/Chicago", "en", None),  # the company's own zone: nothing to say
        ("../../etc/passwd", "en", None),  # not a zone: ignored
        ("America/Chicago\x00", "en", None),
        ("Europe/" + "x" * 5000, "en", None),
    ],
)
async def test_windows_say_the_companys_time_when_the_visitors_clock_differs(  # type: ignore[no-untyped-def]
    visitor: Visitor, today, zone: str, language: str, said: str | None
) -> None:
    page = await visitor.start(time_zone=zone, locale=language)
    assert page.status == 200
    await visitor.walk_to("Timeslot", today, first_page=page)
    day, _window = await visitor.first_open_window(today)
    page = await visitor.view("Timeslot", date=day)
    labels = [" ".join(html.unescape(m).split()) for m in re.findall(r'<span class="wb-choice__label">(.*?)</span>', page.text, flags=re.S)]
    if said is None:
        assert labels[0] in {"8 – 11 am", "de 8 a 11 de la mañana"}
    else:
        assert labels[0] == said


async def test_the_emergency_line_calls_the_company(visitor: Visitor, app) -> None:  # type: ignore[no-untyped-def]
    page = await visitor.start()
    assert page.contains("Water everywhere, no heat, or a gas smell?")
    assert '<a class="wb-emergency__call" href="tel:5125550100">Emergency? Call (512) 555-0100</a>' in page.text
    commercial = await visitor.start(flow="commercial")  # its flow says nothing of emergencies
    assert "wb-emergency" not in commercial.text


def test_flows_check_lists_the_company_words_a_language_leaves_in_english(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.__main__ import cli
    from app.demo import DEMO_FILE

    text = DEMO_FILE.read_text().replace('        "Leak repair": "Reparación de fuga"\n', "")
    assert text != DEMO_FILE.read_text()
    changed = tmp_path / "company.yaml"
    changed.write_text(text)
    result = CliRunner().invoke(cli, ["flows", "check", str(changed)])
    assert result.exit_code == 0, result.output
    assert "flow residential: no es translation for 'Leak repair'" in result.output
    assert "no es translation" not in CliRunner().invoke(cli, ["flows", "check", str(DEMO_FILE)]).output
    assert load_organization_file(DEMO_FILE).flows[0].untranslated("es") == []


def test_negotiation_takes_only_what_it_speaks() -> None:
    assert negotiate(None, ["pt-BR", "es-419"]) == "es_US"
    assert negotiate("EN_gb", ["es"]) == "en_US"
    assert negotiate(None, [], default="es_US") == "es_US"
    assert negotiate(None, ["*"]) == "en_US"
    assert date(2027, 3, 3)  # (dates themselves are Babel's: the Spanish walk above reads them)


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2}


async def test_a_spanish_visitors_email_and_booking_page_speak_spanish(  # type: ignore[no-untyped-def]
    visitor: Visitor, mailbox: Mailbox, client, today
) -> None:
    """The booking keeps the visitor's language: the confirmation email (read from the real
    SMTP server) and the page its link opens are in Spanish, whatever the browser says then."""
    page = await visitor.start(locale="es")
    await visitor.walk_to("Summary", today, first_page=page)
    assert (await visitor.submit("Summary")).step == "Confirmation"
    [mail] = await mailbox.wait_for(1)
    assert mail.subject.startswith("Reserva confirmada: Reparación de fuga, ")
    assert "Qué sigue" in mail.text and "Cambiar o cancelar:" in mail.text and "¿Preguntas? Llámenos al (512) 555-0100." in mail.text
    assert 'lang="es-US"' in mail.html and "What happens next" not in mail.html
    [url] = re.findall(r"Cambiar o cancelar: (\S+)", mail.text)
    path = "/" + url.split("://", 1)[1].partition("/")[2]
    response = await client.get(path, headers={"Accept-Language": "en-US"})
    body = html.unescape(await response.get_data(as_text=True))
    assert response.status_code == 200, body[:300]
    assert '<html lang="es-US">' in body and "Su reserva" in body and "Cambiar el horario" in body and "Cancelar la visita" in body
    assert re.search(r"<dd>[a-zé]+, \d+ de [a-z]+, con llegada de ", body), "the day as Spanish writes it"
    response = await client.get(path.split("?")[0] + "/reschedule")
    assert "Elija un nuevo horario" in html.unescape(await response.get_data(as_text=True))
    response = await client.get("/bookings/not-a-link", headers={"Accept-Language": "es-MX"})
    assert response.status_code == 404
    assert "Este enlace no es válido." in html.unescape(await response.get_data(as_text=True))


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


async def test_no_english_is_left_in_the_spanish_emails(app) -> None:  # type: ignore[no-untyped-def]
    """Each kind of the visitor's email in English and in Spanish (the gallery's sample
    booking): a line the same in both, beyond the company's and the visitor's details, is a
    word nobody translated."""
    from datetime import UTC, datetime

    from app.bookings.notices import mail_templates
    from app.demo import DEMO_FILE
    from app.web.gallery import sample_emails

    config = load_organization_file(DEMO_FILE)
    now = datetime(2027, 3, 1, 15, tzinfo=UTC)
    emails = {}
    for locale in ("en_US", "es_US"):
        async with app.app_context():
            with i18n.using(locale):  # type: ignore[arg-type]
                emails[locale] = {kind: mail for kind, mail in sample_emails(config.organization, config.flows[0], now) if not kind.startswith("office")}
    assert mail_templates() is not None and len(emails["es_US"]) == 6
    left = {}
    for kind, mail in emails["es_US"].items():
        english = _lines(emails["en_US"][kind].text)
        same = [line for line in _lines(mail.text) if line in english and not SAME_IN_EMAILS.match(line)]
        if same or mail.subject == emails["en_US"][kind].subject:
            left[kind] = same + [mail.subject]
    assert not left, left


SAME_IN_EMAILS = re.compile(
    r"^(--|Demo Plumbing & Air.*|100 Congress Ave.*|https://\S+|WB-7K4M2Q|Leak repair|8 – 11 am)$"
)


async def test_a_session_that_expired_says_so_in_the_browsers_language(client) -> None:  # type: ignore[no-untyped-def]
    headers = KEY | {"X-Scheduler-Session": "not-a-live-token", "Accept-Language": "es-US,es;q=0.9"}
    response = await client.get("/session/step", headers=headers)
    body = html.unescape(await response.get_data(as_text=True))
    assert response.status_code == 410
    assert "Esta sesión de reserva ha vencido." in body and "Empezar de nuevo" in body and 'lang="es-US"' in body


async def test_windows_the_company_did_not_translate_read_as_the_locale_writes_times(  # type: ignore[no-untyped-def]
    app, visitor: Visitor, mailbox: Mailbox, today
) -> None:
    """A company that translated its questions but not its window labels (a ServiceTitan
    company's labels are made from the hours): the Spanish visitor reads the hours as
    Spanish writes them (Babel: "8–11 a.m."), and no sentence ends in "a.m..\""""
    config = demo_config().model_dump()
    for flow in config["flows"]:
        for label in ("8 – 11 am", "11 am – 2 pm", "2 – 5 pm"):
            flow["translations"]["es"].pop(label)
    await save_organization(services_of(app).db, OrganizationConfig.model_validate(config))
    page = await visitor.start(locale="es", time_zone="America/Chicago")
    await visitor.walk_to("Timeslot", today, first_page=page)
    day, window = await visitor.first_open_window(today)
    labels = re.findall(r'<span class="wb-choice__label">(.*?)</span>', (await visitor.view("Timeslot", date=day)).text, flags=re.S)
    assert [" ".join(label.split()) for label in labels] == ["8–11 a.m.", "11 a.m. – 2 p.m.", "2–5 p.m."]
    page = await visitor.walk_to("Summary", today, window=(day, window), first_page=await visitor.submit("Timeslot", date=day, window=window))
    assert (await visitor.submit("Summary")).step == "Confirmation"
    [mail] = await mailbox.wait_for(1)
    assert "a.m.." not in mail.text and "p.m.." not in mail.text
    assert re.search(r"Demo Plumbing & Air lo visitará el [a-zé]+, \d+ de [a-z]+, 8–11\sa\.m\.\r?$", mail.text, flags=re.M), mail.text


def test_tidy_keeps_an_ellipsis_and_markup() -> None:
    from markupsafe import Markup

    assert i18n.tidy("de 8–11 a.m..") == "de 8–11 a.m."
    assert i18n.tidy("Wait...") == "Wait..."
    assert isinstance(i18n.tidy(Markup("<b>8 a.m.</b>.")), Markup)
