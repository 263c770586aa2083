"""Logging to a rotating file in the data folder, with ID numbers and phone numbers masked on the way out.

The filter sits on the handler, not on loggers, so a message from any library (SQLAlchemy echoing a parameter,
an exception text quoting a form value) is masked too before it reaches the disk.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Final

from kiosk_app.identity.masking import redact_text

LOG_FILE: Final = "kiosk.log"
_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact_text(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


def configure_logging(folder: Path, level: str = "INFO") -> Path:
    """One station log per process: opening another data folder (tests, the demo) moves the log there."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if any(isinstance(f, MaskingFilter) for f in handler.filters):
            if Path(getattr(handler, "baseFilename", "")) == path:
                return path
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=5 * 1024 * 1024, backupCount=5,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    return path
