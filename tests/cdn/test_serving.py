"""The web process serves dist/ under /cdn/ with the edge's headers, key by key."""

from __future__ import annotations

import json

import httpx

from tests.conftest import LiveServer

EDGE = {"access-control-allow-origin": "*", "access-control-allow-methods": "GET, HEAD, OPTIONS"}


async def test_each_key_has_the_cache_control_of_the_table(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url + "/cdn/") as http:
        manifest_response = await http.get("version-manifest.json?_=123", headers={"Origin": "https://shop.example"})
        manifest = manifest_response.json()
        expected = {
            "scheduler.js": ("no-cache, no-store, must-revalidate", "text/javascript"),
            "version-manifest.json": ("no-cache, no-store, must-revalidate", "application/json"),
            "loader.js": ("no-cache, no-store, must-revalidate", "text/javascript"),
            "build-info.json": ("no-cache, no-store, must-revalidate", "application/json"),
            manifest["core"] + f"?v={manifest['buildTime']}": ("public, max-age=604800", "text/javascript"),
            manifest["vendor"]: ("public, max-age=604800", "text/javascript"),
            manifest["css"]: ("public, max-age=604800", "text/css"),
        }
        for key, (cache_control, content_type) in expected.items():
            response = await http.get(key, headers={"Origin": "https://shop.example"})
            assert response.status_code == 200, key
            assert response.headers["cache-control"] == cache_control, key
            assert response.headers["content-type"].startswith(content_type), key
            for name, value in EDGE.items():
                assert response.headers[name] == value, (key, name)
        preflight = await http.options("scheduler.js", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
        missing = await http.get("nothing-here.js")
        assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"
        assert (await http.get("../pyproject.toml")).status_code == 404
        assert (await http.get("a" * 300 + ".js")).status_code == 404  # longer than a file name may be (schemathesis found it)
        assert json.loads((await http.get("build-info.json")).text)["commit"] == "testbuild"
