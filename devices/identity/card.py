"""What a reader gets off a card, before the application layer validates it into an `Identity`.

Readers decode bytes faithfully and nothing more: checking the ID number's check digit or the birth date is the
application's job (kiosk_app.identity), so one rule set serves card, social security card and manual entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final

LONG_TERM: Final = "长期"


class CardKind(StrEnum):
    RESIDENT = "resident"  # 居民身份证
    HKMOTW_PERMIT = "hkmotw_permit"  # 港澳台居民居住证 ('J')
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证 ('I' 2017, 'Y' 2023)
    SOCIAL_SECURITY = "social_security"  # 社会保障卡


@dataclass(frozen=True)
class CardRecord:
    kind: CardKind
    name: str
    sex: str  # "男" / "女", or "" when the card does not say
    nation: str  # as printed ("汉", "畲"); foreign cards carry the nationality in `extra`
    birth_date: date | None
    address: str
    id_number: str
    authority: str
    valid_from: date | None
    valid_to: date | str | None  # a date, LONG_TERM, or None
    photo: bytes | None = field(default=None, repr=False)  # raw WLT (1024 B) for resident cards
    # Layout-specific values: english_name, nationality, pass_number, issue_count, card_version,
    # social_security_no, bank_app ... Keys are snake_case ASCII; values are text as printed.
    extra: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Records pass through logs and tracebacks: never show the clear name or number.
        number = self.id_number[:4] + "*" * max(len(self.id_number) - 8, 0) + self.id_number[-4:]
        return f"CardRecord(kind={self.kind.value!r}, name={self.name[:1]!r}+*, id_number={number!r})"

    __str__ = __repr__
