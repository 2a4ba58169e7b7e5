"""`python -m cdn build`: the layout, minification, and hashes that follow the sources."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cdn import build as build_module
from cdn.build import build


def test_layout_and_manifest(tmp_path: Path) -> None:
    result = build(tmp_path / "dist", commit="c0ffee", api_url="https://api.example")
    keys = sorted(str(p.relative_to(result.out)) for p in result.out.rglob("*") if p.is_file())
    manifest = json.loads((result.out / "version-manifest.json").read_text())
    assert keys == sorted([
        "scheduler.js", "loader.js", "version-manifest.json", "build-info.json",
        manifest["core"], manifest["vendor"], manifest["css"], manifest["photos"],
    ])
    assert manifest["core"].startswith("c0ffee/js/scheduler-core.") and manifest["core"].endswith(".js")
    assert manifest["vendor"].startswith("c0ffee/js/vendor.")
    assert manifest["photos"].startswith("c0ffee/js/photos.")  # its own chunk: loaded when a step asks for photos
    assert manifest["css"].startswith("c0ffee/css/main.") and manifest["css"].endswith(".css")
    assert manifest["api"] == "https://api.example" and manifest["buildTime"] == result.build_time
    info = json.loads((result.out / "build-info.json").read_text())
    assert info["commit"] == "c0ffee" and info["versions"]["htmx"] == "4.0.1"
    assert info["files"]["scheduler.js"]["gzip"] < info["files"]["scheduler.js"]["bytes"]
    entry = (result.out / "scheduler.js").read_text()
    assert '"?v="' in entry.replace("'", '"') and "manifest.buildTime" in entry  # ?v={buildTime} on the core


def test_output_is_minified(tmp_path: Path) -> None:
    result = build(tmp_path / "dist", commit="c1")
    modules = [build_module.STATIC / "scheduler-core.js", *sorted((build_module.STATIC / "widget").glob("*.js"))]
    source = "".join(path.read_text() for path in modules)
    built = (result.out / str(result.manifest["core"])).read_text()
    assert len(built) < len(source) * 0.8 and "/*" not in built
    assert "import " not in built.replace("import(", "")  # one bundle: the modules are in it, not fetched


def test_the_widget_templates_are_in_the_core_and_only_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A designer edits templates/widget/*.html; the build puts them into the core, without comments."""
    first = build(tmp_path / "a", commit="same")
    core = (first.out / str(first.manifest["core"])).read_text()
    assert 'id="wb-dialog-title">Book a visit</p>' in core and "{#" not in core and "Receives" not in core
    templates = tmp_path / "widget-templates"
    shutil.copytree(build_module.WIDGET_TEMPLATES, templates)
    bar = templates / "_company.html"  # the title bar's words, included by dialog.html and inline.html
    bar.write_text(bar.read_text().replace("Book a visit", "Book a plumber"))
    monkeypatch.setattr(build_module, "WIDGET_TEMPLATES", templates)
    changed = build(tmp_path / "b", commit="same")
    assert "Book a plumber" in (changed.out / str(changed.manifest["core"])).read_text()
    assert changed.manifest["core"] != first.manifest["core"]
    assert changed.manifest["css"] == first.manifest["css"] and changed.manifest["vendor"] == first.manifest["vendor"]


def test_a_syntax_error_in_a_module_is_a_clear_build_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = tmp_path / "static"
    shutil.copytree(build_module.STATIC, sources)
    (sources / "widget" / "recorder.js").write_text("export class EventRecorder {")
    monkeypatch.setattr(build_module, "STATIC", sources)
    with pytest.raises(build_module.BuildError, match="esbuild failed on"):
        build(tmp_path / "dist", commit="broken")
    assert not (tmp_path / "dist").exists()  # nothing half-built is left to serve


def test_same_sources_same_hashes_and_one_change_changes_one_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build(tmp_path / "a", commit="same")
    second = build(tmp_path / "b", commit="same")
    assert {k: first.manifest[k] for k in ("core", "vendor", "css")} == {k: second.manifest[k] for k in ("core", "vendor", "css")}
    assert first.build_time <= second.build_time

    sources = tmp_path / "static"
    shutil.copytree(build_module.STATIC, sources)
    (sources / "scheduler.css").write_text((sources / "scheduler.css").read_text() + "\n.wb-new { color: red; }\n")
    monkeypatch.setattr(build_module, "STATIC", sources)
    changed = build(tmp_path / "c", commit="same")
    assert changed.manifest["css"] != first.manifest["css"]
    assert changed.manifest["core"] == first.manifest["core"] and changed.manifest["vendor"] == first.manifest["vendor"]


def test_built_javascript_parses(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")  # the browser tests run the built code anyway
    result = build(tmp_path / "dist", commit="c2")
    core = result.out / str(result.manifest["core"])
    module = core.with_suffix(".mjs")
    module.write_bytes(core.read_bytes())
    for path in (module, result.out / "scheduler.js", result.out / "loader.js"):
        subprocess.run([node, "--check", str(path)], check=True)


def test_cli_build_writes_another_folder(tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = subprocess.run(
        [sys.executable, "-m", "cdn", "build", "--out", str(out), "--env", "production"],
        cwd=build_module.ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "version-manifest.json").read_text())["api"] == "https://api.scheduler.wrkbelt.com"
    assert "scheduler.js" in result.stdout
