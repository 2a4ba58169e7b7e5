"""The widget's CDN: versioned builds, cache rules, publishing to S3, CloudFront invalidation,
and the infrastructure template. Run as `python -m cdn build|publish|invalidate|infra`."""
