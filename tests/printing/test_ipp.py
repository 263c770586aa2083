"""IPP Print-Job against a real HTTP server on 127.0.0.1 that decodes each request and answers like a printer:
the request's exact bytes, the attributes a printer reads, plain words for every refusal, and no crash on any
answer, however broken."""

from __future__ import annotations

import contextlib
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.printing import ipp
from devices.printing.a4_output import A4OutputError, IppOutput, create_a4_output

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
JOB = "331123001-20261125-0007 申请表"


class FakePrinter(ThreadingHTTPServer):
    """An IPP printer's HTTP side: records decoded requests, answers with `status` (or `raw`, or `http_status`)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), PrintJobHandler)
        self.requests: list[ipp.Message] = []
        self.paths: list[str] = []
        self.content_types: list[str] = []
        self.status = 0x0000
        self.status_message = ""
        self.raw: bytes | None = None  # an answer body sent as it is
        self.http_status = 200
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ipp://127.0.0.1:{self.server_address[1]}/ipp/print"


class PrintJobHandler(BaseHTTPRequestHandler):
    server: FakePrinter

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        printer = self.server
        printer.paths.append(self.path)
        printer.content_types.append(self.headers["Content-Type"])
        request = ipp.decode_message(body)
        printer.requests.append(request)
        if printer.raw is not None:
            answer = printer.raw
        else:
            operation = [ipp.attr("attributes-charset", ipp.CHARSET, "utf-8"),
                         ipp.attr("attributes-natural-language", ipp.NATURAL_LANGUAGE, "en")]
            if printer.status_message:
                operation.append(ipp.attr("status-message", ipp.TEXT, printer.status_message))
            groups = [ipp.Group(ipp.OPERATION_ATTRIBUTES, tuple(operation))]
            if ipp.is_successful(printer.status):
                groups.append(ipp.Group(ipp.JOB_ATTRIBUTES, (
                    ipp.attr("job-id", ipp.INTEGER, 42),
                    ipp.attr("job-state", ipp.ENUM, 3),  # pending
                    ipp.attr("job-state-reasons", ipp.KEYWORD, "job-incoming", "job-data-insufficient"))))
            answer = ipp.encode_message(ipp.Message((1, 1), printer.status, request.request_id, tuple(groups)))
        self.send_response(printer.http_status)
        self.send_header("Content-Type", "application/ipp")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # keeps the test output quiet
        return


@pytest.fixture(scope="module")
def printer() -> Iterator[FakePrinter]:
    server = FakePrinter()
    server.thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh(printer: FakePrinter) -> None:
    printer.requests.clear()
    printer.status, printer.status_message, printer.raw, printer.http_status = 0x0000, "", None, 200


def test_print_job_carries_the_pdf_and_the_attributes_a_printer_reads(printer: FakePrinter) -> None:
    output = create_a4_output(printer.url, user="wangli")
    assert isinstance(output, IppOutput)
    output.send(PDF, JOB)
    (request,) = printer.requests
    assert printer.paths == ["/ipp/print"] and printer.content_types == ["application/ipp"]
    assert request.version == (1, 1) and request.code == 0x0002 and request.request_id > 0
    (group,) = request.groups
    assert group.tag == ipp.OPERATION_ATTRIBUTES
    # RFC 8011 §4.1.4: charset first, natural language second, then the target
    assert [a.name for a in group.attributes] == ["attributes-charset", "attributes-natural-language",
                                                  "printer-uri", "requesting-user-name", "job-name",
                                                  "document-format"]
    values = {a.name: a.values for a in group.attributes}
    assert values["attributes-charset"] == ((ipp.CHARSET, "utf-8"),)
    assert values["printer-uri"] == ((ipp.URI, printer.url),)
    assert values["requesting-user-name"] == ((ipp.NAME, "wangli"),)
    assert values["job-name"] == ((ipp.NAME, JOB),)
    assert values["document-format"] == ((ipp.MIME_MEDIA_TYPE, "application/pdf"),)
    assert request.data == PDF


def test_the_request_bytes_follow_rfc_8010() -> None:
    data = ipp.print_job_request("ipp://p/ipp/print", b"%PDF", job_name="j", user="u", request_id=7)
    expected = (b"\x01\x01" + b"\x00\x02" + b"\x00\x00\x00\x07" + b"\x01"
                + b"\x47\x00\x12attributes-charset\x00\x05utf-8"
                + b"\x48\x00\x1battributes-natural-language\x00\x05zh-cn"
                + b"\x45\x00\x0bprinter-uri\x00\x11ipp://p/ipp/print"
                + b"\x42\x00\x14requesting-user-name\x00\x01u"
                + b"\x42\x00\x08job-name\x00\x01j"
                + b"\x49\x00\x0fdocument-format\x00\x0fapplication/pdf"
                + b"\x03" + b"%PDF")
    assert data == expected


def test_a_successful_answer_with_substituted_attributes_is_still_success(printer: FakePrinter) -> None:
    printer.status = 0x0001  # successful-ok-ignored-or-substituted-attributes
    create_a4_output(printer.url).send(PDF, JOB)


@pytest.mark.parametrize(("status", "words"), [
    (0x040A, "不能直接打印 PDF"),
    (0x0507, "打印机正忙"),
    (0x0506, "暂停接收"),
    (0x0504, "卡纸、缺纸或缺粉"),
    (0x0406, "没有这个打印队列"),
    (0x0400, "拒绝了这个打印任务"),
    (0x0500, "打印机出错"),
])
def test_refusals_are_said_in_plain_words(printer: FakePrinter, status: int, words: str) -> None:
    printer.status, printer.status_message = status, "said by the printer"
    with pytest.raises(A4OutputError) as err:
        create_a4_output(printer.url).send(PDF, JOB)
    assert words in err.value.message
    assert ipp.status_name(status) in err.value.detail and "said by the printer" in err.value.detail


def test_http_errors_and_a_dead_port_are_plain_too(printer: FakePrinter) -> None:
    printer.http_status = 404
    with pytest.raises(A4OutputError, match="没有这个打印地址"):
        create_a4_output(printer.url).send(PDF, JOB)
    printer.http_status = 500
    with pytest.raises(A4OutputError, match="HTTP 500"):
        create_a4_output(printer.url).send(PDF, JOB)
    with pytest.raises(A4OutputError, match="拒绝连接"):
        create_a4_output("ipp://127.0.0.1:1/ipp/print").send(PDF, JOB)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=st.binary(max_size=200))
def test_any_answer_bytes_give_a_plain_error_or_a_status_never_a_crash(printer: FakePrinter,
                                                                        answer: bytes) -> None:
    printer.raw = answer
    try:
        create_a4_output(printer.url).send(PDF, JOB)
    except A4OutputError as exc:
        assert exc.message and "打印" in exc.message
    else:  # random bytes that happen to parse with a successful status: then it is a success
        assert ipp.is_successful(ipp.decode_message(answer).code)


@settings(max_examples=500)
@given(data=st.binary(max_size=300))
def test_the_decoder_raises_only_its_own_error(data: bytes) -> None:
    with contextlib.suppress(ipp.IppDecodeError):
        ipp.decode_message(data)


_TEXT = st.text(max_size=20)
_VALUES = st.one_of(
    st.tuples(st.sampled_from([ipp.INTEGER, ipp.ENUM]), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(ipp.BOOLEAN), st.booleans()),
    st.tuples(st.sampled_from([ipp.TEXT, ipp.NAME, ipp.KEYWORD, ipp.URI, ipp.CHARSET, ipp.MIME_MEDIA_TYPE]), _TEXT),
    st.tuples(st.just(ipp.OCTET_STRING), st.binary(max_size=20)),
)
_ATTRIBUTES = st.builds(lambda name, values: ipp.Attribute(name, tuple(values)),
                        st.text(min_size=1, max_size=20), st.lists(_VALUES, min_size=1, max_size=3))
_GROUPS = st.builds(lambda tag, attrs: ipp.Group(tag, tuple(attrs)),
                    st.sampled_from([ipp.OPERATION_ATTRIBUTES, ipp.JOB_ATTRIBUTES, ipp.PRINTER_ATTRIBUTES]),
                    st.lists(_ATTRIBUTES, max_size=4))


@given(groups=st.lists(_GROUPS, max_size=3), code=st.integers(0, 0xFFFF), request_id=st.integers(1, 2**31 - 1),
       data=st.binary(max_size=40))
def test_messages_round_trip(groups: list[ipp.Group], code: int, request_id: int, data: bytes) -> None:
    message = ipp.Message((1, 1), code, request_id, tuple(groups), data)
    assert ipp.decode_message(ipp.encode_message(message)) == message


def test_collections_and_truncation_do_not_stop_the_decoder() -> None:
    head = struct.pack(">BBHi", 2, 0, 0x0000, 1) + b"\x04"
    collection = (b"\x34\x00\x0fmedia-col-ready\x00\x00" + b"\x4a\x00\x00\x00\x0amedia-size"
                  + b"\x37\x00\x00\x00\x00")
    message = ipp.decode_message(head + collection + b"\x03")
    attribute = message.attribute("media-col-ready")
    assert attribute is not None and len(attribute.values) == 3
    with pytest.raises(ipp.IppDecodeError):
        ipp.decode_message(head + collection[:-3])
