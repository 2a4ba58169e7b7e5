"""`python -m cdn build | publish | invalidate | infra`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
import yaml

from cdn.build import ROOT, build
from cdn.environments import ENVIRONMENTS, Environment
from cdn.infra import template
from cdn.invalidate import DEFAULT_PATHS, check_paths, create_invalidation
from cdn.publish import PublishError, publish

DIST = ROOT / "dist"


class _TemplateDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no types
    """CloudFormation rejects YAML aliases: write repeated parts out in full."""

    def ignore_aliases(self, data: object) -> bool:
        return True
env_option = click.option(
    "--env", "env_name", type=click.Choice(sorted(ENVIRONMENTS)), default="local", show_default=True,
    help="The environment (domain, bucket, API).",
)


def _environment(name: str) -> Environment:
    return ENVIRONMENTS[name]


@click.group()
def cli() -> None:
    """The widget's CDN: build, publish, invalidate, infrastructure."""


@cli.command("build")
@click.option("--out", type=click.Path(path_type=Path), default=DIST, show_default="dist/")
@click.option("--commit", help="Version folder name (default: the current git commit).")
@env_option
def build_command(out: Path, commit: str | None, env_name: str) -> None:
    """Build the widget into dist/: minified, content-hashed, versioned."""
    result = build(out, commit=commit, api_url=_environment(env_name).api_url)
    for key, sizes in sorted(result.files.items()):
        click.echo(f"{key:55} {sizes['bytes']:>8,} bytes {sizes['gzip']:>7,} gzip")
    click.echo(f"built {result.commit} (buildTime {result.build_time}) into {out}")


@cli.command("publish")
@env_option
@click.option("--dist", type=click.Path(path_type=Path, exists=True, file_okay=False), default=DIST, show_default="dist/")
@click.option("--bucket", help="Default: the environment's bucket.")
@click.option("--distribution-id", help="Default: the distribution whose alias is the environment's domain.")
@click.option("--invalidate", "paths", multiple=True, default=DEFAULT_PATHS, show_default=True)
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="For a local AWS (moto) only.")
def publish_command(env_name: str, dist: Path, bucket: str | None, distribution_id: str | None, paths: tuple[str, ...], endpoint_url: str | None) -> None:
    """Upload dist/ (versioned files first, entry and manifest last), then invalidate."""
    try:
        asyncio.run(publish(
            dist, _environment(env_name), bucket=bucket, distribution_id=distribution_id,
            invalidation_paths=tuple(check_paths(paths)), endpoint_url=endpoint_url, report=click.echo,
        ))
    except (PublishError, ValueError) as exc:
        raise click.ClickException(f"{exc} — nothing was published") from None


@cli.command("invalidate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--distribution-id", required=True, envvar="CDN_DISTRIBUTION_ID")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="For a local AWS (moto) only.")
def invalidate_command(paths: tuple[str, ...], distribution_id: str, endpoint_url: str | None) -> None:
    """Invalidate PATHs (such as /scheduler.js or /*) on the distribution now."""
    import aioboto3
    from botocore.exceptions import BotoCoreError, ClientError

    async def run() -> str:
        async with aioboto3.Session(region_name="us-east-1").client("cloudfront", endpoint_url=endpoint_url) as cloudfront:
            return await create_invalidation(cloudfront, distribution_id, list(paths))

    try:
        click.echo(f"invalidation {asyncio.run(run())} of {', '.join(paths)} on {distribution_id}")
    except (ValueError, ClientError, BotoCoreError) as exc:
        raise click.ClickException(str(exc)) from None


@cli.command("infra")
@env_option
@click.option("--format", "output_format", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def infra_command(env_name: str, output_format: str) -> None:
    """Print the environment's CloudFormation template."""
    document = template(_environment(env_name))
    if output_format == "json":
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(yaml.dump(document, Dumper=_TemplateDumper, sort_keys=False, width=120), nl=False)


if __name__ == "__main__":
    cli()
