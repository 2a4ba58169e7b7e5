"""Click to first step, and step to step, in headless Chromium on loopback.

    .venv/bin/python -m bench.step_latency [--runs 40]

Serves the demo page with the built widget, then times inside the page, from the action
to the widget's `wrkbelt:step` event (the new step swapped in and focused): opening a
new session's first step, and Continue/Back between steps (one request, one swap).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

from playwright.async_api import async_playwright

from bench.report import Targets, percentile
from bench.servers import embedded_mongo, seed_demo, web_process
from cdn.build import build

FIRST_STEP_TARGET_MS = 150.0
STEP_TARGET_MS = 60.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

MEASURE = """() => {
  const root = () => document.getElementById('wrkbelt-scheduler-container').shadowRoot;
  window.__measure = (action) => new Promise((resolve) => {
    const started = performance.now();
    addEventListener('wrkbelt:step', () => resolve(performance.now() - started), { once: true });
    action(root());
  });
}"""
OPEN = "() => __measure(() => Wrkbelt.open({ restart: true }))"
CONTINUE = """() => __measure((root) => {
  root.querySelector('input[name=zip_code]').value = '78701';
  root.querySelector('button[type=submit]').click();
})"""
BACK = "() => __measure((root) => root.querySelector('button[hx-post$=\"/session/back\"]').click())"


async def measure(url: str, runs: int) -> tuple[list[float], list[float]]:
    first, steps = [], []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.goto(url + "/")
        await page.wait_for_function("() => window.Wrkbelt && window.Wrkbelt.ready === true")
        await page.evaluate(MEASURE)
        for _ in range(3):  # warm the connection pool and the server's caches
            await page.evaluate(OPEN)
        for _ in range(runs):
            first.append(await page.evaluate(OPEN))
            steps.append(await page.evaluate(CONTINUE))
            steps.append(await page.evaluate(BACK))
        await browser.close()
    return first, steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder, embedded_mongo() as uri:
        dist = Path(folder) / "dist"
        build(dist, commit="bench")
        asyncio.run(seed_demo(uri, database))
        with web_process({"MONGODB_URI": uri, "MONGODB_DATABASE": database, "CDN_DIST_DIR": str(dist), "ENVIRONMENT": "development"}) as url:
            first, steps = asyncio.run(measure(url, args.runs))
    print(f"command: python -m bench.step_latency --runs {args.runs}")
    print(f"{'':22}{'runs':>6}{'p50 ms':>10}{'p95 ms':>10}")
    targets = Targets()
    for name, values, target in (("click to first step", first, FIRST_STEP_TARGET_MS), ("step to step", steps, STEP_TARGET_MS)):
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"{name:22}{len(values):>6}{p50:>10.1f}{p95:>10.1f}")
        targets.check(name, p95 <= target, f"{name} ≤ {target:.0f} ms (p50 and p95): p95 {p95:.1f} ms")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
