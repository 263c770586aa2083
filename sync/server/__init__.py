"""The reference provincial platform: the server side of sync protocol v1, for development, tests, demos and pilots.

`create_app` builds the FastAPI application; `RunningPlatform` serves it on loopback in a background thread;
`back_office` holds what the department staff and the `kiosk-platform` command do (tokens, cases, catalogue).
Nothing here imports the station side (kiosk_app, local_db, devices, ui).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.server.app import create_app
    from sync.server.embedded import RunningPlatform

__all__ = ["RunningPlatform", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: the back-office commands use the store alone and should not pay for importing FastAPI and uvicorn.
    if name == "create_app":
        from sync.server.app import create_app

        return create_app
    if name == "RunningPlatform":
        from sync.server.embedded import RunningPlatform

        return RunningPlatform
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
