"""Masks for screens, slips and logs: examples from the brief and properties that bound what is revealed."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.identity import (
    make_id_number,
    mask_address,
    mask_birth_date,
    mask_id_number,
    mask_name,
    mask_phone,
    redact_text,
)
from tests.identity.test_id_number import id_numbers

SUICHANG_MAN = make_id_number("331123", date(1956, 3, 8), 17)


def test_brief_examples() -> None:
    assert mask_id_number("330102199001011234") == "3301**********1234"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修文") == "欧***"
    assert mask_name("李") == "*"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_address("浙江省丽水市遂昌县妙高街道北街1号") == "浙江省丽水市****"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ""),
        ("123", "***"),
        ("12345678", "12****78"),
        ("ABC123456789012", "ABC*********012"),  # 2017 foreign permanent form: 15 chars, at most 7 shown
        ("1234567890123456", "1234********3456"),
        ("12345678901234567890", "1234************7890"),
        (" 330102199001011234 ", "3301**********1234"),
    ],
)
def test_id_mask_short_and_odd(value: str, expected: str) -> None:
    assert mask_id_number(value) == expected


def test_name_edge_cases() -> None:
    assert mask_name("") == ""
    assert mask_name("  王五 ") == "王*"
    assert mask_name("阿卜杜拉·买买提") == "阿*******"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0578-8123456", "0578-***3456"),
        ("010-12345678", "010-****5678"),
        (" 13812345678 ", "138****5678"),
        ("12345", "1***5"),
        ("010123456789", "010*****6789"),
        ("05788123456", "057****3456"),
        ("", ""),
    ],
)
def test_phone_variants(value: str, expected: str) -> None:
    assert mask_phone(value) == expected


def test_address_edge_cases() -> None:
    assert mask_address("") == ""
    assert mask_address("遂昌县") == "遂****"
    assert mask_address("浙江省丽水市") == "浙江省****"


def test_birth_date_mask() -> None:
    assert mask_birth_date(date(1956, 3, 8)) == "1956-**-**"


@pytest.mark.parametrize(
    "template",
    ["身份证号{}已核验", "id={}", "ID{}", "{}", "号码：{}。", "a {} b", "{}abc"],
)
def test_redact_id_numbers_in_text(template: str) -> None:
    text = template.format(SUICHANG_MAN)
    redacted = redact_text(text)
    assert SUICHANG_MAN not in redacted
    assert mask_id_number(SUICHANG_MAN) in redacted
    assert redacted == text.replace(SUICHANG_MAN, mask_id_number(SUICHANG_MAN))


def test_redact_x_numbers_phones_and_foreign_form() -> None:
    text = (
        "张*，11010519491231002x，电话13812345678，+86 13912345678，8613712345678，"
        "证号ABC123456789012，idUSA123456789012"
    )
    redacted = redact_text(text)
    for secret in [
        "11010519491231002x",
        "13812345678",
        "13912345678",
        "13712345678",
        "ABC123456789012",
        "USA123456789012",
    ]:
        assert secret not in redacted
    assert "1101**********002x" in redacted
    assert "+86 139****5678" in redacted


def test_redact_leaves_other_numbers() -> None:
    # Order numbers, amounts and dates are not personal data and must stay readable in logs.
    text = "办件号20250601000123，金额12.50元，日期2025-06-01，卡号6222021234567890123"
    assert redact_text(text) == text


def test_redact_is_idempotent() -> None:
    once = redact_text(f"{SUICHANG_MAN} 13812345678")
    assert redact_text(once) == once


# --- properties -------------------------------------------------------------------------------------------

_MASK_AND_SPACE = frozenset("*\t\n\r ")
plain_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]).filter(lambda char: char not in _MASK_AND_SPACE)
)


@given(plain_text)
def test_id_mask_reveals_at_most_eight_and_half(value: str) -> None:
    value = value.strip()
    masked = mask_id_number(value)
    assert len(masked) == len(value)
    shown = [i for i, char in enumerate(masked) if char != "*"]
    assert len(shown) <= 8
    assert 2 * len(shown) <= len(value)
    assert all(masked[i] == value[i] for i in shown)


@given(id_numbers())
def test_id_mask_of_real_numbers_hides_birth_and_county(number: str) -> None:
    masked = mask_id_number(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert masked[4:14] == "*" * 10


@given(plain_text.filter(lambda s: s.strip() != ""))
def test_name_mask_keeps_only_first_character(value: str) -> None:
    name = value.strip()
    masked = mask_name(name)
    assert len(masked) == len(name)
    if len(name) > 1:
        assert masked == name[0] + "*" * (len(name) - 1)
    else:
        assert masked == "*"


@given(st.text())
def test_masks_never_raise(value: str) -> None:
    for mask in (mask_id_number, mask_name, mask_phone, mask_address, redact_text):
        assert isinstance(mask(value), str)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_mask(phone: str) -> None:
    assert mask_phone(phone) == phone[:3] + "****" + phone[-4:]


@given(
    id_numbers(),
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Nd"))),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Nd"))),
)
def test_redact_never_leaves_a_clear_number(number: str, phone: str, before: str, after: str) -> None:
    text = f"{before}{number}{after} {phone}{before}"
    redacted = redact_text(text)
    assert number not in redacted
    assert phone not in redacted
