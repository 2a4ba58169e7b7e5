"""S3 on this machine for `make run`: moto's server with the uploads bucket, so the demo takes
photos offline and without an AWS account. What it holds is gone when the demo stops.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from app.embedded_db import free_port
from app.photos.bucket import create_uploads_bucket

BUCKET = "scheduler-demo-uploads"
# Credentials moto accepts; nothing here ever reaches AWS.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_EC2_METADATA_DISABLED": "true"}


@dataclass
class LocalS3:
    url: str
    server: Any

    @property
    def environment(self) -> dict[str, str]:
        return CREDENTIALS | {"AWS_ENDPOINT_URL": self.url, "UPLOADS_BUCKET": BUCKET}

    def stop(self) -> None:
        self.server.stop()


def start_local_s3(host: str, origins: list[str]) -> LocalS3:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per upload in the demo's output
    os.environ.update(CREDENTIALS)
    server = ThreadedMotoServer(ip_address=host, port=free_port(), verbose=False)
    server.start()
    bound, port = server.get_host_and_port()
    url = f"http://{bound}:{port}"
    create_uploads_bucket(BUCKET, url, origins)
    return LocalS3(url, server)
