"""The IPP binary encoding (RFC 8010) for the one operation a station needs: Print-Job (RFC 8011 §4.2.1).

Small on purpose: a message is a header, attribute groups and data; an attribute is a value tag, a name and one
or more values. Values are kept as (tag, value) pairs so a request decodes back to exactly what was encoded,
which is how the tests check what a printer would see. Collections (RFC 8010 §3.1.6) are not taken apart: their
members come out as further values of the collection's attribute, which is enough to read a status and never
stops the decoder on a printer that sends them.

Anything a printer answers is untrusted bytes: `decode_message` raises `IppDecodeError` (and nothing else) for
every malformed input, so the caller can turn it into one plain sentence.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

# Delimiter tags (RFC 8010 §3.5.1)
OPERATION_ATTRIBUTES: Final = 0x01
JOB_ATTRIBUTES: Final = 0x02
END_OF_ATTRIBUTES: Final = 0x03
PRINTER_ATTRIBUTES: Final = 0x04
UNSUPPORTED_ATTRIBUTES: Final = 0x05

# Value tags (RFC 8010 §3.5.2)
INTEGER: Final = 0x21
BOOLEAN: Final = 0x22
ENUM: Final = 0x23
OCTET_STRING: Final = 0x30
TEXT: Final = 0x41
NAME: Final = 0x42
KEYWORD: Final = 0x44
URI: Final = 0x45
CHARSET: Final = 0x47
NATURAL_LANGUAGE: Final = 0x48
MIME_MEDIA_TYPE: Final = 0x49
_TEXT_TAGS: Final = frozenset({0x35, 0x36, TEXT, NAME, KEYWORD, URI, 0x46, CHARSET, NATURAL_LANGUAGE,
                               MIME_MEDIA_TYPE, 0x4A})
_INT_TAGS: Final = frozenset({INTEGER, ENUM})

PRINT_JOB: Final = 0x0002
VERSION_1_1: Final = (1, 1)  # every IPP printer speaks 1.1; IPP Everywhere printers speak 2.x as well

STATUS_NAMES: Final = {
    0x0000: "successful-ok",
    0x0001: "successful-ok-ignored-or-substituted-attributes",
    0x0002: "successful-ok-conflicting-attributes",
    0x0400: "client-error-bad-request",
    0x0401: "client-error-forbidden",
    0x0402: "client-error-not-authenticated",
    0x0403: "client-error-not-authorized",
    0x0404: "client-error-not-possible",
    0x0405: "client-error-timeout",
    0x0406: "client-error-not-found",
    0x0407: "client-error-gone",
    0x0408: "client-error-request-entity-too-large",
    0x0409: "client-error-request-value-too-long",
    0x040A: "client-error-document-format-not-supported",
    0x040B: "client-error-attributes-or-values-not-supported",
    0x040C: "client-error-uri-scheme-not-supported",
    0x040D: "client-error-charset-not-supported",
    0x040E: "client-error-conflicting-attributes",
    0x040F: "client-error-compression-not-supported",
    0x0410: "client-error-compression-error",
    0x0411: "client-error-document-format-error",
    0x0412: "client-error-document-access-error",
    0x0500: "server-error-internal-error",
    0x0501: "server-error-operation-not-supported",
    0x0502: "server-error-service-unavailable",
    0x0503: "server-error-version-not-supported",
    0x0504: "server-error-device-error",
    0x0505: "server-error-temporary-error",
    0x0506: "server-error-not-accepting-jobs",
    0x0507: "server-error-busy",
    0x0508: "server-error-job-canceled",
    0x0509: "server-error-multiple-document-jobs-not-supported",
}

Value = int | bool | str | bytes


class IppDecodeError(ValueError):
    """The bytes are not an IPP message; `str()` says where they stop making sense (for the log)."""


@dataclass(frozen=True)
class Attribute:
    name: str
    values: tuple[tuple[int, Value], ...]  # (value tag, value), in wire order

    @property
    def value(self) -> Value:
        return self.values[0][1]


@dataclass(frozen=True)
class Group:
    tag: int
    attributes: tuple[Attribute, ...]

    def get(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class Message:
    """A request (`code` is the operation id) or a response (`code` is the status code)."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: tuple[Group, ...]
    data: bytes = b""

    def attribute(self, name: str, group: int | None = None) -> Attribute | None:
        for g in self.groups:
            if group is None or g.tag == group:
                found = g.get(name)
                if found is not None:
                    return found
        return None

    def text(self, name: str) -> str | None:
        found = self.attribute(name)
        return found.value if found is not None and isinstance(found.value, str) else None


def attr(name: str, tag: int, *values: Value) -> Attribute:
    return Attribute(name, tuple((tag, v) for v in values))


def print_job_request(printer_uri: str, pdf: bytes, *, job_name: str, user: str, request_id: int = 1,
                      language: str = "zh-cn") -> bytes:
    """A Print-Job request for one PDF. job-name and document-format are operation attributes in Print-Job;
    the printer answers client-error-document-format-not-supported when it cannot take PDF."""
    message = Message(VERSION_1_1, PRINT_JOB, request_id, (Group(OPERATION_ATTRIBUTES, (
        attr("attributes-charset", CHARSET, "utf-8"),
        attr("attributes-natural-language", NATURAL_LANGUAGE, language),
        attr("printer-uri", URI, printer_uri),
        attr("requesting-user-name", NAME, user),
        attr("job-name", NAME, job_name),
        attr("document-format", MIME_MEDIA_TYPE, "application/pdf"),
    )),), pdf)
    return encode_message(message)


# ---------------------------------------------------------------------------------------------- encoding


def _encode_value(tag: int, value: Value) -> bytes:
    if tag in _INT_TAGS and isinstance(value, int) and not isinstance(value, bool):
        return struct.pack(">i", value)
    if tag == BOOLEAN and isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise TypeError(f"value {value!r} does not fit value tag {tag:#04x}")


def _field(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("an IPP name or value is at most 65535 bytes")
    return struct.pack(">H", len(data)) + data


def encode_message(message: Message) -> bytes:
    out = [struct.pack(">BBHi", *message.version, message.code, message.request_id)]
    for group in message.groups:
        out.append(bytes([group.tag]))
        for attribute in group.attributes:
            for n, (tag, value) in enumerate(attribute.values):
                name = attribute.name.encode("utf-8") if n == 0 else b""  # later values: "additional value"
                out.append(bytes([tag]) + _field(name) + _field(_encode_value(tag, value)))
    out.append(bytes([END_OF_ATTRIBUTES]))
    out.append(message.data)
    return b"".join(out)


# ---------------------------------------------------------------------------------------------- decoding


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise IppDecodeError(f"message ends at byte {len(self.data)}, {n} more expected at {self.at}")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def short(self) -> int:
        value: int = struct.unpack(">H", self.take(2))[0]
        return value


def _decode_value(tag: int, raw: bytes) -> Value:
    if tag in _INT_TAGS:
        if len(raw) != 4:
            raise IppDecodeError(f"integer value of {len(raw)} bytes")
        number: int = struct.unpack(">i", raw)[0]
        return number
    if tag == BOOLEAN:
        if len(raw) != 1:
            raise IppDecodeError(f"boolean value of {len(raw)} bytes")
        return raw != b"\x00"
    if tag in _TEXT_TAGS:
        return raw.decode("utf-8", errors="replace")  # a printer's odd text must not cost the status code
    return raw  # dates, resolutions, ranges, collections, out-of-band values: kept as bytes


def decode_message(data: bytes) -> Message:
    """Parse an IPP request or response; everything after end-of-attributes-tag is the document data."""
    reader = _Reader(data)
    major, minor = reader.byte(), reader.byte()
    code = reader.short()
    request_id: int = struct.unpack(">i", reader.take(4))[0]
    groups: list[Group] = []
    attributes: list[Attribute] = []
    group_tag: int | None = None
    while True:
        tag = reader.byte()
        if tag <= 0x0F:  # a delimiter: the current group ends
            if group_tag is not None:
                groups.append(Group(group_tag, tuple(attributes)))
            if tag == END_OF_ATTRIBUTES:
                break
            if tag == 0x00:
                raise IppDecodeError(f"reserved delimiter tag 0x00 at byte {reader.at - 1}")
            group_tag, attributes = tag, []
            continue
        if group_tag is None:
            raise IppDecodeError(f"value tag {tag:#04x} before any attribute group")
        name = reader.take(reader.short())
        value = _decode_value(tag, reader.take(reader.short()))
        if name:
            attributes.append(Attribute(name.decode("utf-8", errors="replace"), ((tag, value),)))
        elif attributes:
            last = attributes[-1]
            attributes[-1] = Attribute(last.name, (*last.values, (tag, value)))
        else:
            raise IppDecodeError(f"additional value without an attribute at byte {reader.at}")
    return Message((major, minor), code, request_id, tuple(groups), data[reader.at :])


def status_name(code: int) -> str:
    return STATUS_NAMES.get(code, f"status {code:#06x}")


def is_successful(code: int) -> bool:
    return 0x0000 <= code <= 0x00FF
