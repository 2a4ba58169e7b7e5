"""`python -m cdn publish` and `invalidate`, and the invalidation Lambda, against moto's S3 and CloudFront."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from cdn.build import ROOT, build
from cdn.environments import ENVIRONMENTS
from cdn.publish import PublishError, publish
from tests.conftest import MotoServer

LOCAL = ENVIRONMENTS["local"]


def make_bucket_and_distribution(aws: MotoServer, alias: str = LOCAL.domain) -> str:
    boto3.client("s3", endpoint_url=aws.url).create_bucket(Bucket=LOCAL.bucket)
    created = boto3.client("cloudfront", endpoint_url=aws.url).create_distribution(DistributionConfig={
        "CallerReference": "scheduler-test",
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [{"Id": "assets", "DomainName": f"{LOCAL.bucket}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "assets", "ViewerProtocolPolicy": "redirect-to-https"},
        "Comment": "scheduler test",
        "Enabled": True,
    })
    return created["Distribution"]["Id"]


def invalidations(aws: MotoServer, distribution_id: str) -> list[list[str]]:
    cloudfront = boto3.client("cloudfront", endpoint_url=aws.url)
    items = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    return [cloudfront.get_invalidation(DistributionId=distribution_id, Id=i["Id"])["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] for i in items]


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    return build(tmp_path / "dist", commit="build1").out


async def test_publish_uploads_every_key_with_its_headers_in_order(aws: MotoServer, dist: Path) -> None:
    distribution_id = make_bucket_and_distribution(aws)
    aws.start_recording()
    lines: list[str] = []
    summary = await publish(dist, LOCAL, endpoint_url=aws.url, report=lines.append)

    puts = [path for method, path in aws.recorded_requests() if method == "PUT" and "?" not in path]
    keys = [p.removeprefix(f"/{LOCAL.bucket}/") for p in puts]
    manifest = json.loads((dist / "version-manifest.json").read_text())
    assert set(keys[:4]) == {manifest["core"], manifest["vendor"], manifest["css"], manifest["photos"]}  # versioned first
    assert keys[-2:] == ["version-manifest.json", "scheduler.js"]  # the manifest and the entry last
    s3 = boto3.client("s3", endpoint_url=aws.url)
    expected = {
        "scheduler.js": ("no-cache, no-store, must-revalidate", "text/javascript; charset=utf-8"),
        "version-manifest.json": ("no-cache, no-store, must-revalidate", "application/json"),
        "loader.js": ("no-cache, no-store, must-revalidate", "text/javascript; charset=utf-8"),
        "build-info.json": ("no-cache, no-store, must-revalidate", "application/json"),
        manifest["core"]: ("public, max-age=604800", "text/javascript; charset=utf-8"),
        manifest["vendor"]: ("public, max-age=604800", "text/javascript; charset=utf-8"),
        manifest["css"]: ("public, max-age=604800", "text/css; charset=utf-8"),
        manifest["photos"]: ("public, max-age=604800", "text/javascript; charset=utf-8"),
    }
    for key, (cache_control, content_type) in expected.items():
        head = s3.head_object(Bucket=LOCAL.bucket, Key=key)
        assert (head["CacheControl"], head["ContentType"]) == (cache_control, content_type), key
        assert s3.get_object(Bucket=LOCAL.bucket, Key=key)["Body"].read() == (dist / key).read_bytes()
    assert summary.distribution_id == distribution_id and invalidations(aws, distribution_id) == [["/*"]]
    assert lines[-1].startswith("done: 8 uploaded, 0 unchanged; invalidation")


async def test_republishing_skips_unchanged_versioned_files(aws: MotoServer, dist: Path, tmp_path: Path) -> None:
    make_bucket_and_distribution(aws)
    await publish(dist, LOCAL, endpoint_url=aws.url, report=lambda _: None)
    again = build(tmp_path / "again", commit="build1").out
    summary = await publish(again, LOCAL, endpoint_url=aws.url, report=lambda _: None)
    assert len(summary.unchanged) == 4 and summary.uploaded == ["build-info.json", "loader.js", "version-manifest.json", "scheduler.js"]


async def test_a_new_build_marks_the_old_one_superseded_and_deletes_nothing(aws: MotoServer, dist: Path, tmp_path: Path) -> None:
    make_bucket_and_distribution(aws)
    await publish(dist, LOCAL, endpoint_url=aws.url, report=lambda _: None)
    newer = build(tmp_path / "newer", commit="build2").out
    summary = await publish(newer, LOCAL, endpoint_url=aws.url, report=lambda _: None)
    s3 = boto3.client("s3", endpoint_url=aws.url)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=LOCAL.bucket)["Contents"]}
    assert {k for k in keys if k.startswith("build1/")} == set(summary.superseded) and len(summary.superseded) == 4
    for key in summary.superseded:
        assert s3.get_object_tagging(Bucket=LOCAL.bucket, Key=key)["TagSet"] == [{"Key": "lifecycle", "Value": "superseded"}]
    current = json.loads((newer / "version-manifest.json").read_text())["core"]
    assert s3.get_object_tagging(Bucket=LOCAL.bucket, Key=current)["TagSet"] == [{"Key": "lifecycle", "Value": "current"}]


@pytest.mark.parametrize("problem", ["bucket", "distribution", "credentials"])
async def test_wrong_settings_fail_clearly_and_change_nothing(aws: MotoServer, dist: Path, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution_id = make_bucket_and_distribution(aws, alias="someone-else.example.com")
    options: dict = {"distribution_id": distribution_id}
    if problem == "bucket":
        options["bucket"] = "no-such-bucket"
        message = "bucket no-such-bucket does not exist"
    elif problem == "distribution":
        options = {}
        message = f"no CloudFront distribution serves {LOCAL.domain}"
    else:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(name)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        message = "no AWS credentials"
    with pytest.raises(PublishError, match=message):
        await publish(dist, LOCAL, endpoint_url=aws.url, report=lambda _: None, **options)
    listed = boto3.client("s3", endpoint_url=aws.url, aws_access_key_id="testing", aws_secret_access_key="testing").list_objects_v2(Bucket=LOCAL.bucket)
    assert listed.get("KeyCount", 0) == 0
    assert invalidations(aws, distribution_id) == []


def run_cdn(*args: str, aws: MotoServer) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"AWS_ENDPOINT_URL": aws.url}
    return subprocess.run([sys.executable, "-m", "cdn", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_cli_publish_and_invalidate(aws: MotoServer, dist: Path) -> None:
    distribution_id = make_bucket_and_distribution(aws)
    result = run_cdn("publish", "--env", "local", "--dist", str(dist), aws=aws)
    assert result.returncode == 0, result.stderr
    assert "uploaded  scheduler.js" in result.stdout and "done: 8 uploaded" in result.stdout
    result = run_cdn("invalidate", "/scheduler.js", "/version-manifest.json", "--distribution-id", distribution_id, aws=aws)
    assert result.returncode == 0, result.stderr
    assert ["/scheduler.js", "/version-manifest.json"] in invalidations(aws, distribution_id)
    result = run_cdn("invalidate", "scheduler.js", "--distribution-id", distribution_id, aws=aws)
    assert result.returncode == 1 and "paths must start with '/'" in result.stderr
    result = run_cdn("publish", "--env", "local", "--dist", str(dist), "--bucket", "missing-bucket", aws=aws)
    assert result.returncode == 1 and "bucket missing-bucket does not exist — nothing was published" in result.stderr


def test_lambda_handler_invalidates(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution_id = make_bucket_and_distribution(aws)
    monkeypatch.setenv("DISTRIBUTION_ID", distribution_id)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    handler = importlib.import_module("cdn.lambdas.invalidate_cache").handler
    result = handler({"paths": ["/scheduler.js"]}, None)
    assert result["ok"] and result["paths"] == ["/scheduler.js"]
    assert invalidations(aws, distribution_id) == [["/scheduler.js"]]
    assert handler({}, None)["paths"] == ["/*"]
    assert handler({"paths": ["scheduler.js"]}, None) == {"ok": False, "error": "paths must be a list of strings that start with '/'"}
