"""/docs shows the API reference with no network beyond the scheduler (#18 item 11): its
viewer is served from the package's copy, not an outside CDN."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, Route, expect

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


async def test_the_api_reference_renders_offline(page: Page, live_server: LiveServer) -> None:
    outside: list[str] = []

    async def only_ours(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_ours)
    await page.goto(live_server.url + "/docs")
    await expect(page.get_by_role("heading", name="Scheduler API")).to_be_visible(timeout=15000)
    await expect(page.get_by_text("/api/funnel").first).to_be_visible()
    assert outside == []
    assert (await page.request.get(live_server.url + "/docs/assets/index.html")).status == 404
