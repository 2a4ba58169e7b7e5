"""The floors of the house: no import runs back up, and the product never imports its tests.

docs/ARCHITECTURE.md draws the same floors; this test keeps the drawing true.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own package and anything on a lower floor.
FLOORS: list[set[str]] = [
    # ground: the process's plumbing, and the typed records every floor shares
    {"app.clock", "app.db", "app.settings", "app.logs", "app.metrics", "app.json_input", "app.secret_keys",
     "app.embedded_db", "app.embedded_db_server", "app.domain", "app.polling", "app.i18n", "app.single_flight"},
    {"app.vendors", "app.mail", "app.photos"},  # a company's calendar or field-service system (with its settings); sending mail; photos in S3
    {"app.flows"},  # organizations (with their vendor's settings) and flows: configuration
    {"app.sessions", "app.demo", "app.webhooks"},  # where a visitor is; the demo company
    {"app.bookings", "app.events"},  # turning a session into a booking; recording what happened
    {"app.steps"},  # the step engine
    {"app.console"},  # the company's side: its people signing in, its inbox
    {"app.web", "app.api"},  # HTTP: access, rate limits, request ids, rendering
    {"app", "app.__main__"},  # assembly: create_app and the command line
]


def _floor_of(module: str) -> tuple[int, str]:
    parts = module.split(".")
    for length in (2, 1):
        unit = ".".join(parts[:length])
        for number, floor in enumerate(FLOORS):
            if unit in floor:
                return number, unit
    raise AssertionError(f"{module} is on no floor: add its package to FLOORS (and to docs/ARCHITECTURE.md)")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of the product's own modules."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app":
                found += [(node.lineno, f"app.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def _product_files() -> list[Path]:
    return [p for top in ("app", "worker", "cdn") for p in (ROOT / top).rglob("*.py")]


def test_no_import_runs_back_up_a_floor() -> None:
    upward = []
    for path in (ROOT / "app").rglob("*.py"):
        here, unit = _floor_of(_module_name(path))
        for line, module in _imports(path):
            if (not module.startswith("app.") and module != "app"):
                continue
            there, target = _floor_of(module)
            # On one floor, packages stay apart (but ground modules share, and assembly assembles).
            if there > here or (there == here and 0 < here < len(FLOORS) - 1 and target != unit):
                upward.append(f"{path.relative_to(ROOT)}:{line} {unit} (floor {here}) imports {module} (floor {there})")
    # Same floor, other package: only the HTTP floor's two halves share (the API uses web's access checks).
    upward = [u for u in upward if not (" app.api " in u and "imports app.web" in u)]
    assert upward == []


def test_the_product_never_imports_its_tests_or_benchmarks() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _product_files()
        for line, module in _imports(path)
        if module.split(".")[0] in {"tests", "bench"}
    ]
    assert found == []


def test_services_are_typed_not_string_keys() -> None:
    """Only app/web/services.py touches app.extensions (one typed `Services`)."""
    found = [
        str(path.relative_to(ROOT))
        for path in _product_files()
        if ".extensions" in path.read_text() and path != ROOT / "app" / "web" / "services.py"
    ]
    assert found == []
