"""Trakt API client behind ``engine.ports.trakt.TraktPort``: device linking, rotating refresh tokens, pagination.

Wire facts (see docs.trakt.tv): required headers ``trakt-api-version: 2`` and ``trakt-api-key``; device polling
answers 400 pending, 404 unknown, 409 already used, 410 expired, 418 denied, 429 slow down; refresh tokens are
single use, so a new pair is saved atomically before it is used, and when several requests hit 401 at once only
one of them refreshes (the others see the token generation move and retry with the new token) — in this process
(a lock per person) and across processes (``TokenVault.refreshing``: a lease in the shared store).

Payloads are decoded once at this edge by ``engine.formats.trakt_json`` (Trakt's JSON shapes, which its export
files share): a show's ids are turned into a ``ShowRef`` once per page, however many plays it has.
"""

from engine.adapters.trakt.auth import TraktSession
from engine.adapters.trakt.client import TraktClient

__all__ = ["TraktClient", "TraktSession"]
