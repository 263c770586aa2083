"""Turning what a reader decoded off a card into the application's `Identity`, with all its checks.

Readers (devices/) only decode; the rules for ID numbers, dates and sex live here with manual entry, so a
damaged or forged card is refused with the same plain message a mistyped number gets.
"""

from __future__ import annotations

from typing import Final

from devices.identity.card import LONG_TERM, CardKind, CardRecord
from kiosk_app.errors import InvalidInput
from kiosk_app.identity.id_number import birth_date_of, sex_of
from kiosk_app.identity.model import CardType, Identity

_CARD_TYPES: Final = {
    CardKind.RESIDENT: CardType.RESIDENT,
    CardKind.HKMOTW_PERMIT: CardType.HKMOTW_PERMIT,
    CardKind.FOREIGN_PERMANENT: CardType.FOREIGN_PERMANENT,
    CardKind.SOCIAL_SECURITY: CardType.SOCIAL_SECURITY,
}


def identity_from_card(record: CardRecord) -> Identity:
    number = record.id_number.strip().upper()
    sex = record.sex
    birth = record.birth_date
    # Social security cards often carry only the number; sex and birth date follow from it (GB 11643).
    if len(number) == 18:
        try:
            sex = sex or sex_of(number)
            birth = birth or birth_date_of(number)
        except InvalidInput as exc:
            message = f"卡片上的证件号码无效：{exc.message}请到公安机关核查证件。"
            raise InvalidInput(message, field="id_number") from None
    if sex not in ("男", "女") or birth is None:
        raise InvalidInput("卡片信息不完整（缺少性别或出生日期），请改用人工录入或联系工作人员。")
    try:
        return Identity(
            name=record.name,
            sex=sex,  # type: ignore[arg-type]  # narrowed to 男/女 just above
            nation=record.nation,
            birth_date=birth,
            id_number=number,
            card_type=_CARD_TYPES[record.kind],
            address=record.address,
            authority=record.authority,
            valid_from=record.valid_from,
            valid_to=LONG_TERM if record.valid_to == LONG_TERM else record.valid_to,  # type: ignore[arg-type]
            photo=record.photo,
        )
    except InvalidInput as exc:
        raise InvalidInput(f"卡片信息核验未通过：{exc.message}", field=exc.field) from None
