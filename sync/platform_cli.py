"""`kiosk-platform`: back-office command line of the reference provincial platform.

Serve the platform API, make enrolment tokens for stations, list cases and move them on as a department
would, publish the service catalogue, list enrolled devices, write the API document. `--json` prints data for
tools; otherwise plain Chinese for people. Bad input exits 2, a refused action or an unusable database 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import platformdirs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from sync.protocol.models import PlatformState
from sync.server import back_office
from sync.server.applications import CHINA
from sync.server.back_office import BackOfficeError, InvalidRequest
from sync.server.states import label
from sync.server.store import PlatformStore, sqlite_file

__version__ = "0.1.0"

APP_NAME: Final = "zj-kiosk-platform"
DB_ENV: Final = "KIOSK_PLATFORM_DB"


def default_db_url() -> str:
    return os.environ.get(DB_ENV) or f"sqlite:///{platformdirs.user_data_path(APP_NAME) / 'platform.db'}"


def resolve_db_url(value: str | None) -> str:
    url = value or default_db_url()
    if "://" not in url:  # a bare file path means a SQLite file
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    try:
        make_url(url).get_dialect()  # the database kind must be known; its driver is imported only on connect
    except (ArgumentError, NoSuchModuleError):
        raise InvalidRequest(f"数据库地址“{url}”无法识别，应形如 sqlite:///路径 或 postgresql://…") from None
    return url


def default_blob_dir(db_url: str) -> Path:
    path = sqlite_file(db_url)
    if path is not None:
        return path.with_name(f"{path.stem}-blobs")
    return platformdirs.user_data_path(APP_NAME) / "blobs"


def _emit(as_json: bool, data: Any, human: Callable[[], str]) -> None:
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(human().rstrip("\n") + "\n")


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _table(rows: list[list[str]], header: list[str]) -> str:
    """Columns padded by display width (CJK characters take two cells in a terminal)."""
    all_rows = [header, *rows]
    widths = [max(_width(r[i]) for r in all_rows) for i in range(len(header))]
    return "\n".join("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in all_rows)


# ---- commands --------------------------------------------------------------------------------------------------

def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # the server's imports are only paid for by `serve`

    from sync.server.app import create_app
    from sync.server.embedded import bind_socket, url_of

    blob_dir: Path = args.blobs or default_blob_dir(args.db)
    app = create_app(args.db, blob_dir, platform_id=args.platform_id)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        app.state.platform.store.close()
        raise BackOfficeError(f"无法在 {args.host}:{args.port} 上监听：{exc.strerror or exc}。") from None
    url = url_of(sock)
    shown_db = make_url(args.db).render_as_string(hide_password=True)
    # The socket is listening already: a client connecting now waits in the backlog until uvicorn accepts.
    if args.json:
        print(json.dumps({"url": url}), flush=True)  # one line: tools read it to learn the port
    else:
        print(f"参考平台已启动：{url}\n数据库：{shown_db}\n材料目录：{blob_dir}\n按 Ctrl+C 停止。", flush=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = uvicorn.Config(app, log_level="warning" if args.json else "info", access_log=not args.json,
                            lifespan="on", timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _token(args: argparse.Namespace) -> int:
    with PlatformStore(args.db) as store:
        made = back_office.create_token(store, args.station, args.ttl_hours)
    expires = datetime.fromisoformat(made["expires_at"]).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    _emit(args.json, made, lambda: f"站点 {made['station_code']} 的注册令牌"
                                   f"（只能用一次，北京时间 {expires} 前有效）：\n{made['token']}")
    return 0


def _apps_list(args: argparse.Namespace) -> int:
    with PlatformStore(args.db) as store:
        rows = back_office.list_apps(store, args.station)

    def human() -> str:
        if not rows:
            return "没有办件。"
        table = [[r["case_no"], r["station_code"], r["item_name"], label(r["state"]), str(r["version"]),
                  f"{len(r['blobs'])} 份" + (f"，缺 {len(r['missing_blobs'])}" if r["missing_blobs"] else "")]
                 for r in rows]
        return _table(table, ["办件编号", "站点", "事项", "状态", "版本", "材料"])

    _emit(args.json, rows, human)
    return 0


def _apps_advance(args: argparse.Namespace) -> int:
    with PlatformStore(args.db) as store:
        result = back_office.advance(store, args.case, args.to, reason=args.reason, department=args.department)
    app, event = result["application"], result["event"]

    def human() -> str:
        if event["department"]:
            return (f"办件 {app['case_no']}：{event['department']} 的意见记为“{label(event['department_state'])}”，"
                    f"办件整体仍为“{label(app['state'])}”。")
        return f"办件 {app['case_no']} 已变更为“{label(app['state'])}”。"

    _emit(args.json, result, human)
    return 0


def _catalog_publish(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InvalidRequest(f"无法读取目录文件 {path}：{exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidRequest(f"目录文件 {path} 不是有效的 JSON。") from None
    if not isinstance(document, dict):
        raise InvalidRequest(f"目录文件 {path} 应为 JSON 对象。")
    with PlatformStore(args.db) as store:
        summary = back_office.publish_catalog(store, document)
    _emit(args.json, summary, lambda: (
        f"已发布目录 {summary['version']}（{summary['region']}）：共 {summary['items']} 项，新增 {summary['added']}，"
        f"变更 {summary['changed']}，下架 {summary['removed']}，未变 {summary['unchanged']}。"))
    return 0


def _devices_list(args: argparse.Namespace) -> int:
    with PlatformStore(args.db) as store:
        rows = back_office.list_devices(store, args.station)

    def human() -> str:
        if not rows:
            return "还没有注册的设备。"
        table = [[r["device_id"], r["station_code"], r["name"] or "-", r["app_version"] or "-",
                  (r["last_seen"] or "-")[:19].replace("T", " ")] for r in rows]
        return _table(table, ["设备编号", "站点", "名称", "版本", "最近联系（UTC）"])

    _emit(args.json, rows, human)
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from sync.server.app import openapi_text

    text = openapi_text()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BackOfficeError(f"无法写入 {args.out}：{exc.strerror or exc}") from None
    _emit(args.json, {"out": str(args.out)}, lambda: f"接口文档已写入 {args.out}。")
    return 0


# ---- parser ----------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    # `--db` and `--json` work before or after the command words; SUPPRESS keeps a later parser from resetting
    # a value an earlier one set.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                        help=f"平台数据库地址（默认取环境变量 {DB_ENV}，否则为用户数据目录下的 SQLite 文件）")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="以 JSON 输出数据")
    parser = argparse.ArgumentParser(prog="kiosk-platform", parents=[common],
                                     description="参考省级平台（开发、测试、演示、试点用）")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="启动平台接口服务", parents=[common])
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=8700, help="端口（0 表示任取空闲端口；默认 8700）")
    p.add_argument("--blobs", type=Path, metavar="DIR", help="材料文件目录（默认在数据库文件旁）")
    p.add_argument("--platform-id", default="zj-reference", help="平台标识（默认 zj-reference）")
    p.set_defaults(run=_serve)

    p = sub.add_parser("token", help="为站点生成一次性注册令牌", parents=[common])
    p.add_argument("--station", required=True, metavar="CODE", help="站点编码（6、9 或 12 位数字）")
    p.add_argument("--ttl-hours", type=float, default=72, metavar="H", help="有效小时数（默认 72）")
    p.set_defaults(run=_token)

    apps = sub.add_parser("apps", help="办件", parents=[common])
    verbs = apps.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("list", help="列出办件", parents=[common])
    p.add_argument("--station", metavar="CODE", help="只列出该站点的办件")
    p.set_defaults(run=_apps_list)
    p = verbs.add_parser("advance", help="变更办件状态，或记录部门意见（并联审批）", parents=[common])
    p.add_argument("case", metavar="CASE", help="办件编号（或申请编号 client_id）")
    p.add_argument("--to", required=True, choices=[s.value for s in PlatformState], help="目标状态")
    p.add_argument("--reason", help="原因（补正、不予办理时必填）")
    p.add_argument("--department", metavar="NAME", help="部门名称：只记录该部门的进度，不改变办件整体状态")
    p.set_defaults(run=_apps_advance)

    cat = sub.add_parser("catalog", help="服务事项目录", parents=[common])
    verbs = cat.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("publish", help="发布目录文件（JSON）", parents=[common])
    p.add_argument("file", type=Path, metavar="FILE")
    p.set_defaults(run=_catalog_publish)

    dev = sub.add_parser("devices", help="已注册的设备", parents=[common])
    verbs = dev.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("list", help="列出设备", parents=[common])
    p.add_argument("--station", metavar="CODE", help="只列出该站点的设备")
    p.set_defaults(run=_devices_list)

    p = sub.add_parser("openapi", help="输出接口文档（OpenAPI JSON）", parents=[common])
    p.add_argument("--out", type=Path, metavar="FILE", help="写入文件（默认输出到屏幕）")
    p.set_defaults(run=_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    try:
        args.db = resolve_db_url(getattr(args, "db", None))
        code: int = args.run(args)
        return code
    except BackOfficeError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return exc.exit_code
    except SQLAlchemyError as exc:
        print(f"错误：无法使用平台数据库（{type(exc).__name__}），请检查 --db 地址和文件权限。", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
