"""One gate for everything the server exposes: the HTTP API, the chat page and the chat's own API.

Two roles: a *reader* may ask questions and read documents; an *admin* may also
upload and remove them.  `QA_API_KEY` is the reader's key and `QA_ADMIN_KEY` the
admin's; with neither set the service is open, as on a laptop.  A caller proves a
role with `Authorization: Bearer <key>` (API clients, `gradio_client`) or with
the session cookie the login page sets (browsers).

The cookie holds the role, an expiry and an HMAC keyed by that role's key: it
carries no secret, every replica behind a load balancer accepts it, and changing
a key signs everyone out.  The gate is ASGI middleware in front of the whole app,
so a route added later (by FastAPI or by Gradio) is closed by default.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import time
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Literal
from urllib.parse import parse_qs, quote, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse

from qa.api.errors import error_response

log = logging.getLogger(__name__)

Role = Literal["reader", "admin"]

COOKIE = "qa_session"
LOGIN_PATH, LOGOUT_PATH = "/login", "/logout"
# Open to anyone: the load balancer's health check and the way in.
PUBLIC_PATHS = frozenset({"/healthz", LOGIN_PATH, LOGOUT_PATH})
# Routes that change the index, whatever the interface; the chat's own upload and
# remove events are checked in their handlers (they share Gradio's queue route).
ADMIN_ROUTES = (("POST", "/v1/documents"), ("DELETE", "/v1/documents/"), ("POST", "/gradio_api/upload"))
MAX_LOGIN_BODY = 4096


class Gate:
    """Who a request is, from its headers; and the cookie that lets a browser stay signed in."""

    def __init__(self, reader_key: str | None, admin_key: str | None, session_hours: float = 12.0):
        self._keys: dict[Role, str] = {role: key for role, key in (("reader", reader_key), ("admin", admin_key)) if key}
        self.session_seconds = int(session_hours * 3600)

    @classmethod
    def from_settings(cls, settings) -> Gate:
        return cls(settings.api_key, settings.admin_key, settings.session_hours)

    @property
    def is_open(self) -> bool:
        return not self._keys

    def describe(self) -> str:
        """One line for the start-up log: who may do what."""
        if self.is_open:
            return ("authentication is OFF: anyone who can reach this port may ask, upload and remove documents "
                    "(set QA_API_KEY and QA_ADMIN_KEY to require keys)")
        admin = "QA_ADMIN_KEY uploads and removes documents" if "admin" in self._keys else \
            "no QA_ADMIN_KEY is set, so documents cannot be changed over HTTP or in the chat"
        reader = "QA_API_KEY asks questions; " if "reader" in self._keys else ""
        return f"authentication is ON: {reader}{admin}"

    def role_for_key(self, key: str) -> Role | None:
        """The role whose key this is, compared in constant time."""
        for role in ("admin", "reader"):
            expected = self._keys.get(role)
            if expected and hmac.compare_digest(key.encode(), expected.encode()):
                return role
        return None

    def role_of(self, headers: Mapping[str, str]) -> Role | None:
        """The caller's role from a Bearer key or a session cookie; admin on an open service."""
        if self.is_open:
            return "admin"
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return self.role_for_key(token.strip())
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie") or "")
        except Exception:  # noqa: BLE001 - any malformed Cookie header is the same as none
            return None
        return self._role_from_session(cookie[COOKIE].value) if COOKIE in cookie else None

    def session_value(self, role: Role, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.session_seconds)
        return f"{role}.{expires}.{self._signature(role, expires)}"

    def _role_from_session(self, value: str) -> Role | None:
        role, _, rest = value.partition(".")
        expires, _, signature = rest.partition(".")
        if role not in self._keys or not expires.isdigit() or int(expires) < time.time():
            return None
        return role if hmac.compare_digest(signature, self._signature(role, int(expires))) else None  # type: ignore[return-value]

    def _signature(self, role: str, expires: int) -> str:
        message = f"grounded-qa session {role} {expires}".encode()
        return hmac.new(self._keys[role].encode(), message, hashlib.sha256).hexdigest()


def may_change_documents(role: Role | None) -> bool:
    return role == "admin"


def needs_admin(method: str, path: str) -> bool:
    return any(method == m and (path == p or (p.endswith("/") and path.startswith(p))) for m, p in ADMIN_ROUTES)


class GateMiddleware:
    """Refuse every request without a valid role before any route sees it.

    A browser asking for a page is sent to the login page; any other caller gets
    the API's JSON error (401 without credentials, 403 for a reader on an admin route).
    """

    def __init__(self, app, gate: Gate):
        self.app, self.gate = app, gate

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path == LOGIN_PATH and scope["type"] == "http":
            return await self._login(scope, receive, send, headers)
        if path == LOGOUT_PATH and scope["type"] == "http":
            response = RedirectResponse(LOGIN_PATH, status_code=303)
            response.delete_cookie(COOKIE, path="/")
            return await response(scope, receive, send)
        role = self.gate.role_of(headers)
        method = scope.get("method", "GET")
        if path not in PUBLIC_PATHS and role is None:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            if method == "GET" and "text/html" in headers.get("accept", ""):
                target = path + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
                redirect = RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)
                return await redirect(scope, receive, send)
            refusal = error_response(401, "unauthorized", "a valid 'Authorization: Bearer <key>' header or a session "
                                     "from the login page is required", {"WWW-Authenticate": "Bearer"})
            return await refusal(scope, receive, send)
        if needs_admin(method, path) and not may_change_documents(role):
            return await error_response(403, "forbidden", "changing documents needs the admin key (QA_ADMIN_KEY)")(
                scope, receive, send)
        scope.setdefault("state", {})["role"] = role
        return await self.app(scope, receive, send)

    async def _login(self, scope, receive, send, headers: Mapping[str, str]):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        target = _local_target((query.get("next") or ["/"])[0])
        lang = "fr" if headers.get("accept-language", "fr").lower().startswith("fr") else "en"
        if scope["method"] != "POST":
            return await _login_page(lang, target)(scope, receive, send)
        body = await _read_body(receive, MAX_LOGIN_BODY)
        form = parse_qs(body.decode("utf-8", "replace")) if body is not None else {}
        role = self.gate.role_for_key((form.get("key") or [""])[0].strip())
        if role is None:
            return await _login_page(lang, target, failed=True)(scope, receive, send)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, self.gate.session_value(role), max_age=self.gate.session_seconds, path="/",
                            httponly=True, samesite="lax", secure=scope.get("scheme") == "https")
        return await response(scope, receive, send)


def _local_target(target: str) -> str:
    """Only a path on this server: never send a signed-in browser to another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return target


async def _read_body(receive, limit: int) -> bytes | None:
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            return None
    return body


_LOGIN_TEXT = {
    "fr": {"title": "Questions sur vos documents", "prompt": "Clé d’accès", "submit": "Entrer",
           "failed": "Cette clé n’est pas valide.", "lang": "fr"},
    "en": {"title": "Questions about your documents", "prompt": "Access key", "submit": "Sign in",
           "failed": "That key is not valid.", "lang": "en"},
}


def _login_page(lang: str, target: str, failed: bool = False) -> HTMLResponse:
    text = _LOGIN_TEXT[lang]
    error = f'<p class="error" role="alert">{text["failed"]}</p>' if failed else ""
    page = f"""<!doctype html>
<html lang="{text['lang']}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text['title']}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:12vh auto;padding:0 1rem}}
input,button{{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
.error{{color:#b00020}}</style>
</head><body><h1>{text['title']}</h1>{error}
<form method="post" action="{LOGIN_PATH}?next={html.escape(quote(target))}">
<label for="key">{text['prompt']}</label><input id="key" name="key" type="password"
 autocomplete="current-password" autofocus required>
<button type="submit">{text['submit']}</button></form></body></html>"""
    return HTMLResponse(page, status_code=401 if failed else 200)
