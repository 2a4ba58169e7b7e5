"""The command line: `python -m app dev | serve | check-config | flows import|export|check |
demo load | keys create | vendors check`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from app import ROOT
from app.db import Database
from app.demo import demo_organizations
from app.flows.loading import ConfigFileError, dump_organization, load_organization_file, masked_secrets
from app.flows.repository import export_organization, organization_by_slug, save_organization
from app.secret_keys import create_secret_key
from app.settings import ConfigurationError, Settings, load_settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


async def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    database = Database.connect(settings.require_database(), settings.mongodb_database)
    try:
        await database.create_indexes()
        return await work(database)
    finally:
        await database.close()


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    settings = _settings()
    try:
        return asyncio.run(_with_database(settings, work))
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def cli() -> None:
    """Scheduler: the booking widget's server."""


@cli.group()
def flows() -> None:
    """Organizations and their booking flows, as YAML files."""


@flows.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def check_flows(files: tuple[Path, ...]) -> None:
    """Validate YAML files without storing them."""
    problems: list[str] = []
    for path in files:
        try:
            config = load_organization_file(path)
            click.echo(f"{path}: ok ({config.name}, {len(config.flows)} flows)")
            for flow in config.flows:  # shown in English to visitors who read another language
                for language in flow.translations:
                    for text in flow.untranslated(language):
                        click.echo(f"{path}: flow {flow.id}: no {language} translation for {text!r}")
        except ConfigFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise click.ClickException("\n".join(problems))


@flows.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_flows(files: tuple[Path, ...]) -> None:
    """Validate YAML files and store each organization with its flows."""
    try:
        configs = [load_organization_file(path) for path in files]
    except ConfigFileError as exc:
        raise click.ClickException(str(exc)) from None

    async def store(database: Database) -> None:
        for config in configs:
            await save_organization(database, config)
            click.echo(f"imported {config.slug}: {', '.join(f.id for f in config.flows)}")

    _run(store)


@flows.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write here instead of stdout.")
@click.option("--include-secrets", is_flag=True, help="Write vendor credentials kept in the configuration as they are.")
def export_flows(slug: str, output: Path | None, include_secrets: bool) -> None:
    """Write an organization and its flows as YAML (vendor credentials masked)."""

    config = _run(lambda database: export_organization(database, slug))
    if config is None:
        raise click.ClickException(f"no organization with the slug {slug!r}")
    text = dump_organization(config, include_secrets)
    masked = [] if include_secrets else masked_secrets(config)
    if masked:
        click.echo(f"masked {', '.join(masked)}: use env:NAME references, or --include-secrets", err=True)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.group()
def demo() -> None:
    """The demo organization."""


DEMO_SECRET_KEY = "sk_test_demo"


@demo.command("load")
def load_demo() -> None:
    """Store the demo organizations: Demo Plumbing & Air (pk_test_demo, sk_test_demo) and its
    ServiceTitan, Housecall Pro and Jobber twins (pk_test_demo_<vendor>)."""
    configs = demo_organizations()

    async def store(database: Database) -> None:
        for config in configs:
            await save_organization(database, config)
        # The fakes start afresh with every `make run`: so do the demo's vendor tokens.
        await database.vendor_tokens.delete_many({"organization_id": {"$in": [c.slug for c in configs]}})
        await create_secret_key(database, configs[0].slug, datetime.now(UTC), DEMO_SECRET_KEY)

    _run(store)
    for config in configs:
        click.echo(f"loaded {config.name} ({config.publishable_key}, vendor {config.vendor.type})")
    click.echo(f"secret key of {configs[0].slug}: {DEMO_SECRET_KEY}")


@cli.group()
def keys() -> None:
    """Secret keys (the company's servers and its funnel page use them)."""


@keys.command("create")
@click.argument("slug")
def create_key(slug: str) -> None:
    """Create a secret key for an organization; it is shown once, only its hash is kept."""

    async def create(database: Database) -> str | None:
        if await organization_by_slug(database, slug) is None:
            return None
        return await create_secret_key(database, slug, datetime.now(UTC))

    key = _run(create)
    if key is None:
        raise click.ClickException(f"no organization with the slug {slug!r}")
    click.echo(key)


# What the web process runs, in production (Procfile, Dockerfile, Copilot) and nowhere else.
# Keep-alive outlasts a load balancer's 60 s idle timeout, so Hypercorn never closes a
# connection the balancer is about to reuse; the backlog absorbs bursts of visitors.
def hypercorn_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "hypercorn",
        "--bind", f"0.0.0.0:{settings.port}",
        "--workers", str(settings.web_concurrency),
        "--keep-alive", "75",
        "--backlog", "1024",
        "--graceful-timeout", "30",
        "app:create_app()",
    ]


@cli.command()
def serve() -> None:
    """Serve the web process (the Procfile's web:, the image's command); settings checked first."""
    settings = _settings()
    try:
        settings.require_database()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    command = hypercorn_command(settings)
    os.execvp(command[0], command)


@cli.group()
def vendors() -> None:
    """An organization's field-service system."""


@vendors.command("check")
@click.argument("slug")
@click.option("--connect", is_flag=True, help="Also ask the vendor for tomorrow's arrival windows.")
def check_vendor(slug: str, connect: bool) -> None:
    """Where each vendor credential comes from (never its value); exit 1 when one is missing
    or, with --connect, when the vendor does not answer."""
    from app.vendors.check import connection_line, credential_lines

    async def check(database: Database) -> tuple[list[str], bool]:
        organization = await organization_by_slug(database, slug)
        if organization is None:
            raise click.ClickException(f"no organization with the slug {slug!r}")
        lines, ok = credential_lines(organization)
        lines.insert(0, f"{organization.name}: vendor {organization.vendor.type}")
        if connect and ok and organization.vendor.type != "local":
            answered, ok = await connection_line(database, organization, datetime.now(UTC))
            lines.append(answered)
        return lines, ok

    lines, ok = _run(check)
    for line in lines:
        click.echo(line)
    if not ok:
        raise click.exceptions.Exit(1)


@cli.command("check-config")
def check_config() -> None:
    """Print the effective settings, credentials masked; exit 1 naming each bad setting."""
    settings = _settings()
    for name, value in settings.masked().items():
        click.echo(f"{name}={value}")
    problems = settings.production_problems()
    if problems:
        raise click.ClickException("\n".join(problems))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def dev(host: str, port: int) -> None:
    """Serve the demo: embedded database when MONGODB_URI is unset, demo data, auto-reload."""
    from app.embedded_db import start_embedded_mongo
    from cdn.build import build, watch

    settings = _settings()
    env = dict(os.environ)
    embedded = None
    if not settings.mongodb_uri:
        embedded = start_embedded_mongo(ROOT / "var" / "mongo")
        env["MONGODB_URI"] = embedded.uri
        os.environ["MONGODB_URI"] = embedded.uri
        click.echo(f"embedded MongoDB-wire server (nx-27017) at {embedded.uri}, data in var/mongo/")
    mailbox = None
    if not settings.smtp_url:
        from app.demo.mailbox import Mailbox

        # Mail goes to a local SMTP server that keeps it: http://host:port/_dev/mail shows it.
        mailbox = Mailbox(ROOT / "var" / "mail").start()
        env["SMTP_URL"] = mailbox.url
        env["DEV_MAILBOX_DIR"] = str(mailbox.folder)
        click.echo(f"local SMTP server at {mailbox.url}: mail is kept in var/mail/ and shown at http://{host}:{port}/_dev/mail")
    local_s3 = None
    if not settings.uploads_bucket:
        from app.demo.local_s3 import start_local_s3

        # Photos of the problem go to a local S3 (moto's server) with the uploads bucket.
        local_s3 = start_local_s3(host, ["*"])
        env.update(local_s3.environment)
        click.echo(f"local S3 (moto) at {local_s3.url}: photos go to its bucket, and are gone when the demo stops")
    stop_watching = threading.Event()
    # A SIGTERM (a process manager, `kill`) stops the demo as Ctrl-C does: the embedded
    # database and the vendor fakes are stopped too, not left running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        load_demo.callback()  # type: ignore[misc]
        dist = settings.cdn_dist_dir
        build(dist)
        # CSS and JavaScript edits rebuild dist/ at once: no build step to remember.
        threading.Thread(target=watch, args=(dist, stop_watching), daemon=True).start()
        env["TEMPLATES_AUTO_RELOAD"] = "true"
        # The vendor demos book into local fakes of ServiceTitan, Housecall Pro and Jobber.
        fakes = subprocess.Popen([sys.executable, "-m", "app.demo.fakes"], cwd=ROOT, env=env)
        click.echo(f"serving the demo on http://{host}:{port}  (Ctrl-C stops)")
        server = subprocess.Popen(
            [sys.executable, "-m", "hypercorn", "--bind", f"{host}:{port}", "--reload", "app:create_app()"],
            env=env,
            cwd=ROOT,
        )
        try:
            server.wait()
        except KeyboardInterrupt:
            server.terminate()
            server.wait()
        finally:
            fakes.terminate()
            fakes.wait()
    finally:
        stop_watching.set()
        if mailbox is not None:
            mailbox.stop()
        if local_s3 is not None:
            local_s3.stop()
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    cli()
