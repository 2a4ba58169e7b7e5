"""Building dist/ from static/: minified, content-hashed, versioned under the commit.

```
dist/scheduler.js                         entry, not versioned
dist/version-manifest.json                names the current chunks; carries buildTime
dist/build-info.json                      commit, build time, versions, sizes
dist/loader.js                            for tag managers (loader.js?key=pk_…)
dist/{commit}/js/scheduler-core.{hash}.js
dist/{commit}/js/photos.{hash}.js         photos of the problem (loaded when a step asks)
dist/{commit}/js/vendor.{hash}.js         htmx 4
dist/{commit}/css/main.{hash}.css
```
The chunks name nothing of each other (the manifest does), so a change to one source
changes only its own hash, and the same sources always give the same hashes.

The core is bundled by esbuild (Debian's, installed by the Makefile) from the modules in
static/widget/; the widget's HTML (templates/widget/) is rendered by Jinja here and put
into the bundle as constants, so designers edit HTML, not JavaScript strings.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import jinja2
import rcssmin
import rjsmin

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
HASH_LENGTH = 10


@dataclass(frozen=True)
class Chunk:
    """A versioned file: its manifest name, where it comes from and how it is minified."""

    name: str
    source: str
    folder: str
    stem: str
    kind: str  # "bundle" (esbuild), "js", "css", or "copy" (already minified upstream)


CHUNKS = (
    Chunk("core", "scheduler-core.js", "js", "scheduler-core", "bundle"),
    # Loaded by the core only when a step asks for photos of the problem.
    Chunk("photos", "widget/photos.js", "js", "photos", "bundle"),
    Chunk("vendor", "vendor/htmx.esm.min.js", "js", "vendor", "copy"),
    Chunk("css", "scheduler.css", "css", "main", "css"),
)
ROOT_SCRIPTS = ("scheduler.js", "loader.js")
WIDGET_TEMPLATES = ROOT / "templates" / "widget"
# The browsers the widget supports (dialog, adoptedStyleSheets, ES modules).
BUNDLE_TARGET = "es2020"


class BuildError(RuntimeError):
    """The sources could not be built (esbuild missing, or a syntax error it names)."""


def widget_templates() -> dict[str, str]:
    """templates/widget/NAME.html rendered (comments and indentation gone), as WIDGET_NAME_HTML."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(WIDGET_TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                             autoescape=True, undefined=jinja2.StrictUndefined)
    rendered = {}
    for path in sorted(WIDGET_TEMPLATES.glob("*.html")):
        if path.name.startswith("_"):
            continue  # a partial the others include
        html = env.get_template(path.name).render()
        rendered[f"WIDGET_{path.stem.upper()}_HTML"] = "".join(line.strip() for line in html.splitlines())
    return rendered


def bundle(entry: Path) -> str:
    """The entry module and what it imports, as one minified ES module."""
    esbuild = shutil.which("esbuild")
    if esbuild is None:
        raise BuildError("esbuild is not installed: `make run` and `make test` install Debian's (apt-get install esbuild)")
    defines = [f"--define:{name}={json.dumps(html)}" for name, html in widget_templates().items()]
    result = subprocess.run(
        [esbuild, str(entry), "--bundle", "--format=esm", "--minify", f"--target={BUNDLE_TARGET}",
         "--legal-comments=none", "--log-level=error", *defines],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"esbuild failed on {entry.name}:\n{result.stderr.strip()}")
    return result.stdout


@dataclass(frozen=True)
class BuildResult:
    out: Path
    commit: str
    build_time: int
    files: dict[str, dict[str, int]]  # key → {"bytes", "gzip"}
    manifest: dict[str, object]


def current_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "dev"
    return result.stdout.strip() or "dev"


def minify(text: str, kind: str) -> str:
    if kind == "js":
        return str(rjsmin.jsmin(text)) + "\n"
    if kind == "css":
        return str(rcssmin.cssmin(text)) + "\n"
    return text


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def htmx_version(vendor: str) -> str:
    match = re.search(r"version\s*=\s*['\"]([\d.]+)['\"]", vendor)
    return match.group(1) if match else "unknown"


def _write(out: Path, key: str, data: bytes, files: dict[str, dict[str, int]]) -> None:
    path = out / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    files[key] = {"bytes": len(data), "gzip": len(gzip.compress(data, compresslevel=9, mtime=0))}


def _sources_state() -> tuple[tuple[str, int], ...]:
    sources = [*STATIC.rglob("*"), *WIDGET_TEMPLATES.rglob("*")]
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in sources if p.is_file()))


def watch(out: Path, stop: threading.Event, interval: float = 0.5, **options: object) -> None:
    """Rebuild `out` whenever a source under static/ or templates/widget/ changes, until `stop` is set."""
    seen = _sources_state()
    while not stop.wait(interval):
        now = _sources_state()
        if now != seen:
            seen = now
            try:
                build(out, **options)  # type: ignore[arg-type]
                print("cdn: rebuilt dist/ after a change in static/", flush=True)
            except Exception as exc:  # a half-saved file: say so, keep watching
                print(f"cdn: rebuild failed: {exc}", flush=True)


def build(out: Path, *, commit: str | None = None, api_url: str | None = None, build_time: int | None = None) -> BuildResult:
    """Write a complete build to `out` (replacing what was there)."""
    commit = commit or current_commit()
    build_time = build_time if build_time is not None else int(datetime.now(UTC).timestamp() * 1000)
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files: dict[str, dict[str, int]] = {}
    manifest: dict[str, object] = {}
    for chunk in CHUNKS:
        if chunk.kind == "bundle":
            data = bundle(STATIC / chunk.source).encode()
        else:
            data = minify((STATIC / chunk.source).read_text(encoding="utf-8"), chunk.kind).encode()
        extension = "css" if chunk.kind == "css" else "js"
        key = f"{commit}/{chunk.folder}/{chunk.stem}.{content_hash(data)}.{extension}"
        _write(staging, key, data, files)
        manifest[chunk.name] = key
    for name in ROOT_SCRIPTS:
        _write(staging, name, minify((STATIC / name).read_text(encoding="utf-8"), "js").encode(), files)
    manifest["commit"] = commit
    manifest["buildTime"] = build_time
    if api_url:
        manifest["api"] = api_url
    _write(staging, "version-manifest.json", json.dumps(manifest, indent=2).encode(), files)
    info = {
        "commit": commit,
        "buildTime": build_time,
        "builtAt": datetime.fromtimestamp(build_time / 1000, UTC).isoformat(),
        "versions": {
            "scheduler": version("scheduler"),
            "htmx": htmx_version((STATIC / "vendor/htmx.esm.min.js").read_text(encoding="utf-8")),
        },
        "files": dict(sorted(files.items())),
    }
    _write(staging, "build-info.json", json.dumps(info, indent=2).encode(), files)
    # The finished build replaces the old one in one step: a server reading dist/ never
    # sees a manifest naming a chunk that is not there yet.
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return BuildResult(out=out, commit=commit, build_time=build_time, files=files, manifest=manifest)
