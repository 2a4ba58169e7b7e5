"""Reading a vendor credential from the organization's configuration or the environment.

A credential in YAML is either the secret itself or `env:NAME`; the second keeps secrets
out of the database and lets ops rotate them without re-importing the organization.
"""

from __future__ import annotations

import hashlib
import os

from pydantic import SecretStr

from app.domain.config import env_variable
from app.vendors.base import VendorUnauthorized


def reveal(secret: SecretStr, vendor: str, setting: str) -> str:
    """The credential's value; an `env:` reference that is not set names the variable."""
    name = env_variable(secret)
    if name is None:
        return secret.get_secret_value()
    found = os.environ.get(name)
    if not found:
        raise VendorUnauthorized(vendor, f"vendor.{setting} names the environment variable {name}, which is not set")
    return found


def fingerprint(*parts: str) -> str:
    """A short, one-way name for a set of credentials: a cache key that is safe to log."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]
