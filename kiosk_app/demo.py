"""The demo: a fresh station files applications for fictional villagers end to end and shows what it produced.

Everything here goes through the same operations the screens use (search, filing, queries), so the demo is
also a smoke test of the whole path. The people are fictional; their ID numbers carry valid check digits.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np

from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.applications.queries import application_detail
from kiosk_app.catalog.library import SAMPLE_CATALOG, ItemView
from kiosk_app.identity import CardType, Identity, Sex, make_id_number
from kiosk_app.station import Station

DEMO_MARKER: Final = ".kiosk-demo"
SEARCH_EXAMPLES: Final = ("ylbx", "yiliao", "dibao", "低保", "sbk", "laonian")


def sample_people() -> list[Identity]:
    """Fictional residents of 遂昌县 (331123), valid numbers, cards issued by the county police bureau."""

    def person(name: str, sex: Sex, nation: str, birth: date, seq: int, address: str, phone: str) -> Identity:
        number = make_id_number("331123", birth, seq)
        return Identity(name=name, sex=sex, nation=nation, birth_date=birth, id_number=number,
                        card_type=CardType.RESIDENT, address=address, authority="遂昌县公安局",
                        valid_from=date(2019, 5, 20), valid_to="长期" if birth.year < 1975 else date(2039, 5, 20),
                        phone=phone)

    return [
        person("叶春兰", "女", "汉", date(1958, 4, 12), 122, "浙江省遂昌县妙高街道上江村下江自然村18号", "13857800123"),
        person("雷金土", "男", "畲", date(1962, 9, 3), 311, "浙江省遂昌县妙高街道龙谷村37号", "13957811245"),
        person("周德福", "男", "汉", date(1944, 1, 26), 157, "浙江省遂昌县妙高街道北街社区北街56号", "05788123456"),
        person("吴晓燕", "女", "汉", date(1996, 11, 30), 208, "浙江省遂昌县妙高街道上江村上江路9号", "15167801234"),
    ]


def demo_scan(label_seed: int, width: int = 620, height: int = 877) -> bytes:
    """A grey 'page' PNG with ruled text-like lines: stands in for a camera scan until the scanner lands."""
    rng = np.random.default_rng(label_seed)
    page = np.full((height, width), 246, dtype=np.uint8)
    for top in range(80, height - 80, 34):
        length = int(rng.integers(width // 3, width - 120))
        page[top : top + 12, 60 : 60 + length] = 70
    raw = b"".join(b"\x00" + page[row].tobytes() for row in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def sample_form_values(item: ItemView) -> dict[str, Any]:
    """Plausible answers for the fields the card cannot fill, chosen from each field's own rules."""
    values: dict[str, Any] = {}
    for f in item.form_fields:
        if f.prefill or not f.required:
            continue
        rules = f.rules
        if f.type in ("choice", "multi_choice"):
            values[f.key] = rules["choices"][0]
        elif f.type in ("integer", "decimal"):
            low = rules.get("minimum")
            values[f.key] = str(int(low) if low is not None and float(low).is_integer() else (low or 1))
        elif f.type == "date":
            values[f.key] = date.today().replace(day=1).isoformat()
        elif f.type == "boolean":
            values[f.key] = "是"
        elif f.type == "phone":
            values[f.key] = "13857800123"
        elif f.type == "bank_account":
            values[f.key] = "6228480329012345678"
        elif f.type == "id_number":
            values[f.key] = make_id_number("331123", date(2020, 6, 1), 215)
        elif f.type == "credit_code":
            values[f.key] = "92331123MA2E0JXK5N"
        else:
            values[f.key] = _sample_text(f.label, rules)
    return values


def _sample_text(label: str, rules: dict[str, Any]) -> str:
    text = f"示例{label}"
    if rules.get("min_length"):
        text = text.ljust(int(rules["min_length"]), "。")
    if rules.get("max_length"):
        text = text[: int(rules["max_length"])]
    return text


@dataclass(frozen=True)
class DemoCase:
    item_name: str
    person: int
    scan_required: bool  # scan every required paper material, or leave them for 容缺
    note: str


CASES: Final = (
    DemoCase("城乡居民基本医疗保险参保登记", 3, True, "材料齐全，现场扫描"),
    DemoCase("最低生活保障申请", 1, False, "容缺受理，材料以后补交"),
    DemoCase("老年人优待证", 2, True, "身份证用电子证照免交"),
    DemoCase("高龄津贴", 2, True, "同一申请人第二件事"),
)


# What the departments do on the embedded platform once the filings arrive: (case index, steps).
PLATFORM_STEPS: Final = (
    (0, (("accepted", None, None), ("approved", None, None), ("result_ready", None, None))),
    (1, (("correction_requested", "请补交家庭成员收入证明原件扫描件", None),)),
    (2, (("accepted", None, None), ("in_review", None, "县民政局"), ("approved", None, "县卫生健康局"))),
)


def run_demo(out: Path, home: Path | None = None) -> dict[str, Any]:
    """File the sample cases offline, then start an embedded platform on loopback, provision the station
    with it, sync, let the platform's departments act, and sync again so their decisions come back."""
    out.mkdir(parents=True, exist_ok=True)
    home = home or out / "station"
    platform_dir = out / "platform"
    for folder in (home, platform_dir):
        if folder.exists() and (folder / DEMO_MARKER).exists():
            shutil.rmtree(folder)  # only a folder an earlier demo made; never a real station's data
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DEMO_MARKER).write_text("created by `kiosk demo`\n", encoding="utf-8")
    people = sample_people()
    with Station(home) as station:
        searches = {q: [f"{h.name}（{h.score}）" for h in station.catalog.search(q, limit=3)]
                    for q in SEARCH_EXAMPLES}
        filed: list[tuple[DemoCase, Filed]] = []
        for n, case in enumerate(CASES):
            item = _item_named(station, case.item_name)
            files = [MaterialFile(m.code, demo_scan(n * 10 + i), "image/png")
                     for i, m in enumerate(item.materials) if case.scan_required and m.required
                     and not m.elicence_type]
            result = submit_application(station.db, station.catalog,
                                        station.filing_context(channel="kiosk", actor="demo"),
                                        item_code=item.code, identity=people[case.person],
                                        form_values=sample_form_values(item), files=files,
                                        allow_missing=not case.scan_required)
            filed.append((case, result))
        sync_lines, platform_apps = _sync_with_embedded_platform(station, platform_dir, [f for _, f in filed])
        details = [application_detail(station.db, f.id) for _, f in filed]
        station_name = station.settings.get("station.name")
        catalog = station.catalog.info()
    (out / "applications.json").write_text(json.dumps(details, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "platform-applications.json").write_text(
        json.dumps([{k: a[k] for k in ("client_id", "case_no", "state", "blobs", "missing_blobs", "departments")}
                    for a in platform_apps], ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "searches.json").write_text(json.dumps(searches, ensure_ascii=False, indent=2), encoding="utf-8")
    summary = _summary(station_name, catalog.version if catalog else "", filed, details, searches)
    summary += "\n与省级平台同步（内置参考平台，仅本机回环地址）：\n" + "\n".join(sync_lines) + "\n"
    (out / "summary.txt").write_text(summary, encoding="utf-8")
    return {"out": str(out), "home": str(home), "applications": [f.to_json() for _, f in filed],
            "platform_applications": len(platform_apps), "summary": summary}


def _sync_with_embedded_platform(station: Station, folder: Path,
                                 filed: list[Filed]) -> tuple[list[str], list[dict[str, Any]]]:
    # Imported here: only the demo embeds the reference platform; a station never runs one.
    from kiosk_app.syncing.service import StationSync, provision
    from sync.server import back_office
    from sync.server.embedded import RunningPlatform
    from sync.server.states import label as state_label

    lines: list[str] = []
    with RunningPlatform(f"sqlite:///{folder / 'platform.db'}", folder / "blobs") as platform:
        document = json.loads(resources.files("kiosk_app.catalog").joinpath("data", SAMPLE_CATALOG).read_bytes())
        document["catalog_version"] = f"{document['catalog_version']}-p1"
        back_office.publish_catalog(platform.store, document)
        token = back_office.create_token(platform.store, station.settings.get("station.code"))["token"]
        done = provision(station, platform.url, token, device_name="demo-kiosk", actor="demo")
        lines.append(f"  开通：设备 {done.device_id[:8]}…，平台 {done.platform_url}")
        sync = StationSync(station, connect_timeout=2, read_timeout=10)
        first = sync.sync_once()
        lines.append(f"  第一轮：上报 {first.uploaded_applications} 件申请、{first.uploaded_blobs} 份材料"
                     f"（{first.bytes_sent / 1024:.0f} KB），目录更新 {first.catalog_items} 项，"
                     f"待上报 {first.pending} 项")
        cases = {a["client_id"]: a["case_no"] for a in back_office.list_apps(platform.store)}
        for index, steps in PLATFORM_STEPS:
            case_no = cases[filed[index].id]
            for state, reason, department in steps:
                back_office.advance(platform.store, case_no, state, reason=reason, department=department)
            lines.append(f"  平台办件 {case_no}（{filed[index].tracking_no}）："
                         + " → ".join(f"{d + '：' if d else ''}{state_label(s)}" for s, _, d in steps))
        second = sync.sync_once()
        lines.append(f"  第二轮：取回办理进度 {second.status_updates} 条，待上报 {second.pending} 项")
        apps = back_office.list_apps(platform.store)
    return lines, apps


def _item_named(station: Station, name: str) -> ItemView:
    for hit in station.catalog.search(name, limit=5):
        if hit.name == name:
            return station.catalog.get(hit.code)
    raise LookupError(f"sample catalogue lacks {name}")


def _summary(station_name: str, version: str, filed: list[tuple[DemoCase, Filed]],
             details: list[dict[str, Any]], searches: dict[str, list[str]]) -> str:
    lines = [f"{station_name} 演示（目录版本 {version}）", "", "拼音/俗称搜索："]
    lines += [f"  {q:<8} → {'；'.join(hits) or '无结果'}" for q, hits in searches.items()]
    lines += ["", "已提交的申请（姓名、证件号已脱敏）："]
    for (case, f), d in zip(filed, details, strict=True):
        who = d["applicant"]
        lines.append(f"  {f.tracking_no}  {d['item_name']}  {who['name']} {who['id_number']}  "
                     f"{d['state_label']}  承诺 {d['promised_date']}  — {case.note}")
        if f.elicences:
            lines.append(f"      电子证照免交：{'、'.join(f.elicences)}")
        if f.deferred:
            lines.append(f"      容缺待补：{'、'.join(f.deferred)}")
    return "\n".join(lines) + "\n"
