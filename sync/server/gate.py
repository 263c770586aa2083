"""The door every request passes: body size cap, signature check, the server-time header, last-resort errors.

It is plain ASGI middleware rather than a route dependency because it must see the raw body before anything
parses it: an oversized body is refused before it is buffered, and a request from an unknown device is refused
before its JSON is even decoded, so an unenrolled caller learns nothing, not even how its body would validate.
The verified device is left in the request scope for the `signed_device` dependency of each route.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol.models import API_PREFIX, Limits
from sync.server.auth import RequestVerifier, now_ms
from sync.server.errors import PlatformError

log = logging.getLogger(__name__)

DEVICE_KEY: Final = "kiosk.signed_device"
BODY_KEY: Final = "kiosk.raw_body"
SERVER_TIME_HEADER: Final = "X-Server-Time"
UNSIGNED_PATHS: Final = frozenset({f"{API_PREFIX}/hello", f"{API_PREFIX}/enrol"})
_BLOB_PUT: Final = re.compile(rf"^{API_PREFIX}/blobs/[^/]+$")
_DRAIN_LIMIT: Final = 16 * 1024 * 1024


def error_response(exc: PlatformError) -> JSONResponse:
    return JSONResponse(exc.body().model_dump(mode="json"), status_code=exc.status)


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class Gate:
    def __init__(self, app: ASGIApp, *, verifier: RequestVerifier, limits: Limits) -> None:
        self.app = app
        self.verifier = verifier
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_time(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), (SERVER_TIME_HEADER.lower().encode(), str(now_ms()).encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._pass(scope, receive, send_with_time)
        except _Disconnected:
            return
        except PlatformError as exc:
            if not started:
                await error_response(exc)(scope, receive, send_with_time)
        except OperationalError:
            log.exception("database unavailable for %s %s", scope["method"], scope["path"])
            if not started:
                await error_response(PlatformError(503, "unavailable"))(scope, receive, send_with_time)
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            if started:
                raise  # half an answer is out: let the server drop the connection
            await error_response(PlatformError(500, "server_error"))(scope, receive, send_with_time)

    async def _pass(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        blob_put = scope["method"] == "PUT" and _BLOB_PUT.match(path) is not None
        cap = self.limits.max_chunk_bytes if blob_put else self.limits.max_body_bytes
        try:
            body = await _read_body(scope, receive, cap)
        except _TooLarge:
            raise PlatformError(413, "too_large", f"请求内容超过平台允许的 {cap} 字节。", {"max_bytes": cap}) from None
        if path.startswith(f"{API_PREFIX}/") and path not in UNSIGNED_PATHS:
            raw_path: bytes = scope.get("raw_path") or path.encode("utf-8")
            query: bytes = scope.get("query_string", b"")
            path_and_query = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
            scope[DEVICE_KEY] = await run_in_threadpool(self.verifier.verify, scope["method"], path_and_query,
                                                        Headers(scope=scope), body)
        scope[BODY_KEY] = body
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _read_body(scope: Scope, receive: Receive, cap: int) -> bytes:
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > _DRAIN_LIMIT:
        raise _TooLarge  # not worth reading just to refuse it: the connection is closed instead
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk: bytes = message.get("body", b"")
        total += len(chunk)
        if total <= cap:
            chunks.append(chunk)
        elif total > _DRAIN_LIMIT:
            raise _TooLarge
        if not message.get("more_body", False):
            break
    if total > cap:
        # Read to the end before refusing: a client still sending would otherwise see a reset, not our answer.
        raise _TooLarge
    return b"".join(chunks)
