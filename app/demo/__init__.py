"""The demo organization (Demo Plumbing & Air) that `make run` loads."""

from pathlib import Path

DEMO_FILE = Path(__file__).with_name("demo-plumbing.yaml")
