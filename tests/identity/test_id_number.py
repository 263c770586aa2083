"""GB 11643-1999 identity numbers: known values, every refusal rule, and properties over generated numbers."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.errors import InvalidInput
from kiosk_app.identity import (
    birth_date_of,
    check_character,
    is_valid_id_number,
    make_id_number,
    sex_of,
    validate_id_number,
)
from kiosk_app.identity.id_number import PROVINCE_CODES

TODAY = date(2025, 6, 1)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MAINLAND = sorted(code for code in PROVINCE_CODES if code not in {"71", "81", "82", "83"})

# Fictional villager: born 1956-03-08 in 遂昌县 (331123), sequence 017 (odd: male).
SUICHANG_MAN = "331123195603080178"


def area_codes(prefixes: list[str]) -> st.SearchStrategy[str]:
    rest = st.from_regex(r"[0-9]{4}", fullmatch=True)
    return st.builds(lambda prefix, tail: prefix + tail, st.sampled_from(prefixes), rest)


def id_numbers(prefixes: list[str] | None = None, *, today: date = TODAY) -> st.SearchStrategy[str]:
    """Valid numbers: any known province (or 9x for foreigners), a real birth date, any sequence."""
    choices = prefixes or [*sorted(PROVINCE_CODES), *(f"9{d}" for d in range(10))]
    return st.builds(
        make_id_number,
        area_codes(choices),
        st.dates(min_value=date(1890, 1, 1), max_value=today),
        st.integers(min_value=0, max_value=999),
    )


def test_known_example_computed_by_hand() -> None:
    first17 = "33112319560308017"
    # 3*7 + 3*9 + 1*10 + 1*5 + 2*8 + 3*4 + 1*2 + 9*1 + 5*6 + 6*3 + 0*7 + 3*9 + 0*10 + 8*5 + 0*8 + 1*4 + 7*2
    assert sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) == 235
    assert 235 % 11 == 4 and "10X98765432"[4] == "8"
    assert check_character(first17) == "8"
    assert make_id_number("331123", date(1956, 3, 8), 17) == SUICHANG_MAN
    assert validate_id_number(SUICHANG_MAN, today=TODAY) == SUICHANG_MAN
    assert birth_date_of(SUICHANG_MAN) == date(1956, 3, 8)
    assert sex_of(SUICHANG_MAN) == "男"


def test_standard_example_with_x() -> None:
    # The worked example printed in GB 11643-1999 itself.
    assert check_character("11010519491231002") == "X"
    assert validate_id_number("11010519491231002x", today=TODAY) == "11010519491231002X"
    assert sex_of("11010519491231002X") == "女"


def test_normalises_spaces_full_width_and_lower_x() -> None:
    spaced = " 331123 19560308 0178 "
    assert validate_id_number(spaced, today=TODAY) == SUICHANG_MAN
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in SUICHANG_MAN)
    assert validate_id_number(full_width, today=TODAY) == SUICHANG_MAN
    assert validate_id_number("110105 19491231 002ｘ", today=TODAY) == "11010519491231002X"


def refusal(value: str, *, today: date = TODAY) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_id_number(value, today=today)
    assert caught.value.field == "id_number"
    return caught.value


def test_wrong_length_mentions_18() -> None:
    assert "18位" in refusal(SUICHANG_MAN[:17]).message
    assert "18位" in refusal(SUICHANG_MAN + "1").message


def test_old_15_digit_number_must_be_replaced() -> None:
    message = refusal("331123560308017").message
    assert "15位" in message and "18位" in message and "换领" in message


@pytest.mark.parametrize("value", ["", "   ", "\u3000"])
def test_empty(value: str) -> None:
    assert "请输入" in refusal(value).message


@pytest.mark.parametrize("value", ["33112319560308017A", "张三", "3311231956-3080178", "٣٣١١٢٣١٩٥٦٠٣٠٨٠١٧٨"])
def test_non_digits(value: str) -> None:
    assert "数字" in refusal(value).message


def test_x_only_in_last_place() -> None:
    assert "最后一位" in refusal("3311231956030801X8").message


@pytest.mark.parametrize("prefix", ["00", "10", "16", "20", "39", "47", "55", "66", "70", "80", "84", "88"])
def test_unknown_province(prefix: str) -> None:
    number = make_id_number(prefix + "1123", date(1956, 3, 8), 17)
    message = refusal(number).message
    assert "省份代码" in message and prefix in message


@pytest.mark.parametrize("prefix", ["81", "82", "83", "71", "91", "93", "99"])
def test_permit_and_foreign_prefixes_accepted(prefix: str) -> None:
    number = make_id_number(prefix + "0000", date(1990, 1, 1), 1)
    assert is_valid_id_number(number, today=TODAY)


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900001", "19900100", "00000101", "20230229"])
def test_impossible_birth_date(birth: str) -> None:
    first17 = "331123" + birth + "017"
    assert "不是真实存在的日期" in refusal(first17 + check_character(first17)).message


def test_leap_day_is_possible() -> None:
    number = make_id_number("331123", date(2000, 2, 29), 2)
    assert birth_date_of(number) == date(2000, 2, 29)
    assert sex_of(number) == "女"


def test_birth_in_future() -> None:
    number = make_id_number("331123", TODAY + timedelta(days=1), 17)
    assert "晚于今天" in refusal(number).message
    assert validate_id_number(number, today=TODAY + timedelta(days=1)) == number


def test_birth_before_1890() -> None:
    # Another worked example from the standard: check character right, but nobody born in 1880 is alive.
    assert check_character("44052418800101001") == "4"
    assert "1890" in refusal("440524188001010014").message
    assert is_valid_id_number(make_id_number("440524", date(1890, 1, 1), 1), today=TODAY)


def test_wrong_check_character() -> None:
    assert "校验码" in refusal(SUICHANG_MAN[:17] + "9").message


def test_is_valid_handles_non_strings() -> None:
    assert not is_valid_id_number(None)
    assert not is_valid_id_number(331123195603080178)
    with pytest.raises(InvalidInput):
        validate_id_number(None)  # type: ignore[arg-type]


def test_birth_date_and_sex_refuse_invalid_numbers() -> None:
    with pytest.raises(InvalidInput):
        birth_date_of("331123195603080179")
    with pytest.raises(InvalidInput):
        sex_of("abc")


@pytest.mark.parametrize(
    ("area", "birth", "sequence"),
    [("33112", date(1956, 3, 8), 1), ("33112a", date(1956, 3, 8), 1), ("331123", date(1956, 3, 8), 1000),
     ("331123", date(1956, 3, 8), -1)],
)  # fmt: skip
def test_make_refuses_bad_parts(area: str, birth: date, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_id_number(area, birth, sequence)


def test_check_character_refuses_bad_input() -> None:
    for bad in ["", "1" * 16, "1" * 18, "1" * 16 + "X", "١" * 17]:
        with pytest.raises(ValueError):
            check_character(bad)


# --- properties -------------------------------------------------------------------------------------------


@given(id_numbers())
def test_generated_numbers_pass(number: str) -> None:
    assert validate_id_number(number, today=TODAY) == number
    assert validate_id_number(number.lower(), today=TODAY) == number
    assert sex_of(number) == ("男" if int(number[16]) % 2 else "女")
    assert birth_date_of(number).strftime("%Y%m%d") == number[6:14]


@given(id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_substitution_is_refused(number: str, position: int, replacement: str) -> None:
    mutated = number[:position] + replacement + number[position + 1 :]
    if mutated == number:
        return
    assert not is_valid_id_number(mutated, today=TODAY)
    if replacement != "X" or position == 17:
        # The check character alone catches it, whatever the other rules say about the mutated number.
        assert check_character(mutated[:17]) != mutated[17]


def test_single_substitution_proof() -> None:
    # Changing digit d to d' at position i shifts the weighted sum by w_i * (d' - d). 11 is prime and every
    # weight and every difference (1..9 in size) is non-zero mod 11, so the sum mod 11 always moves and the
    # check character (a bijection of sum mod 11) no longer matches. Changing the check character itself is
    # caught trivially. This exhausts every position and every possible difference.
    for weight in WEIGHTS:
        for delta in range(1, 10):
            assert (weight * delta) % 11 != 0
            assert (weight * -delta) % 11 != 0
    assert len(set("10X98765432")) == 11


def test_adjacent_transposition_proof() -> None:
    # Swapping digits a != b at positions i, i+1 shifts the sum by (w_i - w_{i+1}) * (b - a).
    for left, right in itertools.pairwise(WEIGHTS):
        for delta in range(1, 10):
            assert ((left - right) * delta) % 11 != 0


@given(st.text())
def test_random_text_only_raises_invalid_input(value: str) -> None:
    try:
        result = validate_id_number(value, today=TODAY)
    except InvalidInput as err:
        assert err.message and err.field == "id_number"
    else:
        assert len(result) == 18


@given(st.text(alphabet="0123456789Xx \u3000０１２３", min_size=14, max_size=22))
def test_near_miss_text_only_raises_invalid_input(value: str) -> None:
    try:
        validate_id_number(value, today=TODAY)
    except InvalidInput:
        accepted = False
    else:
        accepted = True
    assert is_valid_id_number(value, today=TODAY) is accepted


@given(st.dates(min_value=date(1890, 1, 1), max_value=TODAY))
def test_known_example_area_any_birth(birth: date) -> None:
    number = make_id_number("331123", birth, 17)
    assert birth_date_of(number) == birth
    assert sex_of(number) == "男"
