"""Authentication: who is calling, proven before any handler runs.

The gateway listens twice. On its public port (server TLS) callers are people: each call
carries `authorization: Bearer <session>`, a session signed by the agency (or the
oversight body) where the person signed in. The gateway checks the signature against the
platform's certificates, then asks the issuing agency whether the session still stands
and what roles the officer has now (keeping its word a second: a signed-out or disabled
officer is refused within a second).
On its mutual-TLS port callers are agencies' services, known by their certificate,
forwarding an act of one of their officers with the agency's signature over it
(`seamless-act`; checked with the request in `gateway.case_service`).

Then `gateway.authorization` decides whether that caller may call that method.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

import grpc

from gateway import authorization
from gateway.admission import Admission
from gateway.agency_links import AgencyLinks, SessionUnconfirmed
from gateway.callers import CURRENT, Caller, CallerKind
from gateway.errors import Context, GatewayError, abort
from records.participation import role_of
from trust.attestations import ACT_HEADER
from trust.guard import Guard, bearer, header
from trust.pki import CertificateStore, Role
from trust.sessions import SessionError, verify_session
from trust.tls import peer_party


def unauthenticated(message: str) -> GatewayError:
    return GatewayError(grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED", message)


class Authenticator:
    def __init__(self, *, store: CertificateStore, links: AgencyLinks,
                 issuers: Collection[str], admission: Admission) -> None:
        self._store = store
        self._links = links
        self._issuers = frozenset(issuers)
        self._admission = admission

    def guard(self) -> Guard[Caller]:
        return Guard(self.identify, CURRENT, self._admission.serving)

    async def identify(self, method: str, context: Context) -> Caller:
        """The caller, allowed to call `method`; otherwise the call is aborted."""
        try:
            found = await self._caller(context)
            authorization.authorize(method, found)
        except GatewayError as err:
            await abort(context, err)
        return found

    async def _caller(self, context: Context) -> Caller:
        party = peer_party(context, self._store)
        if party is not None:
            if party.role is not Role.AGENCY or party.id not in self._issuers:
                raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "NOT_AN_AGENCY",
                                   f"the gateway's mutual-TLS port serves agencies' "
                                   f"forwarded acts; the {party} has none to forward")
            self._admission.pace(CallerKind.AGENCY, party.id)
            return Caller(CallerKind.AGENCY, party.id,
                          signed_act=header(context, ACT_HEADER))
        return await self.officer_of(bearer(context))

    async def officer_of(self, token: str) -> Caller:
        """The signed-in person a session token names, once its agency says the session
        still stands (a door of the gateway other than its RPCs asks here too)."""
        if not token:
            raise unauthenticated("missing credential: sign in ('seamless login') and send "
                                  "'authorization: Bearer <session>'")
        try:
            session = verify_session(token, self._store, now=datetime.now(UTC))
        except SessionError as err:
            raise unauthenticated(str(err)) from None
        if session.agency not in self._issuers or \
                session.issuer_role is not role_of(session.agency):
            raise unauthenticated(f"{session.agency} signs no sessions on this platform")
        kind = (CallerKind.OVERSIGHT if session.issuer_role is Role.OVERSIGHT
                else CallerKind.OFFICER)
        self._admission.pace(kind, session.agency, session.officer)
        try:
            standing = await self._links.check_session(session)
        except SessionUnconfirmed as err:
            raise GatewayError(grpc.StatusCode.UNAVAILABLE, "AGENCY_UNAVAILABLE",
                               str(err)) from None
        if not standing.active:
            raise unauthenticated(f"the session no longer stands: {standing.reason}; sign "
                                  "in again")
        return Caller(kind, session.agency, session.officer, standing.roles,
                      session.session_id, session=token)
