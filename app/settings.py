"""Every setting the application reads, from the environment, validated once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process configuration. Names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    # Unset: `python -m app dev` starts the embedded MongoDB-wire server and sets it.
    mongodb_uri: str | None = None
    mongodb_database: str = Field(default="scheduler", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    # Unset: session events go through an in-process queue (issue: session recording).
    events_queue_url: str | None = None
    # Only for a local AWS (moto in tests); production uses the real endpoints.
    aws_endpoint_url: str | None = None
    # The private S3 bucket visitors' photos of the problem are uploaded to (cdn/infra.py makes
    # it). Unset: flows do not ask for photos (`python -m app dev` starts a local S3 and sets it).
    uploads_bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    # The address visitors' browsers reach this server at; fragments carry absolute URLs
    # built from it so they work inside a host page of another origin. Unset: taken from
    # each request's Host.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^/\s]+$")
    session_ttl_minutes: int = Field(default=120, ge=5, le=7 * 24 * 60)
    # The widget's build (`python -m cdn build`), served under /cdn/ in development and tests.
    cdn_dist_dir: Path = Path(__file__).resolve().parent.parent / "dist"
    templates_auto_reload: bool = False
    # `python -m app serve`: where Hypercorn listens and how many workers it runs.
    port: int = Field(default=5000, ge=1, le=65535)
    web_concurrency: int = Field(default=2, ge=1, le=64)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Requests per minute, counted across all web processes (429 with Retry-After beyond).
    rate_limit_sessions_per_ip: int = Field(default=30, ge=1)
    rate_limit_steps_per_session: int = Field(default=120, ge=1)
    rate_limit_steps_per_ip: int = Field(default=600, ge=1)
    rate_limit_confirms_per_session: int = Field(default=10, ge=1)
    # Widget events per minute (the socket and the beacon together): a visitor's widget
    # sends a few dozen; a script sending thousands is cut off, however it reconnects.
    rate_limit_client_events_per_session: int = Field(default=300, ge=1)
    rate_limit_client_events_per_ip: int = Field(default=1500, ge=1)
    # How many web processes may count one visitor at once (tasks × workers): each counts up
    # to limit ÷ (2 × this) in memory before adding to the shared count (app/web/rate_limits.py).
    rate_limit_processes: int = Field(default=8, ge=1, le=1000)
    # Proxies in front that append to X-Forwarded-For (1 behind an AWS load balancer).
    trusted_proxy_hops: int = Field(default=0, ge=0, le=5)
    # Organization and flow configuration is kept this long per process (0: always read).
    config_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # How often each web process looks for bookings still to push to a remote vendor.
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    # Where mail goes: smtp://[user:password@]host[:port] (STARTTLS when the server offers
    # it; ?starttls=required insists), or smtps://… for TLS from the first byte (port 465).
    # Unset: mail is stored and waits (`python -m app dev` sets it to its local server).
    smtp_url: str | None = Field(default=None, pattern=r"^smtps?://[^\s]+$")
    # The From address; each organization's name is shown as the sender's.
    mail_from: str = Field(default="bookings@scheduler.localhost", pattern=r"^[^@\s<>]+@[^@\s<>]+$")
    # How often each web process looks for mail still to send.
    mail_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    # A visitor who gave contact details and left without booking becomes a lead after this
    # long; each web process looks for them every `abandoned_poll_seconds`.
    abandoned_lead_minutes: float = Field(default=5.0, gt=0, le=24 * 60)
    abandoned_poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How often each web process looks for webhook deliveries due.
    webhook_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    # Webhook URLs on this machine or a private network (http://127.0.0.1…): refused unless
    # set (development sets it; so does a test with a local receiver).
    webhook_allow_private: bool | None = None

    @property
    def webhooks_may_be_private(self) -> bool:
        return self.webhook_allow_private if self.webhook_allow_private is not None else self.environment == "development"
    # Development and tests: the local SMTP server's folder, shown at /_dev/mail.
    dev_mailbox_dir: Path | None = None
    # Signs the links in emails (reschedule, cancel). Unset outside production: a fixed
    # development secret (links then survive restarts but are not secret).
    link_secret: str | None = Field(default=None, min_length=32)
    # Tests only: the instant this process's clock starts at (it runs on from there), so a
    # server a test starts in another process agrees with the test on what "now" is.
    # Refused unless ENVIRONMENT=test: no production process can be given another time.
    test_clock_start: datetime | None = None

    @field_validator("test_clock_start")
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give the instant with its UTC offset, such as 2027-06-09T13:30:00-05:00")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _test_clock_only_in_tests(self) -> Settings:
        if self.test_clock_start is not None and self.environment != "test":
            raise ValueError("TEST_CLOCK_START is honoured only when ENVIRONMENT=test")
        return self

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(minutes=self.session_ttl_minutes)

    def masked(self) -> dict[str, str]:
        """Every setting as its environment variable would say it, credentials hidden."""
        shown: dict[str, str] = {}
        for name, value in self.model_dump().items():
            text = "" if value is None else str(value)
            if name in {"mongodb_uri", "smtp_url"} and text:
                text = re.sub(r"//([^:/@]+):([^@]+)@", r"//\1:****@", text)
            if name == "link_secret" and text:
                text = "****"
            shown[name.upper()] = text or "(unset)"
        return shown

    def production_problems(self) -> list[str]:
        """What is allowed but wrong for production (check-config fails on it)."""
        problems = []
        if self.environment == "production" and self.trusted_proxy_hops == 0:
            problems.append(
                "TRUSTED_PROXY_HOPS is 0 in production: behind the load balancer every visitor would have "
                "its address, and the rate limits would throttle them all together (set 1 behind an ALB)"
            )
        if self.environment == "production" and not self.link_secret:
            problems.append("LINK_SECRET is unset in production: the links in emails would be signed with a known secret")
        if self.environment == "production" and not self.public_base_url:
            problems.append("PUBLIC_BASE_URL is unset in production: emails need it to link back to bookings")
        if self.environment == "production" and not self.smtp_url:
            problems.append("SMTP_URL is unset in production: confirmation emails would wait and never be sent")
        return problems

    @property
    def signing_secret(self) -> str:
        return self.link_secret or "development-only-link-secret-not-for-production"

    def require_database(self) -> str:
        if not self.mongodb_uri:
            raise ConfigurationError(
                "MONGODB_URI is not set: point it at MongoDB, or use `make run`, "
                "which starts the embedded server"
            )
        return self.mongodb_uri


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message names it."""


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (overrides win), one clear line per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigurationError("invalid settings:\n" + "\n".join(lines)) from None
