"""Walking the demo flow in the browser, by mouse or by keyboard only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import Page, expect

from app import i18n
from app.demo import DEMO_FILE
from app.flows.loading import load_organization_file

OnStep = Callable[[str], Awaitable[None]]


def spoken(language: str) -> Callable[[str], str]:
    """What the widget says for an English text in `language` ("es"): our catalogue, and the
    demo flow's own translations."""
    locale = i18n.language_of(language) or i18n.DEFAULT_LOCALE
    texts = load_organization_file(DEMO_FILE).flows[0].texts_in(language)

    def say(english: str) -> str:
        with i18n.using(locale, texts):
            return str(i18n.company_text(english))

    return say

HEADING_FOCUSED = """(text) => {
  const active = document.getElementById('wrkbelt-scheduler-container').shadowRoot.activeElement;
  return !!active && active.hasAttribute('data-step-heading') && active.textContent === text;
}"""
SHADOW_FOCUSED_LABEL = """() => {
  const active = document.getElementById('wrkbelt-scheduler-container').shadowRoot.activeElement;
  return active ? active.getAttribute('aria-label') : null;
}"""
SHADOW_FOCUS_MATCHES = """(selector) => {
  const active = document.getElementById('wrkbelt-scheduler-container').shadowRoot.activeElement;
  return !!active && active.matches(selector);
}"""


async def heading_has_focus(page: Page, text: str) -> None:
    await expect(page.get_by_role("heading", name=text)).to_be_visible()
    await page.wait_for_function(HEADING_FOCUSED, arg=text, timeout=5000)


async def _continue(page: Page, say: Callable[[str], str] = str) -> None:
    await page.get_by_role("button", name=say("Continue")).click()


async def _nothing(_: str) -> None:
    return None


async def book_with_mouse(
    page: Page,
    on_step: OnStep = _nothing,
    show_errors: bool = False,
    typed: dict[str, str | None] | None = None,
    confirmation: str = "You're booked!",
    double_click_confirm: bool = False,
    language: str = "en",
) -> None:
    """From the open dialog's first step to the confirmation, clicking and typing.

    `typed` replaces what is typed into a field, by its (English) label (None: the field is
    left alone, as when an address on file hides the address fields); `confirmation` is
    the last heading ("We've got your request" while a vendor has not answered); `language`
    the one the widget speaks (the labels and headings looked for are in it)."""
    typed = typed or {}
    say = spoken(language)
    dialog = page.get_by_role("dialog")
    await heading_has_focus(page, say("Where do you need service?"))
    await on_step("1-zip-code")
    if show_errors:
        await page.get_by_label(say("ZIP code")).fill("10001")
        await _continue(page, say)
        await expect(dialog.get_by_text(say("We don't serve %(zip)s yet.") % {"zip": "10001"})).to_be_visible()
        await on_step("1-zip-code-out-of-area")
    await page.get_by_label(say("ZIP code")).fill("78701")
    await _continue(page, say)

    await heading_has_focus(page, say("What can we help with?"))
    await on_step("2-service-selection")
    for answer in ("Plumbing", "A leak or burst pipe", "Inside the house"):
        await page.get_by_label(say(answer), exact=True).check()
        await _continue(page, say)
        if answer != "Inside the house":
            await expect(page.get_by_label(say(answer), exact=True)).to_be_hidden()

    await heading_has_focus(page, say("Tell us a little more"))
    await on_step("3-additional-details")
    if show_errors:
        await _continue(page, say)
        await expect(dialog.get_by_text(say("Please fill this in."))).to_be_visible()
        await on_step("3-additional-details-errors")
    await page.get_by_label(say("Describe the problem")).fill(typed.get("Describe the problem") or "Water under the sink")
    await page.get_by_label(say("Property type")).select_option("House")
    await _continue(page, say)

    await heading_has_focus(page, say("Pick an arrival window"))
    await on_step("4-timeslot")
    await dialog.locator(".wb-day--open").first.click()
    await expect(dialog.locator("input[name=window]").first).to_be_visible()
    await on_step("4-timeslot-day")
    await dialog.locator("input[name=window]:not([disabled])").first.check()
    await _continue(page, say)

    await heading_has_focus(page, say("Your contact details"))
    await on_step("5-customer")
    if show_errors:
        await _continue(page, say)
        await expect(dialog.get_by_text(say("Enter your first name."))).to_be_visible()
        await on_step("5-customer-errors")
    for label, value in (
        ("First name", "Ada"), ("Last name", "Lovelace"), ("Phone", "512 555 0142"), ("Email", "ada@example.com"),
        ("Street address", "100 Congress Ave"), ("City", "Austin"), ("State", "TX"),
    ):
        entry = typed.get(label, value)
        if entry is not None:
            await page.get_by_label(say(label), exact=True).fill(entry)
    await _continue(page, say)

    await heading_has_focus(page, say("Review your booking"))
    await on_step("6-summary")
    confirm = page.get_by_role("button", name=say("Confirm booking"))
    await (confirm.dblclick() if double_click_confirm else confirm.click())
    await heading_has_focus(page, say(confirmation))
    await on_step("7-confirmation")


async def tab_to(page: Page, selector: str, limit: int = 60) -> int:
    """Press Tab until the focused element inside the widget matches `selector`; how many times."""
    for pressed in range(limit):
        if await page.evaluate(SHADOW_FOCUS_MATCHES, selector):
            return pressed
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def book_with_keyboard(page: Page) -> None:
    """The whole flow without the mouse, from a focused page with the widget ready."""
    keys = page.keyboard
    for _ in range(40):
        if await page.evaluate("document.activeElement && document.activeElement.classList.contains('book-now')"):
            break
        await keys.press("Tab")
    await keys.press("Enter")

    await heading_has_focus(page, "Where do you need service?")
    await tab_to(page, "input[name=zip_code]")
    await keys.type("78701")
    await keys.press("Enter")

    for heading in ("What can we help with?", "What's going on with your plumbing?", "Where is the leak?"):
        await expect(page.get_by_text(heading)).to_be_visible()
        await tab_to(page, "input[name=answer]")
        await keys.press("Space")
        await tab_to(page, "button[type=submit]")
        await keys.press("Enter")

    await heading_has_focus(page, "Tell us a little more")
    await tab_to(page, "textarea")
    await keys.type("Water under the sink")
    await keys.press("Tab")
    await keys.press("ArrowDown")  # the select's first real option: House
    await tab_to(page, "button[type=submit]")
    await keys.press("Enter")

    await heading_has_focus(page, "Pick an arrival window")
    await tab_to(page, ".wb-day--open")
    first = await page.evaluate(SHADOW_FOCUSED_LABEL)
    await keys.press("ArrowRight")  # the calendar is a grid: arrows move among the open days
    assert await page.evaluate(SHADOW_FOCUS_MATCHES, ".wb-day--open") and await page.evaluate(SHADOW_FOCUSED_LABEL) != first
    await keys.press("ArrowLeft")
    assert await page.evaluate(SHADOW_FOCUSED_LABEL) == first
    await keys.press("Enter")
    await expect(page.get_by_text("Arrival windows on")).to_be_visible()
    await tab_to(page, ".wb-day--chosen")
    assert await tab_to(page, "input[name=window]") <= 2  # one Tab stop for the whole month, not one per day
    await keys.press("Space")
    await tab_to(page, "button[type=submit]")
    await keys.press("Enter")

    await heading_has_focus(page, "Your contact details")
    await tab_to(page, "input[name=first_name]")
    for value in ("Ada", "Lovelace", "512 555 0142", "ada@example.com", "100 Congress Ave", "", "Austin", "TX"):
        await keys.type(value)
        await keys.press("Tab")
    await keys.press("Enter")  # in the ZIP field, prefilled from the first step: submits the form

    await heading_has_focus(page, "Review your booking")
    await tab_to(page, "button[type=submit]")
    await keys.press("Enter")
    await heading_has_focus(page, "You're booked!")
