"""Where each environment's widget lives: its domain, bucket and API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Environment:
    name: str
    domain: str
    # The API the widget talks to; None: the origin the assets were loaded from
    # (development, where the web process serves both).
    api_url: str | None

    @property
    def bucket(self) -> str:
        return f"wrkbelt-scheduler-cdn-{self.name}"

    @property
    def uploads_bucket(self) -> str:
        """Visitors' photos of the problem (private; the web process's UPLOADS_BUCKET)."""
        return f"wrkbelt-scheduler-uploads-{self.name}"


ENVIRONMENTS = {
    env.name: env
    for env in (
        Environment("local", "local.scheduler.wrkbelt.com", None),
        Environment("preview", "preview.scheduler.wrkbelt.com", "https://api.preview.scheduler.wrkbelt.com"),
        Environment("develop", "develop.scheduler.wrkbelt.com", "https://api.develop.scheduler.wrkbelt.com"),
        Environment("staging", "staging.scheduler.wrkbelt.com", "https://api.staging.scheduler.wrkbelt.com"),
        Environment("production", "scheduler.wrkbelt.com", "https://api.scheduler.wrkbelt.com"),
    )
}
