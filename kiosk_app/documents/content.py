"""What the A4 papers say: the application form (申请表), the proxy authorisation letter (委托书) and the material
checklist (材料清单), as frozen content models with no Qt in sight.

The builders turn `application_detail(...)` and the catalogue's `ItemView` into an `A4Document`; `ui.documents`
lays it out on paper. Keeping the wording here means the CLI, tests and a future HTML preview all print the
same words, and the layer rule (only `ui/` imports Qt) holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from kiosk_app.catalog.library import FieldView, ItemView, MaterialView
from kiosk_app.identity.masking import mask_id_number

if TYPE_CHECKING:
    from kiosk_app.station import Station

__all__ = [
    "CREDIBILITY_LABELS",
    "PROVISION_LABELS",
    "A4Document",
    "Section",
    "SignatureLine",
    "StationInfo",
    "Table",
    "application_form",
    "authorisation_letter",
    "material_checklist",
]

# ---------------------------------------------------------------------------------------------- content model


@dataclass(frozen=True)
class Table:
    """A bordered table with a header row; the renderer repeats the header on every page it spans."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    column_widths: tuple[int, ...] = ()  # percent of the text width; empty lets the layout decide

    def __post_init__(self) -> None:
        # A short row would shift every later cell into the wrong column on paper: refuse it here.
        bad = [n for n, row in enumerate(self.rows) if len(row) != len(self.headers)]
        if bad:
            raise ValueError(f"table rows {bad} do not have {len(self.headers)} cells")
        if self.column_widths and len(self.column_widths) != len(self.headers):
            raise ValueError("column_widths must give one width per column")


@dataclass(frozen=True)
class Section:
    """One block of the page: a heading, then label/value rows, paragraphs, a table and small notes."""

    heading: str  # "" for a block without a heading (the body text of a letter)
    rows: tuple[tuple[str, str], ...] = ()  # (label, value): printed as a bordered form grid
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    notes: tuple[str, ...] = ()  # small print after the table (legends, explanations)
    boxed: bool = False  # a notice the reader must not miss (容缺 deadline): drawn inside a frame


@dataclass(frozen=True)
class SignatureLine:
    """A blank to sign on: '委托人（签字或按手印）：______  日期：____年__月__日'."""

    role: str
    with_date: bool = True


@dataclass(frozen=True)
class A4Document:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    signature_lines: tuple[SignatureLine, ...]
    footer: str
    reference: str = ""  # top-right corner (受理编号), so a paper found on a desk leads back to its case


@dataclass(frozen=True)
class StationInfo:
    """The station as printed: its name and division code."""

    name: str
    code: str

    @classmethod
    def of(cls, station: Station) -> StationInfo:
        return cls(name=str(station.settings.get("station.name")), code=str(station.settings.get("station.code")))


# The composition root or just its printed facts; tests and previews pass a StationInfo without a database.
StationLike: TypeAlias = "StationInfo | Station"

# ---------------------------------------------------------------------------------------------- wording

CREDIBILITY_LABELS: Final = {
    "A": "A类：由行政机关核发的证照、批文",
    "B": "B类：经办人员核验原件后留存",
    "C": "C类：申请人提供，窗口核验原件",
    "D": "D类：申请人自行制作并承诺真实",
}
PROVISION_LABELS: Final = {
    "file": "已扫描提交",
    "elicence": "电子证照免交",
    "deferred": "容缺待补",
}
NOT_PROVIDED: Final = "未提交"
EMPTY_VALUE: Final = "（未填写）"
# Zhejiang stations give five working days to supplement a 容缺 material unless the item says otherwise.
DEFAULT_SUPPLEMENT_DAYS: Final = 5

_CARD_TYPES: Final = {
    "resident": "居民身份证",
    "hkmotw_permit": "港澳台居民居住证",
    "foreign_permanent": "外国人永久居留身份证",
    "social_security": "社会保障卡",
    "manual": "身份证件",
}
_CHANNELS: Final = {"kiosk": "自助终端", "agent": "代办员代办", "cli": "窗口受理"}
# Applicant facts printed in the applicant block when no form field already carries them.
_IDENTITY_ROWS: Final = (
    ("name", "姓名"),
    ("sex", "性别"),
    ("nation", "民族"),
    ("birth_date", "出生日期"),
    ("id_number", "证件号码"),
    ("address", "住址"),
    ("phone", "联系电话"),
)
_CHINESE_ORDINALS: Final = "一二三四五六七八九十"


# ---------------------------------------------------------------------------------------------- builders


def application_form(
    station: StationLike, detail: Mapping[str, Any], item: ItemView, *, printed_at: datetime | None = None
) -> A4Document:
    """申请表 for the applicant to check and sign: clear values, so build it from `application_detail(...,
    unmask=True)`. Every form field appears once, with its label and the value filed, in words."""
    _require_clear_values(detail, "application_form")
    info = _station_info(station)
    applicant = dict(detail.get("applicant") or {})
    form: Mapping[str, Any] = detail.get("form") or {}
    fields = {f.key: f for f in item.form_fields}

    # Card-filled fields describe the applicant; the rest are what the applicant asks for.
    applicant_fields = [f for f in item.form_fields if f.prefill]
    request_fields = [f for f in item.form_fields if not f.prefill]
    covered = {f.prefill for f in applicant_fields}
    applicant_rows = [(f.label, _field_value(f, form.get(f.key))) for f in applicant_fields]
    applicant_rows += [(label, _identity_value(key, applicant.get(key)))
                       for key, label in _IDENTITY_ROWS if key not in covered and applicant.get(key)]
    applicant_rows.insert(0, ("证件类型", _CARD_TYPES.get(str(applicant.get("card_type")), "身份证件")))
    # Values filed under keys the current catalogue no longer defines still belong to this case: print them.
    extra_rows = [(key, _field_value(None, value)) for key, value in form.items() if key not in fields]
    request_rows = [(f.label, _field_value(f, form.get(f.key))) for f in request_fields] + extra_rows

    case_rows = [
        ("事项名称", str(detail.get("item_name") or item.name)),
        ("事项编码", str(detail.get("item_code") or item.code)),
        ("受理编号", str(detail.get("tracking_no", ""))),
        ("实施部门", item.department),
        ("受理站点", info.name),
        ("受理方式", _CHANNELS.get(str(detail.get("channel")), str(detail.get("channel") or ""))),
        ("提交时间", _datetime_words(detail.get("submitted_at"))),
        ("承诺办结", _date_words(detail.get("promised_date")) or f"{item.promised_limit_days}个工作日"),
        ("送达方式", str(detail.get("delivery_method") or "、".join(item.delivery))),
    ]
    sections = [
        Section("事项信息", rows=tuple(case_rows)),
        Section("申请人信息", rows=tuple(applicant_rows)),
    ]
    if request_rows:
        sections.append(Section("申请内容", rows=tuple(request_rows)))
    sections.append(Section("申请人承诺", paragraphs=(
        "本人承诺：以上填报内容及所提交的申请材料真实、准确、完整，如有虚假，本人愿承担相应的法律责任。"
        "本人同意审批部门依法核查与本申请有关的信息。",
    )))
    signatures = [SignatureLine("申请人（签字或按手印）")]
    if detail.get("channel") == "agent":
        signatures.append(SignatureLine("代办员（签字）"))
    signatures.append(SignatureLine("受理人（签字）"))
    return A4Document(
        title=_form_title(item.name),
        subtitle=info.name,
        sections=_numbered(sections),
        signature_lines=tuple(signatures),
        footer=_footer(info, printed_at),
        reference=f"受理编号：{detail.get('tracking_no', '')}",
    )


def authorisation_letter(
    station: StationLike,
    detail: Mapping[str, Any],
    agent_name: str,
    agent_id_number: str | None = None,
    *,
    agent_phone: str | None = None,
    printed_at: datetime | None = None,
) -> A4Document:
    """委托书: the applicant (委托人) authorises the station's proxy agent (受托人) to file this one item.

    The applicant's number prints in full (the letter is signed and kept in the case file); the agent's number
    is always masked, because the villager takes a copy home."""
    _require_clear_values(detail, "authorisation_letter")
    info = _station_info(station)
    applicant = dict(detail.get("applicant") or {})
    name = str(applicant.get("name") or "")
    item_name = str(detail.get("item_name") or "")
    principal_rows = [
        ("姓名", name),
        ("证件类型", _CARD_TYPES.get(str(applicant.get("card_type")), "身份证件")),
        ("证件号码", str(applicant.get("id_number") or "")),
        ("住址", str(applicant.get("address") or "")),
        ("联系电话", str(applicant.get("phone") or "")),
    ]
    agent_rows = [
        ("姓名", agent_name.strip()),
        ("证件号码", mask_id_number(agent_id_number) if agent_id_number else ""),
        ("工作单位", info.name),
        ("身份", "代办员"),
    ]
    if agent_phone:
        agent_rows.append(("联系电话", agent_phone.strip()))
    matter_rows = [
        ("委托事项", item_name),
        ("事项编码", str(detail.get("item_code") or "")),
        ("受理编号", str(detail.get("tracking_no") or "")),
    ]
    body = (
        f"委托人{name}因本人不便亲自前往办理，现自愿委托{info.name}代办员{agent_name.strip()}"
        f"为受托人，代为办理“{item_name}”事项。",
        "委托权限：（一）代为填写、签收并提交申请表格，办理申请手续；（二）代为提交申请材料，接收补正通知并"
        "代为补交材料；（三）代为领取办理结果（证照、批文、决定书等），并及时转交委托人。",
        "委托期限：自本委托书签署之日起，至本事项办结、办理结果交付委托人之日止。",
        "受托人在上述权限范围内办理的事务，委托人均予以认可，并承担相应的法律责任。受托人无转委托权。",
        "委托人承诺所提供的信息和材料真实、合法、有效。受托人应如实代办，妥善保管委托人的证件和材料，"
        "不得泄露委托人的个人信息，不得以任何名义收取费用。",
        "本委托书一式两份，委托人、代办站点各执一份。",
    )
    return A4Document(
        title="授权委托书",
        subtitle=f"{info.name}　代办服务",
        sections=(
            Section("委托人", rows=tuple(principal_rows)),
            Section("受托人", rows=tuple(agent_rows)),
            Section("委托事项", rows=tuple(matter_rows)),
            Section("", paragraphs=body),
        ),
        signature_lines=(SignatureLine("委托人（签字或按手印）"), SignatureLine("受托人（签字或按手印）")),
        footer=_footer(info, printed_at),
        reference=f"受理编号：{detail.get('tracking_no', '')}",
    )


def material_checklist(
    station: StationLike,
    detail: Mapping[str, Any],
    item: ItemView,
    *,
    supplement_days: int = DEFAULT_SUPPLEMENT_DAYS,
    printed_at: datetime | None = None,
) -> A4Document:
    """材料清单: every material of the item, how it reached the station, and what is still owed (容缺)."""
    info = _station_info(station)
    provided: dict[str, Mapping[str, Any]] = {str(m.get("code")): m for m in detail.get("materials") or ()}
    rows: list[tuple[str, ...]] = []
    deferred: list[str] = []
    known = {m.code for m in item.materials}
    for n, material in enumerate(item.materials, start=1):
        source = provided.get(material.code, {}).get("source")
        how = PROVISION_LABELS.get(str(source), str(source)) if source else NOT_PROVIDED
        if source == "deferred":
            deferred.append(material.name)
        rows.append(_material_row(n, material, how))
    # Materials the case holds but the current catalogue dropped still went across the counter: list them.
    for extra in (m for code, m in provided.items() if code not in known):
        how = PROVISION_LABELS.get(str(extra.get("source")), str(extra.get("source") or NOT_PROVIDED))
        if extra.get("source") == "deferred":
            deferred.append(str(extra.get("name")))
        rows.append((str(len(rows) + 1), str(extra.get("name") or extra.get("code")), "—", "—", "—", how, "—"))

    applicant = dict(detail.get("applicant") or {})
    case_rows = (
        ("事项名称", str(detail.get("item_name") or item.name)),
        ("受理编号", str(detail.get("tracking_no") or "")),
        ("申请人", str(applicant.get("name") or "")),
        ("证件号码", str(applicant.get("id_number") or "")),
    )
    used = sorted({m.credibility for m in item.materials if m.credibility in CREDIBILITY_LABELS})
    notes = ["可信等级：" + "；".join(CREDIBILITY_LABELS[c] for c in used) + "。"] if used else []
    if any(r[5] == PROVISION_LABELS["elicence"] for r in rows):
        notes.append("“电子证照免交”的材料由审批部门通过电子证照库调取，无需提交纸质材料。")
    sections = [
        Section("办件信息", rows=case_rows),
        Section("材料明细", table=Table(
            headers=("序号", "材料名称", "形式", "份数", "必需", "提交情况", "可信等级"),
            rows=tuple(rows),
            column_widths=(7, 41, 10, 7, 7, 17, 11),
        ), notes=tuple(notes)),
    ]
    if deferred:
        sections.append(Section("容缺受理告知", boxed=True, paragraphs=(
            f"本件按容缺受理。以下材料暂缺：{'、'.join(deferred)}。",
            f"请于收到补正通知之日起{_count_words(supplement_days)}个工作日内补齐上述材料（可交本站点或代办员）；"
            "逾期未补齐的，审批部门将依法作出不予受理或不予许可的决定。",
        )))
    return A4Document(
        title="申请材料接收清单",
        subtitle=info.name,
        sections=_numbered(sections),
        signature_lines=(SignatureLine("申请人（签字或按手印）"), SignatureLine("收件人（签字）")),
        footer=_footer(info, printed_at),
        reference=f"受理编号：{detail.get('tracking_no', '')}",
    )


# ---------------------------------------------------------------------------------------------- formatting


def _require_clear_values(detail: Mapping[str, Any], builder: str) -> None:
    # A signed paper with "雷**" and "***" on it is worthless; this is a caller's mistake, not a person's.
    form = detail.get("form") or {}
    masked_form = bool(form) and all(value == "***" for value in form.values())
    if masked_form or "*" in str((detail.get("applicant") or {}).get("name", "")):
        raise ValueError(f"{builder} needs application_detail(..., unmask=True): the applicant signs these values")


def _station_info(station: StationLike) -> StationInfo:
    return station if isinstance(station, StationInfo) else StationInfo.of(station)


def _material_row(n: int, material: MaterialView, how: str) -> tuple[str, ...]:
    name = f"{material.name}\n（{material.note}）" if material.note else material.name
    return (str(n), name, material.form, str(material.copies), "是" if material.required else "否", how,
            f"{material.credibility}类" if material.credibility else "—")


def _form_title(item_name: str) -> str:
    # "最低生活保障申请" -> "最低生活保障申请表"; "高龄津贴" -> "高龄津贴申请表".
    return f"{item_name}表" if item_name.endswith(("申请", "登记", "申报")) else f"{item_name}申请表"


def _numbered(sections: Sequence[Section]) -> tuple[Section, ...]:
    """Headings as official forms number them: 一、二、三、…"""
    out = []
    for n, section in enumerate(sections):
        prefix = _CHINESE_ORDINALS[n] if n < len(_CHINESE_ORDINALS) else str(n + 1)
        out.append(Section(f"{prefix}、{section.heading}", section.rows, section.paragraphs, section.table,
                           section.notes, section.boxed))
    return tuple(out)


def _field_value(field_view: FieldView | None, value: Any) -> str:
    """A filed value in words: 是/否 for booleans, 、-joined choices, dates as 年月日, long numbers grouped."""
    if value is None or value == "" or value == []:
        return EMPTY_VALUE
    kind = field_view.type if field_view else ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    text = str(value)
    if kind == "date":
        return _date_words(text) or text
    if kind == "bank_account":
        # Grouped in fours, as on a bank card, so the applicant can check it digit by digit before signing.
        return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
    return text


def _identity_value(key: str, value: Any) -> str:
    if key == "birth_date":
        return _date_words(value) or str(value)
    return str(value)


def _date_words(value: Any) -> str:
    """'2026-03-05' -> '2026年3月5日'; anything else (a masked '1958-**-**') comes back as given."""
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if not value:
        return ""
    try:
        return _date_words(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _datetime_words(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone()  # stored in UTC; the paper shows the station's local time
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def _count_words(days: int) -> str:
    return _CHINESE_ORDINALS[days - 1] if 1 <= days <= len(_CHINESE_ORDINALS) else str(days)


def _footer(info: StationInfo, printed_at: datetime | None) -> str:
    moment = printed_at or datetime.now()
    return f"{info.name}（站点代码 {info.code}）　打印时间 {moment:%Y-%m-%d %H:%M}"
