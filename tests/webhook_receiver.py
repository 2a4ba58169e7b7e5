"""A company's system receiving our webhooks: a real server on a free port that checks
each message's signature with the `standardwebhooks` library, as a receiver would, and
records what it accepted (and what it refused). Faults as the vendor fakes script them."""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.demo.fakes.server import FakeVendor


class Receiver(FakeVendor):
    name = "receiver"

    def __init__(self) -> None:
        self.secrets: list[str] = []  # the receiver knows these (one is enough to verify)
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[str] = []
        super().__init__(rate_limit_per_second=1000)

    @property
    def hook_url(self) -> str:
        return self.url + "/hooks"

    def routes(self, app: Quart) -> None:
        @app.post("/hooks")
        async def hook() -> Response:
            body = await request.get_data(as_text=True)
            headers = {k: v for k, v in request.headers.items()}
            for secret in self.secrets:
                try:
                    payload = Webhook(secret).verify(body, headers)
                except WebhookVerificationError:
                    continue
                self.accepted.append({"id": headers.get("Webhook-Id") or headers.get("webhook-id"), "payload": payload,
                                      "signatures": (headers.get("Webhook-Signature") or "").count("v1,")})
                return Response("", status=204)
            self.refused.append(body[:200])
            return Response("bad signature", status=401)
