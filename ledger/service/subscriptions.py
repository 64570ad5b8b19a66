"""Event subscriptions of principals (docs/EVENTS.md §1): a webhook (signed JSON posts) or
a PACT buyer's events endpoint (CloudEvents, with a bearer token from the buyer's token
endpoint).

Endpoints are ``https://`` URLs without credentials in them: deliveries carry record
digests and footprints, so they never travel in the clear, and a secret belongs in the
token endpoint's client credentials, not in a URL that is logged. A principal manages its
own subscriptions; an admin manages everyone's. The buyer's client secret is kept to
obtain tokens and is never shown again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ledger.core.canonical import format_timestamp
from ledger.core.clock import Clock
from ledger.core.errors import MalformedError, NotFoundError
from ledger.store import Store
from ledger.store import access as access_store
from ledger.store import webhooks as hooks

__all__ = ["SubscriptionService", "check_endpoint_url", "subscription_json"]

MAX_URL_CHARS = 2000


def check_endpoint_url(url: Any, path: str) -> str:
    """An absolute ``https://`` URL with a host, no user info and no fragment."""
    if not isinstance(url, str) or not 8 < len(url) <= MAX_URL_CHARS or not url.isprintable():
        raise MalformedError(
            f"expected an https:// URL of at most {MAX_URL_CHARS} characters", path=path
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise MalformedError("expected an https:// URL with a host", path=path)
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise MalformedError("no credentials or fragment in the URL", path=path)
    try:
        _ = parts.port
    except ValueError:
        raise MalformedError("not a valid port", path=path) from None
    return url


def subscription_json(row: hooks.SubscriptionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "principal": row.principal,
        "kind": row.kind,
        "url": row.url,
        "events": list(row.events),
        "token_url": row.token_url,
        "client_id": row.client_id,
        "created_at": format_timestamp(row.created_at),
        "disabled_at": None if row.disabled_at is None else format_timestamp(row.disabled_at),
    }


class SubscriptionService:
    def __init__(self, store: Store, *, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def add(
        self,
        *,
        principal: str,
        kind: str,
        url: str,
        events: Sequence[str],
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        check_endpoint_url(url, "url")
        if token_url is not None:
            check_endpoint_url(token_url, "token_url")
        if kind == "webhook" and (token_url or client_id or client_secret):
            raise MalformedError("a webhook has no token endpoint", path="token_url")
        now = self.clock()

        def work(session: Any) -> hooks.SubscriptionRow:
            access_store.get_principal(session, principal)
            return hooks.add_subscription(
                session,
                principal=principal,
                kind=kind,
                url=url,
                events=list(events),
                created_at=now,
                token_url=token_url,
                client_id=client_id,
                client_secret=client_secret,
            )

        return subscription_json(self.store.run(work))

    def listing(self, *, principal: str | None) -> list[dict[str, Any]]:
        rows = self.store.run(
            lambda s: hooks.list_subscriptions(s, principal=principal), readonly=True
        )
        return [subscription_json(r) for r in rows]

    def disable(self, subscription_id: int, *, principal: str | None) -> dict[str, Any]:
        now = self.clock()
        row = self.store.run(
            lambda s: hooks.disable_subscription(s, subscription_id, principal=principal, at=now)
        )
        return subscription_json(row)

    def deliveries(self, subscription_id: int, *, principal: str | None) -> list[dict[str, Any]]:
        """The deliveries of one subscription: state, attempts and the last error."""

        def work(session: Any) -> list[hooks.DeliveryRow]:
            owned = hooks.list_subscriptions(session, principal=principal)
            if not any(s.id == subscription_id for s in owned):
                raise NotFoundError(f"no subscription {subscription_id}")
            return hooks.list_deliveries(session, subscription_id=subscription_id)

        return [
            {
                "message_id": d.message_id,
                "state": d.state,
                "attempts": d.attempts,
                "created_at": format_timestamp(d.created_at),
                "next_attempt_at": format_timestamp(d.next_attempt_at)
                if d.state == "pending"
                else None,
                "delivered_at": None
                if d.delivered_at is None
                else format_timestamp(d.delivered_at),
                "last_error": d.last_error,
            }
            for d in self.store.run(work, readonly=True)
        ]
