"""The console's sign-in, sign-out and language switch, and its home page.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import grpc
from connectrpc.code import Code
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.core import ConsoleCore
from gateway.console.i18n import LANGUAGES, TEXT
from gateway.console.web import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    language,
    local_path,
    reader_of,
    set_cookie,
)
from records.participation import OVERSIGHT


class SignInPages(ConsoleCore):
    """Signing in (a one-time password changed on the spot), out, and the language."""

    async def login_form(self, request: Request) -> Response:
        binding = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        response = self.render(request, None, "login.html", login_csrf=self._keys.csrf(
            binding), agencies=self.sign_in_bodies(), next=request.query_params.get(
                "next", "/inbox"), error="")
        set_cookie(response, LOGIN_COOKIE, binding, max_age=3600)
        return response

    def sign_in_bodies(self) -> list[str]:
        return [a.id for a in self._catalog.directory.agencies] + [OVERSIGHT]

    async def login(self, request: Request) -> Response:
        address = request.client.host if request.client else ""
        wait = self._throttle.wait(address)
        if wait:
            return self.render(request, None, "error.html", status=429,
                               code=Code.RESOURCE_EXHAUSTED,
                               message=TEXT["too_many"][language(request)] % wait)
        form = await request.form(max_files=0, max_fields=10)
        binding = request.cookies.get(LOGIN_COOKIE, "")
        if not self._keys.csrf_ok(binding, str(form.get("csrf", ""))):
            return self.render(request, None, "error.html", status=403,
                               code=Code.PERMISSION_DENIED,
                               message=TEXT["csrf"][language(request)])
        agency = str(form.get("agency", ""))[:64]
        officer = str(form.get("officer_id", ""))[:64]
        password = str(form.get("password", ""))[:256]
        new_password = str(form.get("new_password", ""))[:256]
        target = local_path(str(form.get("next", "")), "/inbox")
        # Counted before the agency is asked and forgiven when it was no failure, so
        # attempts sent all at once meet the bound as well (gateway/sign_in.py).
        self._throttle.failed(address)
        try:
            if agency not in self.sign_in_bodies():
                raise KeyError(agency)
            answer = await self._links.sign_in(agency, officer, password,
                                               client_address=address,
                                               new_password=new_password)
        except grpc.aio.AioRpcError as err:
            must_change = err.code() is grpc.StatusCode.FAILED_PRECONDITION or (
                err.code() is grpc.StatusCode.INVALID_ARGUMENT and bool(new_password))
            if not must_change:
                return self._refused_sign_in(request, binding, target, address, err)
            self._throttle.forgive(address)
            # A one-time password: the officer sets their own here and now.
            return self.render(
                request, None, "login.html", status=400,
                login_csrf=self._keys.csrf(binding), agencies=self.sign_in_bodies(),
                next=target, must_change=True, chosen_agency=agency,
                chosen_officer=officer, error=TEXT["must_change"][language(request)]
                if err.code() is grpc.StatusCode.FAILED_PRECONDITION else err.details())
        except KeyError as err:
            return self._refused_sign_in(request, binding, target, address, err)
        self._throttle.forgive(address)
        response = RedirectResponse(target, status_code=303)
        lifetime = answer.expires_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)
        set_cookie(response, SESSION_COOKIE, answer.session,
                   max_age=max(int(lifetime.total_seconds()), 0), same_site="lax")
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    def _refused_sign_in(self, request: Request, binding: str, target: str, address: str,
                         err: KeyError | grpc.aio.AioRpcError) -> Response:
        # Wrong is one answer; slowed down by the agency another; an agency not
        # answering a third, in words of ours (the channel's own would name internal
        # addresses).
        refused = isinstance(err, KeyError) or \
            err.code() is grpc.StatusCode.UNAUTHENTICATED
        slowed = isinstance(err, grpc.aio.AioRpcError) and \
            err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        if not refused:
            self._throttle.forgive(address)
        status, words = (401, "bad_sign_in") if refused else (
            (429, "slowed_sign_in") if slowed else (503, "agency_unavailable"))
        return self.render(
            request, None, "login.html", status=status,
            login_csrf=self._keys.csrf(binding), agencies=self.sign_in_bodies(),
            next=target, error=TEXT[words][language(request)])

    async def logout(self, request: Request) -> Response:
        reader = reader_of(request, self._store)
        form = await request.form(max_files=0, max_fields=10)
        if reader is not None and \
                not self._keys.csrf_ok(reader.token, str(form.get("csrf", ""))):
            return self.render(request, reader, "error.html", status=403,
                               code=Code.PERMISSION_DENIED,
                               message=TEXT["csrf"][language(request)])
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        if reader is not None:
            try:
                await self._links.sign_out(reader.agency, reader.token)
            except (KeyError, grpc.aio.AioRpcError):
                pass  # the cookie is gone either way; the session expires on its own
        return response

    async def switch_language(self, request: Request) -> Response:
        lang = request.path_params["lang"]
        response = RedirectResponse(local_path(request.query_params.get("next", "/"),
                                               "/"), status_code=303)
        if lang in LANGUAGES:
            set_cookie(response, LANG_COOKIE, lang, max_age=365 * 86400)
        return response

    async def home(self, request: Request) -> Response:
        reader = reader_of(request, self._store)
        if reader is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/oversight" if reader.agency == OVERSIGHT else "/inbox",
                                status_code=303)
