"""GB 32100-2015 unified social credit codes: known values, refusal rules and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.errors import InvalidInput
from kiosk_app.identity import (
    CREDIT_CODE_CHARSET,
    credit_check_character,
    is_valid_credit_code,
    make_credit_code,
    organization_check_character,
    validate_credit_code,
)

WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# A published enterprise code (also the example in python-stdnum), organisation code 60003734-1.
KNOWN = "91110000600037341L"


def credit_codes() -> st.SearchStrategy[str]:
    """Valid codes: any authority, type digit, division digits and organisation body from the charset."""
    return st.builds(
        lambda authority, kind, division, body: make_credit_code(authority + kind + division + body),
        st.sampled_from("123456789ANY"),
        st.sampled_from("123456789"),
        st.from_regex(r"[0-9]{6}", fullmatch=True),
        st.text(alphabet=CREDIT_CODE_CHARSET, min_size=8, max_size=8),
    )


def refusal(value: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_credit_code(value)
    assert caught.value.field == "credit_code"
    return caught.value


def test_known_code_and_hand_computed_org_check() -> None:
    # 6*3 + 0*7 + 0*9 + 0*10 + 3*5 + 7*8 + 3*4 + 4*2 = 109; 109 mod 11 = 10; 11 - 10 = 1.
    assert sum(int(c) * w for c, w in zip("60003734", ORG_WEIGHTS, strict=True)) == 109
    assert organization_check_character("60003734") == "1"
    assert credit_check_character(KNOWN[:17]) == "L"
    assert validate_credit_code(KNOWN) == KNOWN
    assert make_credit_code(KNOWN[:16]) == KNOWN
    assert make_credit_code(KNOWN[:17]) == KNOWN


def test_fictional_village_collective_in_suichang() -> None:
    # N2 = village-level collective economic organisation registered by agriculture authorities in 遂昌县.
    code = make_credit_code("N2331123MA2E0000")
    assert code == "N2331123MA2E00003C"
    assert validate_credit_code(code) == code


def test_org_check_special_values() -> None:
    assert organization_check_character("00000000") == "0"  # 11 - 0 = 11 -> '0'
    assert organization_check_character("40000000") == "X"  # 12 mod 11 = 1; 11 - 1 = 10 -> 'X'
    assert organization_check_character("A0000000") == "3"  # A=10: 30 mod 11 = 8; 11 - 8 = 3
    assert organization_check_character("Z0000000") == "5"  # Z=35 on the full alphabet: 105 mod 11 = 6


def test_normalises_case_separators_and_full_width() -> None:
    assert validate_credit_code(" 91110000-60003734-1l ") == KNOWN
    assert validate_credit_code("91110000\uff0d600037341L") == KNOWN
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in KNOWN)
    assert validate_credit_code(full_width) == KNOWN


@pytest.mark.parametrize("value", ["", "  ", "-"])
def test_empty(value: str) -> None:
    assert "请输入" in refusal(value).message


def test_wrong_length() -> None:
    assert "18位" in refusal(KNOWN[:17]).message
    assert "18位" in refusal(KNOWN + "0").message
    assert "18位" in refusal("600037341").message  # an old organisation code alone


def test_confusable_letters_are_explained() -> None:
    message = refusal("91110000600O37341L").message
    assert "I、O、Z、S、V" in message


def test_other_characters() -> None:
    assert "数字和大写字母" in refusal("9111000060003734张L").message


def test_unknown_registration_authority() -> None:
    code = make_credit_code("B1110000" + "60003734")
    assert "第1位" in refusal(code).message


def test_type_code_must_be_digit() -> None:
    assert "第2位" in refusal(make_credit_code("9A110000" + "60003734")).message
    assert "第2位" in refusal(make_credit_code("90110000" + "60003734")).message


def test_division_code_digits() -> None:
    assert "第3到8位" in refusal(make_credit_code("91A10000" + "60003734")).message


def test_organisation_check() -> None:
    # Final check right, organisation check wrong: only GB 11714 catches it.
    code = make_credit_code("91110000" + "600037342")
    assert credit_check_character(code[:17]) == code[17]
    assert "组织机构代码" in refusal(code).message


def test_final_check() -> None:
    assert "最后一位" in refusal(KNOWN[:17] + "M").message


def test_is_valid_handles_non_strings() -> None:
    assert is_valid_credit_code(KNOWN)
    assert not is_valid_credit_code(None)
    assert not is_valid_credit_code(91110000)
    with pytest.raises(InvalidInput):
        validate_credit_code(None)  # type: ignore[arg-type]


def test_helpers_refuse_bad_input() -> None:
    for bad in ["", "1" * 15, "1" * 18]:
        with pytest.raises(ValueError):
            make_credit_code(bad)
    with pytest.raises(ValueError):
        credit_check_character("I" * 17)
    with pytest.raises(ValueError):
        organization_check_character("6000373")
    with pytest.raises(ValueError):
        organization_check_character("6000373a")


# --- properties -------------------------------------------------------------------------------------------


@given(credit_codes())
def test_generated_codes_pass(code: str) -> None:
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code
    assert organization_check_character(code[8:16]) == code[16]


@given(credit_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(CREDIT_CODE_CHARSET))
def test_any_single_substitution_is_refused(code: str, position: int, replacement: str) -> None:
    mutated = code[:position] + replacement + code[position + 1 :]
    if mutated == code:
        return
    assert not is_valid_credit_code(mutated)
    # The final check character alone catches every substitution from the charset.
    assert credit_check_character(mutated[:17]) != mutated[17]


def test_single_substitution_proof() -> None:
    # Replacing value v by v' at position i moves the sum by w_i * (v' - v), with 0 < |v' - v| < 31.
    # 31 is prime and no weight is a multiple of 31, so the sum mod 31 always moves; the check value
    # 31 - (sum mod 31), with 31 -> 0, is a bijection on 0..30, so the check character always changes.
    for weight in WEIGHTS:
        assert weight % 31 != 0
        for delta in range(1, 31):
            assert (weight * delta) % 31 != 0
    assert len({(31 - s) % 31 for s in range(31)}) == 31
    assert len(set(CREDIT_CODE_CHARSET)) == 31


@given(st.text())
def test_random_text_only_raises_invalid_input(value: str) -> None:
    try:
        result = validate_credit_code(value)
    except InvalidInput as err:
        assert err.message and err.field == "credit_code"
    else:
        assert len(result) == 18


@given(st.text(alphabet=CREDIT_CODE_CHARSET + "iozsv- ", min_size=16, max_size=20))
def test_near_miss_text_agrees_with_is_valid(value: str) -> None:
    try:
        validate_credit_code(value)
    except InvalidInput:
        accepted = False
    else:
        accepted = True
    assert is_valid_credit_code(value) is accepted
