"""The 受理回执 and the printer test page as print documents: the one layout source for paper and preview.

A receipt is a promise to a villager who may keep it in a drawer for a month, so it says plainly what was
filed, what is still owed (容缺), when to expect the result and how to ask. It never carries the full name or
the ID number: a slip left on the counter must not identify anyone.

Lines are pre-wrapped here with a hanging indent under their label ("事项：" ...) for the profile's width, so
every later `layout_lines()` (encoder and preview alike) finds lines that already fit and breaks nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Final
from urllib.parse import quote

from devices.printing.document import (
    Align,
    Cut,
    Feed,
    PrintDocument,
    PrinterProfile,
    PrintOp,
    QRCode,
    Rule,
    TextLine,
)
from devices.printing.printable import printed_width
from kiosk_app.identity.masking import mask_name

TITLE: Final = "受理回执"
QR_MODULE_DOTS: Final = 6  # about 0.75 mm per module at 203 dpi: reads well with an old phone camera
CHANNEL_LABELS: Final = {"kiosk": "自助终端", "agent": "代办员代办", "cli": "窗口受理"}
MATERIAL_MARKS: Final = {
    "file": "已收",
    "scan": "已收",
    "elicence": "电子证照",
    "reuse": "已有材料复用",
    "deferred": "容缺待补",
}
NO_LINE_START: Final = frozenset("，。、；：？！）】》」』”’%")
NO_LINE_END: Final = frozenset("（【《「『“‘")
PUNCTUATION_LINE: Final = "，。、；：？！"  # printers whose fonts lack CJK punctuation print '?' here


@dataclass(frozen=True)
class ReceiptSettings:
    """The settings a receipt prints: `station.name`, `station.code`, `receipt.query_url`, `receipt.hotline`."""

    station_name: str
    station_code: str
    query_url: str = ""
    hotline: str = "12345"

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ReceiptSettings:
        return cls(station_name=str(values["station.name"]), station_code=str(values["station.code"]),
                   query_url=str(values.get("receipt.query_url") or ""),
                   hotline=str(values.get("receipt.hotline") or ""))


def qr_payload(tracking_no: str, query_url: str = "") -> str:
    """The tracking number alone, or the progress-query address carrying it when one is configured."""
    if not query_url:
        return tracking_no
    separator = "&" if "?" in query_url else "?"
    return f"{query_url}{separator}no={quote(tracking_no, safe='-')}"


def local_time_text(moment: datetime, tz: tzinfo | None = None) -> str:
    """Minutes are enough on paper; the station's local time because that is what the villager's watch says."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def receipt_document(
    detail: Mapping[str, Any],
    settings: ReceiptSettings,
    *,
    reprint_at: datetime | None = None,
    agent_name: str | None = None,
    promised_limit_days: int | None = None,
    profile: PrinterProfile | None = None,
    tz: tzinfo | None = None,
) -> PrintDocument:
    """The receipt for one filed application (`application_detail(...)` output, masked or not)."""
    columns = (profile or PrinterProfile()).columns
    tracking_no = str(detail["tracking_no"])
    ops: list[PrintOp] = [*_header(settings)]
    ops.append(TextLine(TITLE if reprint_at is None else f"{TITLE}（补打）", Align.CENTER, bold=True, scale=2))
    if reprint_at is not None:
        ops.append(TextLine(f"补打时间：{local_time_text(reprint_at, tz)}", Align.CENTER, bold=True))
        ops.append(TextLine("本回执为补打件，与原回执内容一致", Align.CENTER))
    ops.append(Rule("="))

    ops.append(_field("事项：", str(detail["item_name"]), columns, bold=True))
    ops.append(TextLine("受理编号："))
    ops.extend(TextLine(part, Align.CENTER, bold=True, scale=2) for part in _split_tracking(tracking_no, columns))
    ops.append(Rule())

    applicant = detail.get("applicant") or {}
    ops.append(_field("申请人：", mask_name(str(applicant.get("name") or "")) or "未登记", columns))
    channel = str(detail.get("channel") or "")
    ops.append(_field("办理方式：", CHANNEL_LABELS.get(channel, channel or "未登记"), columns))
    if channel == "agent" and agent_name:
        ops.append(_field("代办员：", agent_name, columns))
    submitted_at = detail.get("submitted_at")
    if submitted_at:
        ops.append(_field("受理时间：", local_time_text(datetime.fromisoformat(str(submitted_at)), tz), columns))
    if promised_limit_days is not None:
        limit = "当场办结" if promised_limit_days == 0 else f"{promised_limit_days}个工作日"
        ops.append(_field("承诺时限：", limit, columns))
    ops.append(_field("预计办结：", str(detail.get("promised_date") or "以审批部门通知为准"), columns))
    ops.append(_field("送达方式：", str(detail.get("delivery_method") or "未选择"), columns))
    ops.append(Rule())

    ops.extend(_materials(detail.get("materials") or [], columns))
    if detail.get("state") == "submitted":
        ops.append(Rule())
        ops.append(TextLine(_hang("【待同步】", "本件已在本站保存，网络恢复后自动上报，无需再跑一次。", columns),
                            bold=True))
    ops.append(Rule())

    ops.append(Feed(1))
    ops.append(QRCode(qr_payload(tracking_no, settings.query_url), module_size=QR_MODULE_DOTS))
    ops.append(TextLine("扫码或凭受理编号查询办理进度", Align.CENTER))
    if settings.hotline:
        ops.append(TextLine(f"咨询电话：{settings.hotline}", Align.CENTER, bold=True))
    ops.append(Rule())
    ops.append(TextLine(_hang("", "请妥善保管本回执，领取时出示。", columns)))
    ops.append(Feed(3))
    ops.append(Cut())
    return PrintDocument(title=f"{TITLE} {tracking_no}" + ("（补打）" if reprint_at else ""), ops=tuple(ops))


def test_page_document(
    station_name: str, *, profile: PrinterProfile | None = None, now: datetime | None = None
) -> PrintDocument:
    """What a technician prints to prove the printer: Chinese in both weights, CJK punctuation on its own
    (the line that comes out as '?' from encoders that send punctuation as plain GB18030), ASCII, a QR code
    and the cutter. Every line fits 58 mm paper unwrapped, so a broken line means a misconfigured width."""
    chosen = profile or PrinterProfile()
    stamp = local_time_text(now or datetime.now().astimezone())
    ops: list[PrintOp] = [
        TextLine(station_name, Align.CENTER, bold=True),
        TextLine("打印机测试页", Align.CENTER, bold=True, scale=2),
        Rule("="),
        TextLine("中文：受理回执、办事指南。"),
        TextLine("粗体：最多跑一次，就近能办。", bold=True),
        TextLine(PUNCTUATION_LINE),
        TextLine("ASCII: 0123456789 ABC xyz"),
        TextLine("混排：编号 A-0001，第2页"),
        TextLine("大字 2x", Align.CENTER, scale=2),
        TextLine("居右对齐", Align.RIGHT),
        Rule(),
        TextLine(f"纸宽：{chosen.paper_mm} mm，每行 {chosen.columns} 个半角字符", Align.LEFT),
        TextLine(f"打印时间：{stamp}"),
        Rule(),
        QRCode("打印机测试页 / printer test page", module_size=QR_MODULE_DOTS),
        TextLine("二维码能扫出、中文无乱码，", Align.CENTER),
        TextLine("纸已切开，即为正常。", Align.CENTER),
        Feed(3),
        Cut(),
    ]
    return PrintDocument(title="打印机测试页", ops=tuple(ops))


def _header(settings: ReceiptSettings) -> Iterable[PrintOp]:
    yield TextLine(settings.station_name, Align.CENTER, bold=True)
    yield TextLine(f"站点代码：{settings.station_code}", Align.CENTER)


def _materials(materials: Iterable[Mapping[str, Any]], columns: int) -> Iterable[PrintOp]:
    rows = list(materials)
    yield TextLine("已收材料：" if rows else "已收材料：无", bold=True)
    for n, material in enumerate(rows, start=1):
        mark = MATERIAL_MARKS.get(str(material.get("source")), str(material.get("source")))
        yield TextLine(_hang_with_mark(f"{n:>2}. ", str(material.get("name")), f"【{mark}】", columns))
    deferred = sum(1 for m in rows if m.get("source") == "deferred")
    if deferred:
        yield TextLine(_hang("", f"容缺受理：以上标有【容缺待补】的{deferred}项材料，"
                                 "请在承诺时限内补交到本站或代办员处。", columns), bold=True)
    if any(m.get("source") == "elicence" for m in rows):
        yield TextLine(_hang("", "标有【电子证照】的材料由系统调取，免交纸质件。", columns))


def _field(label: str, value: str, columns: int, *, bold: bool = False) -> TextLine:
    return TextLine(_hang(label, value, columns), bold=bold)


def _hang(label: str, value: str, columns: int) -> str:
    """`label` then `value` wrapped under itself, e.g. a long item name continuing below its first character.
    Too long a label on narrow paper falls back to a two-cell indent so the value keeps some room."""
    value = " ".join(value.splitlines())  # catalogue text is not trusted to be one paragraph
    indent = printed_width(label)
    if indent <= columns // 2:
        first, *rest = _wrap_cjk(value, columns - indent)
        return "\n".join([label + first, *(" " * indent + line for line in rest)])
    first = _wrap_cjk(label + value, columns)[0]
    remainder = (label + value)[len(first):]
    return "\n".join([first, *("  " + line for line in _wrap_cjk(remainder, columns - 2))]) if remainder else first


def _hang_with_mark(label: str, value: str, mark: str, columns: int) -> str:
    """Like `_hang`, but `mark` ("【容缺待补】") is never split: it goes on the value's last line when it fits,
    else on a line of its own under the value."""
    lines = _hang(label, value, columns).split("\n")
    if printed_width(lines[-1] + mark) <= columns:
        lines[-1] += mark
    else:
        indent = len(lines[-1]) - len(lines[-1].lstrip(" ")) if len(lines) > 1 else printed_width(label)
        lines.append(" " * min(indent, columns // 2) + mark)
    return "\n".join(lines)


def _wrap_cjk(text: str, columns: int) -> list[str]:
    """Break by printed width (what `layout_lines` measures, so the encoder breaks nothing further) with the
    basic Chinese line-breaking rule: no closing punctuation at the start of a line, no opening bracket at its
    end; the character before is carried down instead."""
    lines: list[str] = []
    line, width = "", 0
    for ch in text:
        w = printed_width(ch)
        if width + w > columns and line:
            cut = _break_at(line, ch, columns - w)
            lines.append(line[:cut])
            line = line[cut:]
            width = printed_width(line)
        line += ch
        width += w
    lines.append(line)
    return lines


def _break_at(line: str, following: str, room: int) -> int:
    """Where to end a full `line` when `following` does not fit: at its end, or a few characters earlier so
    neither rule is broken, as long as what moves down still fits beside `following` (`room` columns)."""
    cut = len(line)
    while cut > 1 and ((line[cut:] or following)[0] in NO_LINE_START or line[cut - 1] in NO_LINE_END):
        cut -= 1
    return cut if printed_width(line[cut:]) <= room else len(line)


def _split_tracking(tracking_no: str, columns: int) -> list[str]:
    """Break a double-size tracking number only at its hyphens, so a 58 mm slip shows station / date-serial
    on two lines instead of splitting a digit run where the printer happens to run out of room."""
    room = max(columns // 2, 1)
    parts: list[str] = []
    current = ""
    for piece in tracking_no.split("-"):
        candidate = f"{current}-{piece}" if current else piece
        if current and printed_width(candidate) > room:
            parts.append(current + "-")
            current = piece
        else:
            current = candidate
    parts.append(current)
    return parts
