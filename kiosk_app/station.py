"""Composition root: opens one station's data folder and wires the store, settings, catalogue and filing.

Screens, the CLI and the demo all start here, so there is one place that decides how the parts fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kiosk_app.catalog.library import CatalogLibrary
from kiosk_app.config import Settings
from kiosk_app.log_setup import configure_logging
from local_db.database import Database

if TYPE_CHECKING:
    from kiosk_app.applications.filing import FilingContext


class Station:
    def __init__(self, home: Path, *, load_sample_catalog: bool = True, key_storage: str = "auto") -> None:
        self.home = home
        self.db = Database(home, key_storage=key_storage)
        try:
            self.settings = Settings(self.db)
            configure_logging(home / "logs", self.settings.get("log.level"))
            self.catalog = CatalogLibrary(self.db)
            if load_sample_catalog:
                self.catalog.load_sample_if_empty()
        except BaseException:
            self.db.close()
            raise

    def filing_context(
        self, *, channel: str = "kiosk", actor: str = "kiosk", agent_user_id: int | None = None
    ) -> FilingContext:
        from kiosk_app.applications.filing import FilingContext

        return FilingContext(
            station_code=self.settings.get("station.code"),
            station_level=self.settings.get("station.level"),
            channel=channel,
            actor=actor,
            agent_user_id=agent_user_id,
        )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Station:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
