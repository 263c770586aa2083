"""`create_app`: the reference platform's HTTP API (protocol v1) as a FastAPI application.

Endpoints are plain (synchronous) functions: uvicorn runs them in its thread pool and the store serialises
writes. Signature checks and body limits happen in the `Gate` middleware before any parsing; every refusal is
an `ErrorBody` with a machine code and a plain Chinese message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from sync.protocol.models import (
    API_PREFIX,
    API_VERSION,
    SERVICE_NAME,
    ApplicationCommit,
    BlobQuery,
    BlobQueryAnswer,
    BlobState,
    CatalogPage,
    CommitReceipt,
    EnrolRequest,
    EnrolResponse,
    ErrorBody,
    EvaluationReceipt,
    EvaluationUpload,
    Heartbeat,
    HeartbeatReply,
    Hello,
    Limits,
    StatusFeed,
)
from sync.protocol.signing import H_DEVICE, H_NONCE, H_SIGNATURE, H_TIMESTAMP
from sync.server import applications, catalog, enrolment
from sync.server.auth import RequestVerifier, SignedDevice
from sync.server.blobs import BlobFiles, BlobService
from sync.server.errors import PlatformError
from sync.server.evaluations import store_evaluation
from sync.server.gate import BODY_KEY, DEVICE_KEY, Gate, error_response
from sync.server.store import PlatformStore, utc_now

log = logging.getLogger(__name__)

MAX_SEQ: Final = 2**62  # far beyond any real cursor, and inside every database's BIGINT
SHA256_PATTERN: Final = r"^[0-9a-f]{64}$"
UUID_PATTERN: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


@dataclass(frozen=True)
class Platform:
    """What the routes share; `app.state.platform` holds it for embedders and tests."""

    platform_id: str
    limits: Limits
    store: PlatformStore
    blobs: BlobService
    verifier: RequestVerifier


def signed_device(
        request: Request,
        device: Annotated[str, Header(alias=H_DEVICE, description="注册时平台分配的设备编号")],
        timestamp: Annotated[str, Header(alias=H_TIMESTAMP, description="平台时间，自 1970 年起的毫秒数")],
        nonce: Annotated[str, Header(alias=H_NONCE, description="32 位小写十六进制，一次性")],
        signature: Annotated[str, Header(alias=H_SIGNATURE, description="Ed25519 签名的 base64")],
) -> SignedDevice:
    # The Gate has verified the headers declared above (they are declared so the API document shows them);
    # this only fails closed should a route ever be reached without it.
    signed = request.scope.get(DEVICE_KEY)
    if not isinstance(signed, SignedDevice) or signed.device_id != device:
        raise PlatformError(401, "unsigned")
    return signed


# Module level, not inside create_app: annotations are strings here, and FastAPI resolves them by module globals.
Device = Annotated[SignedDevice, Depends(signed_device)]
Since = Annotated[int, Query(ge=0, le=MAX_SEQ, description="上次取到的游标；0 表示从头开始")]
Limit = Annotated[int | None, Query(ge=1, le=1_000_000, description="每页最多条数（平台另有上限）")]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


_SIGNED_ERRORS: Final = (401, 409, 413, 422)


def _validation_refusal(exc: RequestValidationError) -> PlatformError:
    errors = list(exc.errors())
    first: dict[str, Any] = dict(errors[0]) if errors else {}
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
    kind = first.get("type", "")
    if kind == "json_invalid":
        message = "请求内容不是有效的 JSON。"
    elif not field:
        message = "请求内容缺失或格式不对（应为 JSON 对象）。"
    elif kind == "missing":
        message = f"缺少字段 {field}。"
    elif kind == "extra_forbidden":
        message = f"不认识的字段 {field}。"
    else:
        message = f"字段 {field} 的值不符合要求。"
    # Only location, kind and pydantic's text: never the input, which may be someone's personal data.
    summary = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in errors[:20]]
    return PlatformError(422, "invalid", message, {"field": field, "errors": summary})


def _http_refusal(exc: StarletteHTTPException) -> PlatformError:
    if exc.status_code == 404:
        return PlatformError(404, "not_found")
    if exc.status_code == 405:
        return PlatformError(405, "method_not_allowed")
    if exc.status_code == 400:  # FastAPI's "error parsing the body": bytes that are not UTF-8 JSON
        return PlatformError(422, "invalid", "请求内容不是有效的 JSON（须为 UTF-8 编码）。", {"field": ""})
    return PlatformError(exc.status_code, "invalid", detail={"reason": str(exc.detail)})


def create_app(db_url: str, blob_dir: Path, *, platform_id: str = "zj-reference",
               limits: Limits | None = None) -> FastAPI:
    limits = limits or Limits()
    store = PlatformStore(db_url)
    platform = Platform(platform_id=platform_id, limits=limits, store=store,
                        blobs=BlobService(store, BlobFiles(blob_dir), limits),
                        verifier=RequestVerifier(store, limits.clock_window_s))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="浙江政务服务站参考省级平台", version=str(API_VERSION), lifespan=lifespan,
                  description="乡镇（村）便民服务站与自助终端的同步接口，第 1 版。"
                              "除 hello 和 enrol 外，所有请求都须设备签名。")
    app.state.platform = platform
    app.add_middleware(Gate, verifier=platform.verifier, limits=limits)

    async def on_platform_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PlatformError)
        return error_response(exc)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(_validation_refusal(exc))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(_http_refusal(exc))

    app.add_exception_handler(PlatformError, on_platform_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    _add_routes(app, platform)
    return app


def _add_routes(app: FastAPI, platform: Platform) -> None:
    store, limits = platform.store, platform.limits

    @app.get(f"{API_PREFIX}/hello", tags=["device"])
    def hello() -> Hello:
        return Hello(service=SERVICE_NAME, api_version=API_VERSION, platform_id=platform.platform_id,
                     server_time=utc_now(), limits=limits)

    @app.post(f"{API_PREFIX}/enrol", tags=["device"], responses=_errors(403, 413, 422))
    def enrol(body: EnrolRequest) -> EnrolResponse:
        device = store.write(lambda s: enrolment.enrol(s, body))
        log.info("enrolled device %s for station %s", device.device_id, device.station_code)
        return EnrolResponse(device_id=device.device_id, station_code=device.station_code,
                             platform_id=platform.platform_id, server_time=utc_now(), limits=limits)

    @app.get(f"{API_PREFIX}/catalog", tags=["catalog"], responses=_errors(*_SIGNED_ERRORS))
    def get_catalog(device: Device, since: Since = 0, limit: Limit = None) -> CatalogPage:
        size = min(limit or limits.catalog_page, limits.catalog_page)
        return store.read(lambda s: catalog.page(s, since, size))

    @app.post(f"{API_PREFIX}/blobs/query", tags=["blobs"], responses=_errors(*_SIGNED_ERRORS))
    def query_blobs(device: Device, body: BlobQuery) -> BlobQueryAnswer:
        if len(body.hashes) > limits.max_query_hashes:
            raise PlatformError(422, "invalid", f"一次最多查询 {limits.max_query_hashes} 个材料。",
                                {"field": "hashes", "max_query_hashes": limits.max_query_hashes})
        return BlobQueryAnswer(blobs=platform.blobs.query(list(body.hashes)))

    @app.put(f"{API_PREFIX}/blobs/{{sha256}}", tags=["blobs"], responses=_errors(*_SIGNED_ERRORS),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    def put_blob(device: Device, request: Request,
                 sha256: Annotated[str, PathParam(pattern=SHA256_PATTERN, description="整个文件的 SHA-256")],
                 offset: Annotated[int, Query(ge=0, le=MAX_SEQ, description="本块在文件中的起点")],
                 size: Annotated[int, Query(ge=0, le=MAX_SEQ, description="整个文件的字节数")]) -> BlobState:
        data: bytes = request.scope[BODY_KEY]
        return platform.blobs.put_chunk(sha256, offset, size, data)

    @app.put(f"{API_PREFIX}/applications/{{client_id}}", tags=["applications"],
             responses=_errors(*_SIGNED_ERRORS, 403))
    def put_application(device: Device, client_id: Annotated[str, PathParam(pattern=UUID_PATTERN)],
                        body: ApplicationCommit) -> CommitReceipt:
        if body.client_id != client_id:
            raise PlatformError(422, "invalid", "地址中的申请编号与内容中的 client_id 不一致。",
                                {"field": "client_id"})
        return store.write(lambda s: applications.commit(s, device, body))

    @app.get(f"{API_PREFIX}/status", tags=["applications"], responses=_errors(*_SIGNED_ERRORS))
    def get_status(device: Device, since: Since = 0, limit: Limit = None) -> StatusFeed:
        size = min(limit or limits.status_page, limits.status_page)
        return store.read(lambda s: applications.status_feed(s, device.station_code, since, size))

    @app.put(f"{API_PREFIX}/evaluations/{{evaluation_id}}", tags=["evaluations"],
             responses=_errors(*_SIGNED_ERRORS))
    def put_evaluation(device: Device, evaluation_id: Annotated[str, PathParam(pattern=UUID_PATTERN)],
                       body: EvaluationUpload) -> EvaluationReceipt:
        if body.id != evaluation_id:
            raise PlatformError(422, "invalid", "地址中的评价编号与内容中的 id 不一致。", {"field": "id"})
        return store.write(lambda s: store_evaluation(s, device, body))

    @app.post(f"{API_PREFIX}/heartbeat", tags=["device"], responses=_errors(*_SIGNED_ERRORS))
    def heartbeat(device: Device, body: Heartbeat) -> HeartbeatReply:
        store.write(lambda s: enrolment.record_heartbeat(s, device.device_id, body))
        return HeartbeatReply(server_time=utc_now(), limits=limits)


def openapi_text() -> str:
    """The API document as committed in sync/protocol/openapi.json: same code, same text, byte for byte."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="zj-platform-openapi-") as folder:
        app = create_app("sqlite://", Path(folder))
        try:
            document = app.openapi()
        finally:
            app.state.platform.store.close()
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
