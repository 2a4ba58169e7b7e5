"""Uploading dist/ to an environment's bucket, then invalidating CloudFront.

Order matters: versioned files first, then the root-level keys with the manifest and
the entry last, so a visitor never gets a manifest naming a chunk not yet uploaded.
Everything that can fail for lack of credentials, bucket or distribution is checked
before the first upload. Old builds are never deleted here: they are tagged
`lifecycle=superseded` and the bucket's lifecycle rule removes them later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioboto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cdn.cache_rules import cache_control_for, content_type_for, is_versioned
from cdn.environments import Environment
from cdn.invalidate import DEFAULT_PATHS, create_invalidation

# Root-level keys in upload order: the manifest and then the entry go last.
ROOT_UPLOAD_ORDER = ("build-info.json", "loader.js", "version-manifest.json", "scheduler.js")
LIFECYCLE_TAG = "lifecycle"
CHECKSUM_METADATA = "sha256"


class PublishError(Exception):
    """Publishing cannot go on; the message says what to fix. Nothing visible has changed."""


@dataclass
class PublishSummary:
    bucket: str
    distribution_id: str
    commit: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    invalidation_id: str | None = None


def upload_order(dist: Path) -> list[str]:
    keys = sorted(str(p.relative_to(dist)) for p in dist.rglob("*") if p.is_file())
    versioned = [k for k in keys if is_versioned(k)]
    missing = [k for k in ROOT_UPLOAD_ORDER if k not in keys]
    if missing:
        raise PublishError(f"{dist} is not a complete build (missing {', '.join(missing)}): run `python -m cdn build`")
    return versioned + list(ROOT_UPLOAD_ORDER)


def _explain(error: Exception, what: str) -> PublishError:
    if isinstance(error, NoCredentialsError):
        return PublishError("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"404", "NoSuchBucket"}:
            return PublishError(f"{what} does not exist")
        if code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}:
            return PublishError(f"no access to {what} with these credentials ({code})")
        if code == "NoSuchDistribution":
            return PublishError(f"{what} does not exist")
        return PublishError(f"{what}: {code or error}")
    return PublishError(f"{what}: {error}")


async def _find_distribution(cloudfront: Any, domain: str) -> str:
    paginator = cloudfront.get_paginator("list_distributions")
    async for page in paginator.paginate():
        for item in page.get("DistributionList", {}).get("Items", []) or []:
            if domain in (item.get("Aliases", {}).get("Items") or []):
                return str(item["Id"])
    raise PublishError(f"no CloudFront distribution serves {domain}: pass --distribution-id")


async def _previous_commit(s3: Any, bucket: str) -> str | None:
    try:
        response = await s3.get_object(Bucket=bucket, Key="version-manifest.json")
    except ClientError:
        return None
    try:
        commit = json.loads(await response["Body"].read()).get("commit")
        return None if commit is None else str(commit)
    except ValueError:
        return None


async def publish(
    dist: Path,
    environment: Environment,
    *,
    bucket: str | None = None,
    distribution_id: str | None = None,
    invalidation_paths: tuple[str, ...] = DEFAULT_PATHS,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    report: Callable[[str], None] = print,
) -> PublishSummary:
    keys = upload_order(dist)
    manifest = json.loads((dist / "version-manifest.json").read_text())
    bucket = bucket or environment.bucket
    session = aioboto3.Session(region_name=region)
    async with session.client("s3", endpoint_url=endpoint_url) as s3, session.client(
        "cloudfront", endpoint_url=endpoint_url
    ) as cloudfront:
        # Everything that can refuse us is asked before the first upload.
        try:
            await s3.head_bucket(Bucket=bucket)
        except (ClientError, BotoCoreError) as exc:
            raise _explain(exc, f"bucket {bucket}") from None
        try:
            if distribution_id:
                await cloudfront.get_distribution(Id=distribution_id)
            else:
                distribution_id = await _find_distribution(cloudfront, environment.domain)
        except (ClientError, BotoCoreError) as exc:
            raise _explain(exc, f"CloudFront distribution {distribution_id or environment.domain}") from None

        summary = PublishSummary(bucket=bucket, distribution_id=distribution_id, commit=str(manifest["commit"]))
        previous = await _previous_commit(s3, bucket)
        report(f"publishing build {summary.commit} to s3://{bucket} ({len(keys)} files)")
        for key in keys:
            data = (dist / key).read_bytes()
            checksum = hashlib.sha256(data).hexdigest()
            if is_versioned(key):
                try:
                    head = await s3.head_object(Bucket=bucket, Key=key)
                except ClientError:
                    head = None
                if head is not None and head.get("Metadata", {}).get(CHECKSUM_METADATA) == checksum:
                    # Re-publishing (a rollback, say): mark it current again for the lifecycle rule.
                    await s3.put_object_tagging(
                        Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": LIFECYCLE_TAG, "Value": "current"}]}
                    )
                    summary.unchanged.append(key)
                    report(f"  unchanged {key}")
                    continue
            await s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ContentType=content_type_for(key),
                CacheControl=cache_control_for(key),
                Metadata={CHECKSUM_METADATA: checksum},
                Tagging=f"{LIFECYCLE_TAG}=current",
            )
            summary.uploaded.append(key)
            report(f"  uploaded  {key} ({len(data):,} bytes, {cache_control_for(key)})")
        if previous and previous != summary.commit:
            summary.superseded = await _mark_superseded(s3, bucket, previous)
            report(f"  marked {len(summary.superseded)} files of build {previous} superseded (the lifecycle rule removes them)")
        summary.invalidation_id = await create_invalidation(cloudfront, distribution_id, invalidation_paths)
        report(
            f"done: {len(summary.uploaded)} uploaded, {len(summary.unchanged)} unchanged; "
            f"invalidation {summary.invalidation_id} of {', '.join(invalidation_paths)} on {distribution_id}"
        )
        return summary


async def _mark_superseded(s3: Any, bucket: str, commit: str) -> list[str]:
    marked: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=f"{commit}/"):
        for item in page.get("Contents", []) or []:
            await s3.put_object_tagging(
                Bucket=bucket, Key=item["Key"], Tagging={"TagSet": [{"Key": LIFECYCLE_TAG, "Value": "superseded"}]}
            )
            marked.append(item["Key"])
    return marked
