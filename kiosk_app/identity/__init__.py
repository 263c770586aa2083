"""Identity of the person being served: ID numbers, credit codes, masks and the `Identity` value type."""

from kiosk_app.identity.credit_code import (
    CREDIT_CODE_CHARSET,
    credit_check_character,
    is_valid_credit_code,
    make_credit_code,
    normalize_credit_code,
    organization_check_character,
    validate_credit_code,
)
from kiosk_app.identity.id_number import (
    birth_date_of,
    check_character,
    is_valid_id_number,
    make_id_number,
    normalize_id_number,
    sex_of,
    validate_id_number,
)
from kiosk_app.identity.masking import (
    mask_address,
    mask_birth_date,
    mask_id_number,
    mask_name,
    mask_phone,
    redact_text,
)
from kiosk_app.identity.model import (
    JSON_KEYS,
    LONG_TERM,
    REQUIRED_JSON_KEYS,
    CardType,
    Identity,
    Sex,
    ValidTo,
    manual_identity,
)

__all__ = [
    "CREDIT_CODE_CHARSET",
    "JSON_KEYS",
    "LONG_TERM",
    "REQUIRED_JSON_KEYS",
    "CardType",
    "Identity",
    "Sex",
    "ValidTo",
    "birth_date_of",
    "check_character",
    "credit_check_character",
    "is_valid_credit_code",
    "is_valid_id_number",
    "make_credit_code",
    "make_id_number",
    "manual_identity",
    "mask_address",
    "mask_birth_date",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalize_credit_code",
    "normalize_id_number",
    "organization_check_character",
    "redact_text",
    "sex_of",
    "validate_credit_code",
    "validate_id_number",
]
