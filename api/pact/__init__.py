"""The PACT Tech Spec v3 data exchange API (docs/PACT.md): the OAuth2 token endpoint,
ListFootprints, GetFootprint and the events endpoint, served over HTTPS only, with PACT's
own error objects.

``pact_router()`` is mounted by ``api.app.create_app`` at the root (PACT fixes the paths
``/auth/token`` and ``/3/...``); the service it calls is ``app.state.pact``.
"""

from api.pact.routes import PactApi, pact_router

__all__ = ["PactApi", "pact_router"]
