"""`PlatformClient`: one method per platform endpoint, each returning a validated protocol model.

Every answer is checked against the request it answers (same client id, same hash), so a corrupted or
misdirected answer is caught here as `BadAnswer` instead of being written into the station's records.
Clock skew is measured from the platform's `X-Server-Time` header on every answer, and requests are signed
with platform time, so a kiosk whose clock is wrong still gets its filings through.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ValidationError

from sync.client.errors import (
    BadAnswer,
    CaptivePortal,
    Conflict,
    HashMismatch,
    LinkDown,
    NotEnrolled,
    OffsetMismatch,
    Rejected,
    ServerFailed,
    WrongHost,
)
from sync.protocol.models import (
    API_PREFIX,
    SERVICE_NAME,
    ApplicationCommit,
    BlobQuery,
    BlobQueryAnswer,
    BlobState,
    CatalogPage,
    CommitReceipt,
    EnrolRequest,
    EnrolResponse,
    EvaluationReceipt,
    EvaluationUpload,
    Heartbeat,
    HeartbeatReply,
    Hello,
    StatusFeed,
)
from sync.protocol.signing import sign_request

M = TypeVar("M", bound=BaseModel)
SERVER_TIME_HEADER: Final = "X-Server-Time"
USER_AGENT: Final = "zj-service-kiosk-sync/1"


@dataclass(frozen=True)
class DeviceCredentials:
    device_id: str
    station_code: str
    private_key: Ed25519PrivateKey


class PlatformClient:
    def __init__(self, base_url: str, credentials: DeviceCredentials | None = None, *,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout = (connect_timeout, read_timeout)
        self.skew_ms: float | None = None  # platform time minus local time
        self._clock = clock
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._lock = threading.Lock()  # one request at a time: the session and the skew estimate are shared

    def close(self) -> None:
        self._session.close()

    # ---- endpoints -------------------------------------------------------------------------------------------

    def hello(self) -> Hello:
        """Who answers at this address? Raises CaptivePortal / WrongHost when it is not the platform."""
        response = self._send("GET", "/hello", signed=False)
        try:
            data = response.json()
        except ValueError:
            raise CaptivePortal(_portal_message(response), code="captive_portal") from None
        if not isinstance(data, dict) or data.get("service") != SERVICE_NAME:
            raise WrongHost(f"平台地址 {self.base_url} 上回应的不是省级政务服务平台，请检查平台地址设置。",
                            code="wrong_host")
        return _model(Hello, response)

    def enrol(self, request: EnrolRequest) -> EnrolResponse:
        return _model(EnrolResponse, self._send("POST", "/enrol", body=request, signed=False))

    def catalog_page(self, since: int, limit: int) -> CatalogPage:
        return _model(CatalogPage, self._send("GET", "/catalog", query={"since": since, "limit": limit}))

    def query_blobs(self, hashes: list[str]) -> BlobQueryAnswer:
        answer = _model(BlobQueryAnswer, self._send("POST", "/blobs/query", body=BlobQuery(hashes=hashes)))
        if {b.sha256 for b in answer.blobs} - set(hashes):
            raise BadAnswer("平台返回的材料状态与查询不符，稍后重试。", code="mismatch")
        return answer

    def upload_chunk(self, sha256: str, offset: int, size: int, chunk: bytes) -> BlobState:
        response = self._send("PUT", f"/blobs/{sha256}", query={"offset": offset, "size": size}, raw=chunk)
        state = _model(BlobState, response)
        if state.sha256 != sha256:
            raise BadAnswer("平台返回的上传进度属于另一份材料，稍后重试。", code="mismatch")
        return state

    def commit(self, commit: ApplicationCommit) -> CommitReceipt:
        receipt = _model(CommitReceipt, self._send("PUT", f"/applications/{commit.client_id}", body=commit))
        if receipt.client_id != commit.client_id or receipt.version != commit.version or not receipt.case_no:
            raise BadAnswer("平台的回执与所报申请不符，稍后重试。", code="mismatch")
        return receipt

    def status(self, since: int, limit: int) -> StatusFeed:
        feed = _model(StatusFeed, self._send("GET", "/status", query={"since": since, "limit": limit}))
        if any(e.seq <= since for e in feed.events) or feed.cursor < since:
            raise BadAnswer("平台返回的办理进度顺序不对，稍后重试。", code="mismatch")
        return feed

    def evaluation(self, upload: EvaluationUpload) -> EvaluationReceipt:
        receipt = _model(EvaluationReceipt, self._send("PUT", f"/evaluations/{upload.id}", body=upload))
        if receipt.id != upload.id:
            raise BadAnswer("平台的评价回执与所报评价不符，稍后重试。", code="mismatch")
        return receipt

    def heartbeat(self, beat: Heartbeat) -> HeartbeatReply:
        return _model(HeartbeatReply, self._send("POST", "/heartbeat", body=beat))

    # ---- transport -------------------------------------------------------------------------------------------

    def platform_time_ms(self) -> int:
        return int(self._clock() * 1000 + (self.skew_ms or 0.0))

    def _send(self, method: str, path: str, *, query: dict[str, Any] | None = None,
              body: BaseModel | None = None, raw: bytes | None = None, signed: bool = True) -> requests.Response:
        path_and_query = API_PREFIX + path + (f"?{urlencode(query)}" if query else "")
        headers: dict[str, str] = {}
        data = b""
        if body is not None:
            data = body.model_dump_json().encode()
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            data = raw
            headers["Content-Type"] = "application/octet-stream"
        with self._lock:
            if signed:
                if self.credentials is None:
                    raise NotEnrolled("本机尚未在平台登记，请技术人员先完成开通（kiosk provision）。",
                                      code="not_provisioned")
                creds = self.credentials
                headers.update(sign_request(creds.private_key, creds.device_id, method, path_and_query, data,
                                            self.platform_time_ms()).as_dict())
            sent = self._clock()
            try:
                response = self._session.request(method, self.base_url + path_and_query, data=data or None,
                                                 headers=headers, timeout=self.timeout, allow_redirects=False)
            except requests.Timeout:
                raise LinkDown("连接平台超时，网络可能很慢或已中断。", code="timeout") from None
            except requests.RequestException as exc:
                raise LinkDown(f"连不上平台（{type(exc).__name__}），网络可能已中断。", code="offline") from None
            self._note_server_time(response, sent, self._clock())
        _raise_for_status(response)
        return response

    def _note_server_time(self, response: requests.Response, sent: float, received: float) -> None:
        header = response.headers.get(SERVER_TIME_HEADER)
        if header is None or not header.isdigit():
            return
        # The platform stamped its clock somewhere between sending and receiving; the midpoint halves the error.
        self.skew_ms = int(header) - (sent + received) / 2 * 1000


def _portal_message(response: requests.Response) -> str:
    what = "登录页面" if "html" in response.headers.get("Content-Type", "") else "非平台的回应"
    return f"网络要求先登录（收到的是{what}），请联系网络管理员或在浏览器中完成上网认证。"


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    if 300 <= status < 400:
        raise CaptivePortal(_portal_message(response), code="captive_portal")
    code, message = "", ""
    detail: dict[str, Any] = {}
    try:
        data = response.json()
        if isinstance(data, dict):
            code = str(data.get("error", ""))
            message = str(data.get("message", ""))
            if isinstance(data.get("detail"), dict):
                detail = data["detail"]
    except ValueError:
        pass
    if status >= 500:
        raise ServerFailed(message or f"平台暂时出错（{status}），稍后会自动重试。", code=code or "server_error",
                           detail=detail)
    if not code:  # a 4xx that is not the platform's error format: something else answers at this address
        if "html" in response.headers.get("Content-Type", ""):
            raise CaptivePortal(_portal_message(response), code="captive_portal")
        raise WrongHost(f"平台地址上回应的不是省级政务服务平台（HTTP {status}），请检查平台地址。", code="wrong_host")
    if code in ("device_unknown", "signature_invalid", "unsigned"):
        raise NotEnrolled(f"平台不认可本机的身份（{message}），请技术人员重新开通。", code=code, detail=detail)
    if code == "offset_mismatch":
        received = detail.get("received")
        raise OffsetMismatch(message or "上传位置与平台不一致。", received if isinstance(received, int) else 0)
    if code == "hash_mismatch":
        raise HashMismatch(message or "平台收到的材料与原件校验不符，将重新上传。", code=code, detail=detail)
    if code in ("clock_skew", "replay"):  # transient by nature: re-measure the clock, sign afresh
        raise ServerFailed(message or "请求时间与平台不一致，将校准后重试。", code=code, detail=detail)
    if status == 409:
        raise Conflict(message or "平台上已有该事项的不同版本。", code=code, detail=detail)
    raise Rejected(message or f"平台拒收（HTTP {status}）。", code=code, detail=detail)


def _model(model: type[M], response: requests.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        try:
            json.loads(response.content)
        except ValueError:
            raise BadAnswer("平台的回应已损坏（不是有效的 JSON），稍后重试。", code="corrupt") from None
        raise BadAnswer("平台的回应缺少必要内容，稍后重试。", code="incomplete") from None
