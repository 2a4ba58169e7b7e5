"""The CloudFormation template: cfn-lint passes, and it says what the reference system does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cdn.build import ROOT
from cdn.environments import ENVIRONMENTS
from cdn.infra import template


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_template_passes_cfn_lint(env: str, tmp_path: Path) -> None:
    out = tmp_path / f"cdn-{env}.yaml"
    emitted = subprocess.run([sys.executable, "-m", "cdn", "infra", "--env", env], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert emitted.returncode == 0, emitted.stderr
    out.write_text(emitted.stdout)
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is installed with the test extras"
    linted = subprocess.run([cfn_lint, str(out)], capture_output=True, text=True, timeout=300)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert yaml.safe_load(out.read_text())["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Aliases"] == [ENVIRONMENTS[env].domain]


def test_routes_policies_and_permissions() -> None:
    resources = template(ENVIRONMENTS["production"])["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert [b["PathPattern"] for b in config["CacheBehaviors"]] == ["/scheduler.js", "/version-manifest.json", "/loader.js", "/build-info.json"]
    assert all(b["CachePolicyId"] == {"Ref": "NoCachePolicy"} for b in config["CacheBehaviors"])
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == {"Ref": "LongCachePolicy"}
    no_cache = resources["NoCachePolicy"]["Properties"]["CachePolicyConfig"]
    long = resources["LongCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (no_cache["DefaultTTL"], no_cache["MaxTTL"]) == (0, 1)
    assert no_cache["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert long["DefaultTTL"] == 31536000
    assert long["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    bucket = resources["AssetsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LifecycleConfiguration"]["Rules"][0]["TagFilters"] == [{"Key": "lifecycle", "Value": "superseded"}]
    role = resources["InvalidationFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert role[0]["Action"] == "cloudfront:CreateInvalidation" and "${Distribution}" in role[0]["Resource"]["Fn::Sub"]
    assert "def handler(event, context)" in resources["InvalidationFunction"]["Properties"]["Code"]["ZipFile"]
    request_function = resources["CorsRequestFunction"]["Properties"]["FunctionCode"]
    assert "OPTIONS" in request_function and "statusCode: 204" in request_function
    assert '"access-control-allow-origin": {"value": "*"}' in resources["CorsResponseFunction"]["Properties"]["FunctionCode"]


def test_the_uploads_bucket_is_private_encrypted_and_forgets_what_no_booking_kept() -> None:
    resources = template(ENVIRONMENTS["production"])["Resources"]
    bucket = resources["UploadsBucket"]["Properties"]
    assert bucket["BucketName"] == "wrkbelt-scheduler-uploads-production"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    cors = bucket["CorsConfiguration"]["CorsRules"]
    assert cors == [{"AllowedOrigins": {"Ref": "UploadOrigins"}, "AllowedMethods": ["POST"], "AllowedHeaders": ["*"],
                     "ExposedHeaders": ["ETag"], "MaxAge": 3000}]  # the companies' origins only, uploads only
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["unchecked-uploads"]["Prefix"] == "uploads/" and rules["unchecked-uploads"]["ExpirationInDays"] == 1
    assert rules["copies-no-booking-kept"]["TagFilters"] == [{"Key": "kept", "Value": "no"}]
    statement = resources["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
