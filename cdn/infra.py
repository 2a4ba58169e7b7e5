"""The CloudFormation template of an environment's CDN, as the reference system deploys it.

A private bucket read only through origin access control, with the lifecycle rule that
removes superseded builds; the two cache policies; the distribution with the
reference's routes (root-level keys not cached, everything else a year); CloudFront
Functions for CORS built from `cache_rules.EDGE_CORS_HEADERS`; and the invalidation
Lambda (its source inlined) allowed to invalidate this distribution and nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.photos.bucket import cors_rules, lifecycle_rules
from cdn.cache_rules import CACHE_DURATIONS, EDGE_CORS_HEADERS, ROOT_KEYS
from cdn.environments import Environment
from cdn.publish import LIFECYCLE_TAG

LAMBDA_SOURCE = Path(__file__).resolve().parent / "lambdas" / "invalidate_cache.py"
SUPERSEDED_BUILD_DAYS = 30


def _headers_js() -> str:
    return json.dumps({name: {"value": value} for name, value in EDGE_CORS_HEADERS.items()})


def cors_request_function() -> str:
    """Viewer request: answer CORS preflights at the edge."""
    return (
        "function handler(event) {\n"
        "  if (event.request.method === 'OPTIONS') {\n"
        f"    return {{statusCode: 204, statusDescription: 'No Content', headers: {_headers_js()}}};\n"
        "  }\n"
        "  return event.request;\n"
        "}\n"
    )


def cors_response_function() -> str:
    """Viewer response: the CORS headers on every response."""
    return (
        "function handler(event) {\n"
        "  var response = event.response;\n"
        f"  var cors = {_headers_js()};\n"
        "  for (var name in cors) { response.headers[name] = cors[name]; }\n"
        "  return response;\n"
        "}\n"
    )


def _cache_policy(name: str, default_ttl: int, max_ttl: int, query_strings: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudFront::CachePolicy",
        "Properties": {
            "CachePolicyConfig": {
                "Name": name,
                "DefaultTTL": default_ttl,
                "MaxTTL": max_ttl,
                "MinTTL": 0,
                "ParametersInCacheKeyAndForwardedToOrigin": {
                    "EnableAcceptEncodingGzip": True,
                    "EnableAcceptEncodingBrotli": True,
                    "CookiesConfig": {"CookieBehavior": "none"},
                    "HeadersConfig": {"HeaderBehavior": "none"},
                    "QueryStringsConfig": {"QueryStringBehavior": query_strings},
                },
            }
        },
    }


def _behavior(policy: str, path: str | None = None) -> dict[str, Any]:
    behavior: dict[str, Any] = {
        "TargetOriginId": "assets",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD", "OPTIONS"],
        "CachedMethods": ["GET", "HEAD"],
        "Compress": True,
        "CachePolicyId": {"Ref": policy},
        "FunctionAssociations": [
            {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["CorsRequestFunction", "FunctionMetadata.FunctionARN"]}},
            {"EventType": "viewer-response", "FunctionARN": {"Fn::GetAtt": ["CorsResponseFunction", "FunctionMetadata.FunctionARN"]}},
        ],
    }
    if path is not None:
        behavior = {"PathPattern": path, **behavior}
    return behavior


def _uploads_bucket(environment: Environment) -> dict[str, Any]:
    """Visitors' photos of the problem (app/photos/bucket.py says the same rules for the
    local S3): private, encrypted, uploads by presigned POST from the companies' origins only,
    and what no booking kept removed by the lifecycle rules."""
    lifecycle = []
    for rule in lifecycle_rules():
        cfn: dict[str, Any] = {"Id": rule["ID"], "Status": rule["Status"]}
        tag = rule["Filter"].get("Tag")
        if tag:
            cfn["TagFilters"] = [tag]
        elif rule["Filter"].get("Prefix"):
            cfn["Prefix"] = rule["Filter"]["Prefix"]
        if "Expiration" in rule:
            cfn["ExpirationInDays"] = rule["Expiration"]["Days"]
        if "AbortIncompleteMultipartUpload" in rule:
            cfn["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        lifecycle.append(cfn)
    cors = [{
        "AllowedOrigins": {"Ref": "UploadOrigins"}, "AllowedMethods": rule["AllowedMethods"], "AllowedHeaders": rule["AllowedHeaders"],
        "ExposedHeaders": rule["ExposeHeaders"], "MaxAge": rule["MaxAgeSeconds"],
    } for rule in cors_rules([])]
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": environment.uploads_bucket,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "CorsConfiguration": {"CorsRules": cors},
            "LifecycleConfiguration": {"Rules": lifecycle},
        },
    }


def template(environment: Environment) -> dict[str, Any]:
    prefix = f"scheduler-{environment.name}"
    distribution_arn = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Scheduler widget CDN for {environment.name} ({environment.domain}): S3, CloudFront, invalidation Lambda; the photo uploads bucket",
        "Parameters": {
            "CertificateArn": {
                "Type": "String",
                "Description": f"ACM certificate in us-east-1 covering {environment.domain}",
                "AllowedPattern": "^arn:aws:acm:us-east-1:[0-9]{12}:certificate/.+$",
            },
            "UploadOrigins": {
                "Type": "CommaDelimitedList",
                "Description": "Origins whose pages may upload photos (the companies' allowed_origins, https://www.example.com,…)",
            },
        },
        "Resources": {
            "AssetsBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "BucketName": environment.bucket,
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                    },
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Id": "ExpireSupersededBuilds",
                                "Status": "Enabled",
                                "TagFilters": [{"Key": LIFECYCLE_TAG, "Value": "superseded"}],
                                "ExpirationInDays": SUPERSEDED_BUILD_DAYS,
                            },
                            {
                                "Id": "AbortIncompleteUploads",
                                "Status": "Enabled",
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                            },
                        ]
                    },
                },
            },
            "UploadsBucket": _uploads_bucket(environment),
            "UploadsBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "UploadsBucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "OnlyOverTls",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [{"Fn::GetAtt": ["UploadsBucket", "Arn"]}, {"Fn::Sub": "${UploadsBucket.Arn}/*"}],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
            "AssetsBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "AssetsBucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CloudFrontReadsThroughOriginAccessControl",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": {"Fn::Sub": "${AssetsBucket.Arn}/*"},
                                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                            }
                        ],
                    },
                },
            },
            "OriginAccessControl": {
                "Type": "AWS::CloudFront::OriginAccessControl",
                "Properties": {
                    "OriginAccessControlConfig": {
                        "Name": f"{prefix}-assets",
                        "OriginAccessControlOriginType": "s3",
                        "SigningBehavior": "always",
                        "SigningProtocol": "sigv4",
                    }
                },
            },
            "NoCachePolicy": _cache_policy(
                f"{prefix}-no-cache", CACHE_DURATIONS.edge_no_cache_default, CACHE_DURATIONS.edge_no_cache_max, "all"
            ),
            "LongCachePolicy": _cache_policy(
                f"{prefix}-long-cache", CACHE_DURATIONS.edge_versioned, CACHE_DURATIONS.edge_versioned, "none"
            ),
            "CorsRequestFunction": {
                "Type": "AWS::CloudFront::Function",
                "Properties": {
                    "Name": f"{prefix}-cors-request",
                    "AutoPublish": True,
                    "FunctionConfig": {"Comment": "Answer CORS preflights", "Runtime": "cloudfront-js-2.0"},
                    "FunctionCode": cors_request_function(),
                },
            },
            "CorsResponseFunction": {
                "Type": "AWS::CloudFront::Function",
                "Properties": {
                    "Name": f"{prefix}-cors-response",
                    "AutoPublish": True,
                    "FunctionConfig": {"Comment": "Add CORS headers to every response", "Runtime": "cloudfront-js-2.0"},
                    "FunctionCode": cors_response_function(),
                },
            },
            "Distribution": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {
                    "DistributionConfig": {
                        "Enabled": True,
                        "Comment": f"Scheduler widget ({environment.name})",
                        "Aliases": [environment.domain],
                        "HttpVersion": "http2and3",
                        "IPV6Enabled": True,
                        "PriceClass": "PriceClass_100",
                        "Origins": [
                            {
                                "Id": "assets",
                                "DomainName": {"Fn::GetAtt": ["AssetsBucket", "RegionalDomainName"]},
                                "OriginAccessControlId": {"Fn::GetAtt": ["OriginAccessControl", "Id"]},
                                "S3OriginConfig": {"OriginAccessIdentity": ""},
                            }
                        ],
                        "DefaultCacheBehavior": _behavior("LongCachePolicy"),
                        "CacheBehaviors": [_behavior("NoCachePolicy", f"/{key}") for key in ROOT_KEYS],
                        "ViewerCertificate": {
                            "AcmCertificateArn": {"Ref": "CertificateArn"},
                            "SslSupportMethod": "sni-only",
                            "MinimumProtocolVersion": "TLSv1.2_2021",
                        },
                    }
                },
            },
            "InvalidationFunctionLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/aws/lambda/{prefix}-invalidate-cache", "RetentionInDays": 30},
            },
            "InvalidationFunctionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "invalidate-this-distribution",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": "cloudfront:CreateInvalidation", "Resource": distribution_arn},
                                    {
                                        "Effect": "Allow",
                                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                        "Resource": {"Fn::GetAtt": ["InvalidationFunctionLogGroup", "Arn"]},
                                    },
                                ],
                            },
                        }
                    ],
                },
            },
            "InvalidationFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"{prefix}-invalidate-cache",
                    "Description": "On-demand CloudFront invalidation: invoke with {\"paths\": [\"/scheduler.js\"]}",
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Timeout": 30,
                    "MemorySize": 128,
                    "Role": {"Fn::GetAtt": ["InvalidationFunctionRole", "Arn"]},
                    "Environment": {"Variables": {"DISTRIBUTION_ID": {"Ref": "Distribution"}}},
                    "Code": {"ZipFile": LAMBDA_SOURCE.read_text(encoding="utf-8")},
                    "LoggingConfig": {"LogGroup": {"Ref": "InvalidationFunctionLogGroup"}},
                },
            },
        },
        "Outputs": {
            "BucketName": {"Value": {"Ref": "AssetsBucket"}},
            "DistributionId": {"Value": {"Ref": "Distribution"}},
            "DistributionDomainName": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "InvalidationFunctionName": {"Value": {"Ref": "InvalidationFunction"}},
            "UploadsBucketName": {"Value": {"Ref": "UploadsBucket"}},
        },
    }
