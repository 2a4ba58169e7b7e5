"""Reading and writing organization configuration as YAML, with errors an author can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.domain.config import MASKED_SECRET, env_variable, secret_fields
from app.flows.models import OrganizationConfig
from app.flows.references import check_organization
from app.vendors.registry import VENDOR_TYPES


class ConfigFileError(ValueError):
    """The file cannot be used; `problems` lists `FILE: path: what is wrong` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _format_location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def parse_organization(data: Any, source: str) -> OrganizationConfig:
    """Validate parsed YAML; raise ConfigFileError naming `source` and each path."""
    if not isinstance(data, dict):
        raise ConfigFileError([f"{source}: (top level): expected a mapping with organization settings and flows"])
    try:
        config = OrganizationConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            if loc[:1] == ("vendor",) and loc[1:2] and loc[1] in VENDOR_TYPES:
                loc = loc[:1] + loc[2:]  # the vendor type pydantic inserts is not a key in the YAML
            message = err["msg"]
            if err["type"] == "union_tag_invalid" and loc == ("vendor",):
                loc, message = ("vendor", "type"), f"unknown vendor {err['input'].get('type')!r} (use {', '.join(VENDOR_TYPES)})"
            lines.append(f"{source}: {_format_location(loc)}: {message}")
        raise ConfigFileError(lines) from None
    problems = check_organization(config)
    if problems:
        raise ConfigFileError([f"{source}: {p.path}: {p.message}" for p in problems])
    return config


def load_organization_file(path: Path) -> OrganizationConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown position)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigFileError([f"{path}: {where}: not valid YAML: {problem}"]) from None
    return parse_organization(data, str(path))


def masked_secrets(config: OrganizationConfig) -> list[str]:
    """The vendor credentials written in the configuration itself (not `env:` references)."""
    return [
        f"vendor.{name}"
        for name in secret_fields(config.vendor)
        if env_variable(getattr(config.vendor, name)) is None
    ]


def dump_organization(config: OrganizationConfig, include_secrets: bool = False) -> str:
    """The configuration as YAML; credentials written in it are masked unless asked for."""
    data = config.model_dump(mode="json", exclude_none=True)
    if not include_secrets:
        for path in masked_secrets(config):
            data["vendor"][path.removeprefix("vendor.")] = MASKED_SECRET
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
