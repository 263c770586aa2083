"""Refusals the platform answers with: a stable machine code for the station, a plain Chinese sentence for people."""

from __future__ import annotations

from typing import Any, Final

from sync.protocol.models import ErrorBody

MESSAGES: Final[dict[str, str]] = {
    "unsigned": "请求缺少设备签名，请先完成设备注册。",
    "device_unknown": "此设备未在平台注册，请使用注册令牌重新注册。",
    "signature_invalid": "请求签名无效，请检查设备密钥或重新注册。",
    "clock_skew": "设备时间与平台时间相差过大，请按平台时间重新发送。",
    "replay": "这是一个已处理过的重复请求，已拒绝。",
    "token_invalid": "注册令牌无效、已使用或已过期，请向平台管理员申请新的令牌。",
    "too_large": "请求内容超过平台允许的大小。",
    "offset_mismatch": "上传位置与平台已收到的数据不一致，请从平台已收到的位置继续上传。",
    "size_mismatch": "材料文件的大小与之前声明的不一致。",
    "hash_mismatch": "上传的材料文件校验不一致，平台已丢弃，请重新上传。",
    "conflict": "同一编号的内容与平台已收到的不一致。",
    "wrong_station": "申请所属站点与本设备注册的站点不一致。",
    "invalid": "请求内容不符合要求。",
    "not_found": "请求的地址不存在。",
    "method_not_allowed": "请求方法不被允许。",
    "unavailable": "平台繁忙，请稍后重试。",
    "server_error": "平台内部错误，请稍后重试。",
}


class PlatformError(Exception):
    """A refusal with an HTTP status; raised anywhere below the routes and turned into an ErrorBody answer."""

    def __init__(self, status: int, error: str, message: str | None = None, detail: dict[str, Any] | None = None):
        self.status = status
        self.error = error
        self.message = message or MESSAGES.get(error, MESSAGES["invalid"])
        self.detail = detail or {}
        super().__init__(f"{error}: {self.message}")

    def body(self) -> ErrorBody:
        return ErrorBody(error=self.error, message=self.message, detail=self.detail)
