"""A visitor walking the booking flow over HTTP, as the widget does, and what they see."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.web.protocol import KEY_HEADER, SESSION_HEADER


@dataclass
class Page:
    """A fragment the server sent: status, step and what it says."""

    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.headers = {k.lower(): v for k, v in self.headers.items()}

    @property
    def step(self) -> str | None:
        match = re.search(r'data-step="([^"]+)"', self.text)
        return match.group(1) if match else None

    @property
    def errors(self) -> dict[str, str]:
        return {name: html.unescape(msg) for name, msg in re.findall(r'id="wb-error-([\w-]+)">([^<]*)<', self.text)}

    @property
    def notice(self) -> str | None:
        match = re.search(r'class="wb-notice" role="alert">([^<]*)<', self.text)
        return html.unescape(match.group(1)) if match else None

    @property
    def heading(self) -> str:
        match = re.search(r"data-step-heading>([^<]*)<", self.text)
        return html.unescape(match.group(1)) if match else ""

    def value_of(self, name: str) -> str | None:
        match = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', self.text)
        return html.unescape(match.group(1)) if match else None

    def checked(self, name: str) -> str | None:
        match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"[^>]*? checked', self.text)
        return match.group(1) if match else None

    def open_days(self) -> list[str]:
        return re.findall(r"wb-day--open[^>]*?hx-get=\"[^\"]*date=(\d{4}-\d{2}-\d{2})\"", self.text, flags=re.S)

    def open_windows(self) -> list[str]:
        return re.findall(r'name="window" value="([\w-]+)"(?![^>]*disabled)', self.text)

    def contains(self, text: str) -> bool:
        return text in html.unescape(self.text)


Send = Callable[[str, str, dict[str, str], dict[str, str]], Awaitable[Page]]


def quart_sender(client) -> Send:  # type: ignore[no-untyped-def]
    async def send(method: str, path: str, form: dict[str, str], headers: dict[str, str]) -> Page:
        if method == "GET":
            response = await client.get(path, query_string=form, headers=headers)
        else:
            response = await client.post(path, form=form, headers=headers)
        return Page(response.status_code, await response.get_data(as_text=True), dict(response.headers))

    return send


def httpx_sender(client, base_url: str) -> Send:  # type: ignore[no-untyped-def]
    async def send(method: str, path: str, form: dict[str, str], headers: dict[str, str]) -> Page:
        if method == "GET":
            response = await client.get(base_url + path, params=form, headers=headers)
        else:
            response = await client.post(base_url + path, data=form, headers=headers)
        return Page(response.status_code, response.text, dict(response.headers))

    return send


CUSTOMER = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "phone": "(512) 555-0142",
    "email": "ada@example.com",
    "street": "100 Congress Ave",
    "unit": "",
    "city": "Austin",
    "state": "TX",
    "zip_code": "78701",
}
DETAILS = {"detail-description": "The kitchen sink drips", "detail-property-type": "House"}


class Visitor:
    def __init__(self, send: Send, key: str = "pk_test_demo", origin: str | None = None) -> None:
        self._send = send
        self.key = key
        self.origin = origin
        self.token: str | None = None
        self.headers: dict[str, str] = {}  # what the browser adds (Accept-Language…)

    def _headers(self) -> dict[str, str]:
        headers = {KEY_HEADER: self.key, **self.headers}
        if self.token:
            headers[SESSION_HEADER] = self.token
        if self.origin:
            headers["Origin"] = self.origin
        return headers

    async def start(self, **form: str) -> Page:
        page = await self._send("POST", "/sessions", {"page_url": "http://localhost:8000/", **form}, self._headers())
        self.token = page.headers.get(SESSION_HEADER.lower())
        return page

    async def submit(self, step: str, **form: str) -> Page:
        return await self._send("POST", f"/session/steps/{step}", form, self._headers())

    async def back(self) -> Page:
        return await self._send("POST", "/session/back", {}, self._headers())

    async def edit(self, step: str) -> Page:
        return await self._send("POST", f"/session/steps/{step}/edit", {}, self._headers())

    async def current(self) -> Page:
        return await self._send("GET", "/session/step", {}, self._headers())

    async def view(self, step: str, **query: str) -> Page:
        return await self._send("GET", f"/session/steps/{step}", query, self._headers())

    async def first_open_window(self, today: date) -> tuple[str, str]:
        """The first day with a free window (this month or a later one) and that window."""
        for months_ahead in range(3):
            month = (today.replace(day=1) + timedelta(days=32 * months_ahead)).strftime("%Y-%m")
            days = (await self.view("Timeslot", month=month)).open_days()
            if days:
                windows = (await self.view("Timeslot", date=days[0])).open_windows()
                return days[0], windows[0]
        raise AssertionError("no open day in three months")

    async def walk_to(
        self, step: str, today: date, window: tuple[str, str] | None = None, first_page: Page | None = None
    ) -> Page:
        """Go through the demo flow (from `first_page`, or a new session) until `step` is shown."""
        page = first_page or await self.start()
        answers = [
            ("ZipCode", {"zip_code": "78701"}),
            ("ServiceSelection", {"answer": "plumbing"}),
            ("ServiceSelection", {"answer": "leak"}),
            ("ServiceSelection", {"answer": "inside"}),
            ("AdditionalDetails", DETAILS),
            ("Timeslot", None),
            ("Customer", CUSTOMER),
        ]
        for name, form in answers:
            if page.step == step:
                return page
            if form is None:
                day, window_id = window or await self.first_open_window(today)
                form = {"date": day, "window": window_id}
            page = await self.submit(name, **form)
            assert page.status == 200, (name, page.status, page.errors, page.notice)
        assert page.step == step, page.step
        return page
