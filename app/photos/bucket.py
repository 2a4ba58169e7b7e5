"""The uploads bucket's rules, in one place: what cdn/infra.py's CloudFormation template
declares for production, and what `python -m app dev` and the tests apply to their local S3.

- Private: no public access; objects encrypted (SSE-S3).
- CORS: browsers on the companies' allowed origins may POST an upload (and nothing else).
- Lifecycle: an upload not checked within a day is removed (`uploads/`); copies no booking
  kept (tag `kept=no`) go after 30 days; half-finished multipart uploads after a day.
"""

from __future__ import annotations

from typing import Any

UNCHECKED_UPLOAD_DAYS = 1
UNKEPT_COPY_DAYS = 30


def cors_rules(origins: list[str]) -> list[dict[str, Any]]:
    return [{
        "AllowedOrigins": origins, "AllowedMethods": ["POST"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000,
    }]


def lifecycle_rules() -> list[dict[str, Any]]:
    return [
        {"ID": "unchecked-uploads", "Status": "Enabled", "Filter": {"Prefix": "uploads/"},
         "Expiration": {"Days": UNCHECKED_UPLOAD_DAYS}},
        {"ID": "copies-no-booking-kept", "Status": "Enabled", "Filter": {"Tag": {"Key": "kept", "Value": "no"}},
         "Expiration": {"Days": UNKEPT_COPY_DAYS}},
        {"ID": "unfinished-multipart", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    ]


def create_uploads_bucket(bucket: str, endpoint_url: str, origins: list[str]) -> None:
    """Make the bucket on a local S3 (moto's server) as production's is made."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors_rules(origins)})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules()})
