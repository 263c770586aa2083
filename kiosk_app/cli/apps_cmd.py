"""`kiosk apps submit|list|show`: filing from the command line, with the same checks as the screens."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk_app.cli.choices import enum_choices
from kiosk_app.cli.output import emit, table
from kiosk_app.errors import InvalidInput

if TYPE_CHECKING:
    from kiosk_app.station import Station

# Heavy imports (the store, its models) load in the handlers so `kiosk run` and `kiosk --help` start fast.


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    apps = sub.add_parser("apps", help="办件（申请）", parents=[common])
    verbs = apps.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("submit", help="提交一件申请", parents=[common])
    p.add_argument("--item", required=True, metavar="CODE", help="服务事项编码")
    p.add_argument("--applicant", required=True, type=Path, metavar="IDENTITY.json", help="申请人身份 JSON")
    p.add_argument("--material", action="append", default=[], metavar="CODE_OR_NAME=PATH",
                   help="材料文件（图片或 PDF），可重复")
    p.add_argument("--field", action="append", default=[], metavar="KEY=VALUE", help="表单字段，可重复")
    p.add_argument("--form", type=Path, metavar="FORM.json", help="表单字段 JSON 对象")
    p.add_argument("--allow-missing", action="store_true", help="缺少材料时按容缺受理提交")
    p.add_argument("--channel", choices=["kiosk", "agent", "cli"], default="cli")
    p.set_defaults(run=_submit)
    p = verbs.add_parser("list", help="列出申请", parents=[common])
    enum_choices(p.add_argument("--state"), "kiosk_app.applications.lifecycle", "State")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(run=_list)
    p = verbs.add_parser("show", help="查看一件申请", parents=[common])
    p.add_argument("key", metavar="ID_OR_TRACKING_NO")
    p.add_argument("--unmask", action="store_true", help="显示完整姓名、证件号和表单（仅限授权人员）")
    p.set_defaults(run=_show)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InvalidInput(f"无法读取{what}文件 {path}：{exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(f"{what}文件 {path} 不是有效的 JSON。") from None


def _pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest:
            raise InvalidInput(f"{option} 的写法应为 名称=值，收到“{value}”。")
        pairs.append((key.strip(), rest))
    return pairs


def _submit(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.applications.filing import MaterialFile, submit_application
    from kiosk_app.applications.lifecycle import STATE_LABELS, State
    from kiosk_app.identity import Identity

    data = _read_json(args.applicant, "申请人身份")
    if not isinstance(data, dict):
        raise InvalidInput(f"申请人身份文件 {args.applicant} 应为 JSON 对象。")
    identity = Identity.from_json_dict(data)
    form: dict[str, Any] = {}
    if args.form:
        loaded = _read_json(args.form, "表单")
        if not isinstance(loaded, dict):
            raise InvalidInput(f"表单文件 {args.form} 应为 JSON 对象。")
        form.update(loaded)
    form.update(_pairs(args.field, "--field"))
    files = [MaterialFile.from_path(key, Path(path)) for key, path in _pairs(args.material, "--material")]
    filed = submit_application(station.db, station.catalog,
                               station.filing_context(channel=args.channel, actor=f"cli:{args.channel}"),
                               item_code=args.item, identity=identity, form_values=form, files=files,
                               allow_missing=args.allow_missing)

    def human() -> str:
        text = f"已提交，受理编号 {filed.tracking_no}（状态：{STATE_LABELS[State(filed.state)]}）。"
        if filed.elicences:
            text += f"\n使用电子证照免交：{'、'.join(filed.elicences)}。"
        if filed.deferred:
            text += f"\n容缺受理，待补交：{'、'.join(filed.deferred)}。"
        return text

    emit(args.json, filed.to_json(), human)


def _list(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.applications.lifecycle import STATE_LABELS, State
    from kiosk_app.applications.queries import list_applications

    apps = list_applications(station.db, state=args.state, limit=args.limit)
    emit(args.json, [a.to_json() for a in apps], lambda: table(
        [[a.tracking_no, a.item_name, a.applicant, STATE_LABELS[State(a.state)],
          a.promised_date.isoformat() if a.promised_date else ""] for a in apps],
        ["受理编号", "事项", "申请人", "状态", "承诺办结"]) if apps else "还没有申请。")


def _show(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.applications.queries import application_detail

    detail = application_detail(station.db, args.key, unmask=args.unmask)

    def human() -> str:
        who = detail["applicant"]
        lines = [f"受理编号 {detail['tracking_no']}    状态：{detail['state_label']}",
                 f"事项：{detail['item_name']}（{detail['item_code']}）",
                 f"申请人：{who['name']}  {who['id_number']}",
                 f"承诺办结日期：{detail['promised_date'] or '—'}    送达方式：{detail['delivery_method']}",
                 "材料："]
        source_words = {"file": "已提交", "scan": "已扫描", "elicence": "电子证照", "reuse": "复用",
                        "deferred": "容缺待补"}
        lines += [f"  {m['code']} {m['name']}：{source_words.get(m['source'], m['source'])}"
                  for m in detail["materials"]]
        lines.append("经过：")
        lines += [f"  {e['at'][:19]} {e['from'] or '—'} → {e['to']}（{e['actor']}）" for e in detail["events"]]
        return "\n".join(lines)

    emit(args.json, detail, human)
