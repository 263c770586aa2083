"""`kiosk catalog import|search|show|info`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk_app.cli.output import emit, table
from kiosk_app.errors import InvalidInput

if TYPE_CHECKING:  # the store loads when a command runs, so `kiosk run` and `kiosk --help` start fast
    from kiosk_app.station import Station


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    catalog = sub.add_parser("catalog", help="服务事项目录", parents=[common])
    verbs = catalog.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("import", help="导入目录文件（JSON）", parents=[common])
    p.add_argument("file", type=Path)
    p.set_defaults(run=_import)
    p = verbs.add_parser("search", help="按名称、俗称、拼音或首字母搜索", parents=[common])
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(run=_search)
    p = verbs.add_parser("show", help="显示一个事项的办事指南", parents=[common])
    p.add_argument("code")
    p.set_defaults(run=_show)
    p = verbs.add_parser("info", help="当前目录版本", parents=[common])
    p.set_defaults(run=_info)


def _import(station: Station, args: argparse.Namespace) -> None:
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法读取目录文件 {args.file}：{exc.strerror}") from None
    report = station.catalog.import_document(raw, actor="cli")
    emit(args.json, report.to_json(), lambda: (
        f"已导入目录 {report.version}（{report.region}）：共 {report.items} 项，新增 {report.added}，"
        f"更新 {report.updated}，停用 {report.deactivated}，用时 {report.seconds:.1f} 秒。"))


def _search(station: Station, args: argparse.Namespace) -> None:
    if not 1 <= args.limit <= 1000:
        raise InvalidInput("--limit 应在 1 到 1000 之间。")
    hits = station.catalog.search(args.query, limit=args.limit)
    data = [{"code": h.code, "name": h.name, "score": h.score, "matched": h.matched} for h in hits]
    emit(args.json, data, lambda: table([[h.code, h.name, str(h.score)] for h in hits], ["编码", "事项", "匹配度"])
         if hits else f"没有找到与“{args.query}”相关的事项。")


def _show(station: Station, args: argparse.Namespace) -> None:
    item = station.catalog.get(args.code)

    def human() -> str:
        lines = [f"{item.name}（{item.code}）", f"实施部门：{item.department}    事项类型：{item.item_type}",
                 f"承诺时限：{item.promised_limit_days} 个工作日（法定 {item.statutory_limit_days}）"
                 f"    到现场次数：{item.visits}    网办深度：{item.online_depth}级",
                 f"收费：{item.fee.get('standard') or '不收费'}    送达方式：{'、'.join(item.delivery)}"]
        if item.aliases:
            lines.append(f"俗称：{'、'.join(item.aliases)}")
        if item.conditions:
            lines += ["受理条件："] + [f"  {i}. {c}" for i, c in enumerate(item.conditions, 1)]
        lines.append("申请材料：")
        for m in item.materials:
            tags = ["必交" if m.required else "选交", m.form, f"{m.copies}份"]
            if m.elicence_type:
                tags.append(f"可用电子证照“{m.elicence_type}”免交")
            lines.append(f"  {m.code} {m.name}（{'，'.join(tags)}）")
        lines.append("表单：" + "、".join(f.label + ("*" if f.required else "") for f in item.form_fields))
        return "\n".join(lines)

    emit(args.json, item.to_json(), human)


def _info(station: Station, args: argparse.Namespace) -> None:
    info = station.catalog.info()
    data = None if info is None else {"version": info.version, "region": info.region, "items": info.item_count}
    emit(args.json, data, lambda: "尚未导入目录。" if info is None else
         f"目录版本 {info.version}，{info.region}，共 {info.item_count} 项。")
