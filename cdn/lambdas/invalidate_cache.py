"""On-demand CloudFront invalidation, for emergency cache clearing.

Invoke with {"paths": ["/scheduler.js", "/version-manifest.json"]} (default ["/*"]).
The distribution comes from the DISTRIBUTION_ID environment variable. Self-contained:
the infrastructure template inlines this file, and Lambda's runtime provides boto3.
"""

import os
import time
import uuid

import boto3


def handler(event, context):
    paths = (event or {}).get("paths") or ["/*"]
    if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in paths):
        return {"ok": False, "error": "paths must be a list of strings that start with '/'"}
    if len(paths) > 3000:
        return {"ok": False, "error": "at most 3000 paths in one invalidation"}
    distribution_id = os.environ["DISTRIBUTION_ID"]
    cloudfront = boto3.client("cloudfront")
    response = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": "lambda-%d-%s" % (int(time.time()), uuid.uuid4().hex[:8]),
        },
    )
    invalidation = response["Invalidation"]
    return {"ok": True, "distributionId": distribution_id, "invalidationId": invalidation["Id"], "status": invalidation["Status"], "paths": paths}
