"""Storing and finding organizations and their flows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.db import Database
from app.flows.models import Flow, Organization, OrganizationConfig

_STORED_ONLY = ("_id", "organization_id", "flow_id", "position", "updated_at")


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in _STORED_ONLY}


async def save_organization(db: Database, config: OrganizationConfig) -> None:
    """Create or replace an organization and all its flows (flows it no longer has go away)."""
    now = datetime.now(UTC)
    org_doc = config.organization.model_dump(mode="json") | {"_id": config.slug, "updated_at": now}
    await db.organizations.replace_one({"_id": config.slug}, org_doc, upsert=True)
    for position, flow in enumerate(config.flows):
        flow_doc = flow.model_dump(mode="json") | {
            "_id": f"{config.slug}:{flow.id}",
            "organization_id": config.slug,
            "flow_id": flow.id,
            "position": position,
            "updated_at": now,
        }
        await db.flows.replace_one({"_id": flow_doc["_id"]}, flow_doc, upsert=True)
    await db.flows.delete_many(
        {"organization_id": config.slug, "flow_id": {"$nin": [f.id for f in config.flows]}}
    )


async def organization_by_key(db: Database, publishable_key: str) -> Organization | None:
    doc = await db.organizations.find_one({"publishable_key": publishable_key})
    return Organization.model_validate(_strip(doc)) if doc else None


async def organization_by_slug(db: Database, slug: str) -> Organization | None:
    doc = await db.organizations.find_one({"_id": slug})
    return Organization.model_validate(_strip(doc)) if doc else None


async def flow_by_id(db: Database, organization_id: str, flow_id: str) -> Flow | None:
    doc = await db.flows.find_one({"_id": f"{organization_id}:{flow_id}"})
    return Flow.model_validate(_strip(doc)) if doc else None


async def export_organization(db: Database, slug: str) -> OrganizationConfig | None:
    organization = await organization_by_slug(db, slug)
    if organization is None:
        return None
    flow_docs = await db.flows.find({"organization_id": slug}).sort("position", 1).to_list()
    flows = [Flow.model_validate(_strip(doc)) for doc in flow_docs]
    return OrganizationConfig.model_validate(organization.model_dump() | {"flows": flows})
