"""Voice prompts for each step, through QtTextToSpeech where the machine has a Chinese voice; silent otherwise.

The text-to-speech module needs an audio stack (PulseAudio, SAPI); a kiosk without one, and every test, simply
stays silent. What would have been said is kept in `spoken` so tests and the headless demo can check it.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class Voice:
    def __init__(self, enabled: bool = True) -> None:
        self.spoken: list[str] = []
        self._engine: Any = None
        if not enabled:
            return
        try:
            from PySide6.QtCore import QLocale
            from PySide6.QtTextToSpeech import QTextToSpeech
        except ImportError as exc:  # no audio libraries on this machine
            log.info("voice prompts off: %s", exc)
            return
        engine = QTextToSpeech()
        voices = [v for v in engine.availableVoices() if v.locale().language() == QLocale.Language.Chinese]
        if not voices:
            log.info("voice prompts off: no Chinese voice installed")
            return
        engine.setVoice(voices[0])
        self._engine = engine

    @property
    def available(self) -> bool:
        return self._engine is not None

    def say(self, text: str) -> None:
        self.spoken.append(text)
        if self._engine is not None:
            self._engine.stop()
            self._engine.say(text)
