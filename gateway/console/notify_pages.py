"""通知设置 (`/notifications`): where the signed-in officer's agency's work reaches people
away from the console (`agencies.outbox`). Each officer adds and removes its own e-mail
with its quiet hours; a head also the agency's webhooks (the signing secret shown once,
on the page that added it), its duty roster, and reads its outbox.

Every call is the agency's NotificationService, relayed with the officer's session
(`AgencyLinks.notifications`): the agency decides who may do what, and this page offers
a head's forms only to heads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agencies.outbox import EVENTS
from gateway.agency_links import SessionUnconfirmed
from gateway.console.core import ConsoleCore, flash_of
from gateway.console.i18n import TEXT
from gateway.console.web import FLASH_COOKIE, Reader, language, set_cookie
from seamless.v1 import notify_pb2 as pb
from trust.sessions import OfficerRole

OUTBOX_SHOWN = 30
# A refusal of the agency's, in the reader's language: a sentence per status (the English
# page adds the agency's own message, which names the field).
_REFUSED = {grpc.StatusCode.INVALID_ARGUMENT: "notify_invalid",
            grpc.StatusCode.FAILED_PRECONDITION: "notify_no_mail",
            grpc.StatusCode.PERMISSION_DENIED: "notify_heads_only",
            grpc.StatusCode.NOT_FOUND: "notify_not_found",
            grpc.StatusCode.RESOURCE_EXHAUSTED: "notify_too_many",
            grpc.StatusCode.ALREADY_EXISTS: "notify_already"}


class NotifyPages(ConsoleCore):
    async def _notify(self, reader: Reader, method: str, request: Any) -> Any:
        return await self._links.notifications(reader.agency, reader.token, method, request)

    @staticmethod
    def _head(reader: Reader) -> bool:
        return OfficerRole.HEAD in reader.session.roles

    async def notifications(self, request: Request, reader: Reader, *, status: int = 200,
                            problem: str = "", secret: str = "") -> Response:
        try:
            mine = await self._notify(reader, "ListSubscriptions",
                                      pb.ListSubscriptionsRequest())
            shifts = outbox = None
            if self._head(reader):
                shifts = await self._notify(reader, "ListDutyShifts",
                                            pb.ListDutyShiftsRequest())
                outbox = await self._notify(reader, "ListOutbox",
                                            pb.ListOutboxRequest(page_size=OUTBOX_SHOWN))
        except (grpc.aio.AioRpcError, SessionUnconfirmed, KeyError):
            return self.render(request, reader, "notifications.html", status=503,
                               problem=TEXT["notify_unavailable"][language(request)],
                               subscriptions=[], shifts=[], outbox=[], events=EVENTS,
                               head=self._head(reader), secret="")
        return self.render(request, reader, "notifications.html", status=status,
                           problem=problem, secret=secret, events=EVENTS,
                           subscriptions=list(mine.subscriptions), head=self._head(reader),
                           shifts=list(shifts.shifts) if shifts else [],
                           outbox=list(outbox.entries) if outbox else [])

    async def change_notifications(self, request: Request, reader: Reader) -> Response:
        """POST /notifications/<action>: add an e-mail or a webhook, remove one, put an
        officer on duty. A refusal shows the page again, saying why; nothing changed."""
        form = await request.form(max_files=0, max_fields=30)
        lang = language(request)
        if not self.csrf_ok(reader, str(form.get("csrf", ""))):
            return await self.notifications(request, reader, status=403,
                                            problem=TEXT["csrf"][lang])
        action = request.path_params["action"]
        value = {k: str(form.get(k, ""))[:600] for k in form if k != "event"}
        events = [str(e) for e in form.getlist("event")][:len(EVENTS)]
        try:
            if action == "email":
                await self._notify(reader, "AddEmail", pb.AddEmailRequest(
                    address=value.get("address", ""), events=events,
                    quiet_hours=value.get("quiet_hours", ""), zone=value.get("zone", "")))
            elif action == "webhook":
                added = await self._notify(reader, "AddWebhook", pb.AddWebhookRequest(
                    url=value.get("url", ""), events=events))
                # Shown on this page alone, once: never in a cookie or a redirect.
                return await self.notifications(request, reader, secret=added.secret)
            elif action == "remove":
                await self._notify(reader, "RemoveSubscription", pb.RemoveSubscriptionRequest(
                    id=int(value.get("id", "0")) if value.get("id", "").isdigit() else 0))
            elif action == "duty":
                await self._notify(reader, "AddDutyShift", pb.AddDutyShiftRequest(
                    officer_id=value.get("officer_id", "")[:64],
                    starts_at=self._moment(value.get("starts_at", "")),
                    ends_at=self._moment(value.get("ends_at", ""))))
            else:
                return Response(status_code=404)
        except grpc.aio.AioRpcError as err:
            key = _REFUSED.get(err.code(), "notify_unavailable")
            said = TEXT[key][lang]
            if lang == "en" and err.code() in _REFUSED:
                said = f"{said} ({err.details()})"
            return await self.notifications(request, reader, status=400 if err.code() is
                                            grpc.StatusCode.INVALID_ARGUMENT else 409,
                                            problem=said)
        except (SessionUnconfirmed, KeyError):
            return await self.notifications(request, reader, status=503,
                                            problem=TEXT["notify_unavailable"][lang])
        response = RedirectResponse("/notifications", status_code=303)
        set_cookie(response, FLASH_COOKIE, flash_of("notify_saved"), max_age=60)
        return response

    def _moment(self, text: str) -> Timestamp:
        """A time the page's datetime-local field sends, in the district's zone; unset
        (the agency refuses it, saying so) if it is not one."""
        stamp = Timestamp()
        try:
            moment = datetime.fromisoformat(text[:40])
        except ValueError:
            return stamp
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        stamp.FromDatetime(moment)
        return stamp
