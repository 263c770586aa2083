from __future__ import annotations

import logging
from pathlib import Path

from kiosk_app.log_setup import configure_logging
from tests.conftest import make_person


def test_log_file_masks_numbers_from_any_logger(tmp_path: Path) -> None:
    path = configure_logging(tmp_path / "logs", "DEBUG")
    person = make_person()
    logging.getLogger("sqlalchemy.engine").info("params: (%r, %r)", person.id_number, person.phone)
    try:
        raise ValueError(f"bad value {person.id_number}")
    except ValueError:
        logging.getLogger("any.library").exception("failed for %s", person.id_number)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert person.id_number not in text and (person.phone or "") not in text
    assert person.id_number[:4] + "**********" + person.id_number[-4:] in text
    assert "ValueError" in text  # the traceback survives, masked
