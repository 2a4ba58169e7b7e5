"""Photos of the problem in Chromium, on a phone: the visitor chooses photos (the file
chooser), sees previews and progress, is told why a file that is no photo was refused,
removes one, and books; the photos go to S3 (moto's server) straight from the browser, and
the booking keeps the one left. The photo code loads only when a step asks for photos."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Browser, Page, expect

from app.photos.bucket import create_uploads_bucket
from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse
from tests.browser.host_site import HostSite, start_host_site
from tests.browser.test_embed import ARTIFACTS
from tests.conftest import AWS_TEST_ENVIRONMENT, LiveServer, MotoServer

pytestmark = pytest.mark.browser
BUCKET = "browser-uploads"


@pytest.fixture
def web_env(aws: MotoServer) -> dict[str, str]:
    create_uploads_bucket(BUCKET, aws.url, ["*"])
    return AWS_TEST_ENVIRONMENT | {"UPLOADS_BUCKET": BUCKET, "AWS_ENDPOINT_URL": aws.url}


@pytest.fixture
def host_site(live_server: LiveServer, aws: MotoServer) -> Iterator[HostSite]:
    site = start_host_site(live_server.url, uploads=aws.url)  # /csp.html: the policy docs/PHOTOS.md gives
    yield site
    site.stop()


def photo(width: int, height: int, colour: tuple[int, int, int], kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, kind)
    return out.getvalue()


async def choose(page: Page, files: list[dict[str, object]]) -> None:
    async with page.expect_file_chooser() as chooser:
        await page.get_by_text("Choose photos", exact=True).click()
    await (await chooser.value).set_files(files)  # type: ignore[arg-type]


async def test_a_visitor_adds_photos_from_a_phone_and_the_booking_keeps_them(
    browser: Browser, host_site: HostSite, live_server: LiveServer, aws: MotoServer,
) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    scripts: list[str] = []
    page.on("request", lambda request: request.resource_type == "script" and scripts.append(request.url))
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    shots = ARTIFACTS / "photos"
    shots.mkdir(parents=True, exist_ok=True)

    async def on_step(step: str) -> None:
        if step == "2-service-selection":
            assert not any("/photos." in url for url in scripts)  # not loaded before a step asks for photos
        if step != "3-additional-details":
            return
        dialog = page.get_by_role("dialog")
        fieldset = dialog.locator("[data-wrkbelt-photos]")
        await expect(fieldset.get_by_text("Photos of the problem")).to_be_visible()
        await expect(dialog.get_by_text("Take a photo", exact=True)).to_be_visible()  # a phone: the camera too
        await choose(page, [
            {"name": "leak.jpg", "mimeType": "image/jpeg", "buffer": photo(3000, 4000, (30, 90, 200))},
            {"name": "pipe.png", "mimeType": "image/png", "buffer": photo(800, 600, (200, 60, 30), "PNG")},
        ])
        await expect(fieldset.locator(".wb-photo[data-id]")).to_have_count(2, timeout=20000)
        await expect(fieldset.get_by_role("status")).to_have_text(re.compile(r"^Photo [12] added\.$"))
        assert any("/photos." in url for url in scripts)
        await page.screenshot(path=str(Path(shots / "phone-photos-added.png")), animations="disabled")

        # A file named like a photo that is not one: refused, and the visitor is told why.
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        await choose(page, [{"name": "sneaky.png", "mimeType": "image/png", "buffer": svg}])
        await expect(fieldset.get_by_role("status")).to_have_text(
            "This file isn't a photo we can read. Use a JPEG, PNG or WebP picture.", timeout=20000)
        await expect(fieldset.locator(".wb-photo")).to_have_count(2)
        await page.screenshot(path=str(Path(shots / "phone-photo-refused.png")), animations="disabled")

        await fieldset.get_by_role("button", name="Remove photo 2").click()
        await expect(fieldset.locator(".wb-photo")).to_have_count(1)
        await expect(fieldset.get_by_role("status")).to_have_text("Photo removed.")

        # On a slow connection: the preview and its progress at once; Continue waits for it.
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 100, "downloadThroughput": 400_000, "uploadThroughput": 150_000})
        noisy = io.BytesIO()
        Image.effect_noise((1600, 1200), 90).convert("RGB").save(noisy, "JPEG", quality=95)
        await choose(page, [{"name": "under-sink.jpg", "mimeType": "image/jpeg", "buffer": noisy.getvalue()}])
        await expect(fieldset.locator(".wb-photo--busy progress")).to_be_visible()
        await page.screenshot(path=str(Path(shots / "phone-photo-uploading.png")), animations="disabled")
        await page.get_by_role("button", name="Continue").click()
        await expect(fieldset.get_by_role("status")).to_have_text("Wait a moment: a photo is still uploading.")
        await expect(page.get_by_role("heading", name="Tell us a little more")).to_be_visible()
        await cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        await expect(fieldset.locator(".wb-photo[data-id]")).to_have_count(2, timeout=30000)

    await book_with_mouse(page, on_step=on_step)
    booking = await live_server.database.bookings.find_one({})
    assert booking is not None and len(booking["photos"]) == 2
    assert {(p["width"], p["height"]) for p in booking["photos"]} == {(1200, 1600), (1600, 1200)}
    assert errors == []
    await context.close()


async def test_photos_work_under_the_documented_content_security_policy(
    browser: Browser, host_site: HostSite, live_server: LiveServer,
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    await open_host_page(page, host_site.url + "/csp.html")
    await page.get_by_role("button", name="Book now").click()

    async def on_step(step: str) -> None:
        if step != "3-additional-details":
            return
        await choose(page, [{"name": "leak.jpg", "mimeType": "image/jpeg", "buffer": photo(1200, 900, (30, 90, 200))}])
        fieldset = page.get_by_role("dialog").locator("[data-wrkbelt-photos]")
        await expect(fieldset.locator(".wb-photo[data-id]")).to_have_count(1, timeout=20000)
        # Back and forward again: the thumbnail now comes from the server (a redirect to the bucket).
        await page.get_by_role("button", name="Back").click()
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("heading", name="Tell us a little more")).to_be_visible()
        thumbnail = fieldset.locator(".wb-photo img")
        await expect(thumbnail).to_have_count(1)
        await page.wait_for_function(
            "() => { const i = document.getElementById('wrkbelt-scheduler-container').shadowRoot.querySelector('.wb-photo img'); return i && i.complete && i.naturalWidth > 0; }",
            timeout=10000)

    await book_with_mouse(page, on_step=on_step)
    assert violations == []
    booking = await live_server.database.bookings.find_one({})
    assert booking is not None and len(booking["photos"]) == 1
    await page.close()
