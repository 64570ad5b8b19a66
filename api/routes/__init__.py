"""The API's routes, one module per area; every route calls one ``ApiService`` method."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    access,
    attestations,
    batches,
    bundles,
    cbam,
    crossborder,
    health,
    metrics,
    principals,
    records,
    registry,
    revocations,
    subscriptions,
    trail,
)

__all__ = ["UNVERSIONED", "VERSIONED"]

#: Mounted under ``/v1``.
VERSIONED: tuple[APIRouter, ...] = (
    records.router,
    trail.router,
    batches.router,
    bundles.router,
    attestations.router,
    revocations.router,
    principals.router,
    subscriptions.router,
    cbam.router,
    registry.router,
    access.router,
    crossborder.router,
    health.service_router,
)
#: Operational endpoints outside the versioned API.
UNVERSIONED: tuple[APIRouter, ...] = (health.router, metrics.router)
