"""The Identity value type: validation on construction, JSON contract, masking and leak-free repr."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.errors import InvalidInput
from kiosk_app.identity import (
    JSON_KEYS,
    LONG_TERM,
    REQUIRED_JSON_KEYS,
    CardType,
    Identity,
    Sex,
    ValidTo,
    make_id_number,
    manual_identity,
    mask_id_number,
)
from tests.identity.test_id_number import MAINLAND, TODAY, id_numbers

SUICHANG_MAN = make_id_number("331123", date(1956, 3, 8), 17)
SUICHANG_WOMAN = make_id_number("331123", date(1988, 11, 30), 24)
HK_PERMIT = make_id_number("810000", date(1990, 5, 1), 33)
FOREIGN_2023 = make_id_number("933156", date(1985, 7, 9), 12)

SEXES: list[Sex] = ["男", "女"]
ADDRESSES = ["浙江省丽水市遂昌县妙高街道北街1号", "浙江省丽水市莲都区碧湖镇", "", "香港特别行政区"]
AUTHORITIES = ["遂昌县公安局", "丽水市公安局莲都分局", "", "国家移民管理局"]
NATIONS = ["汉", "畲", "回"]
_USED = frozenset("".join(ADDRESSES + AUTHORITIES + NATIONS) + "男女")
names = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF).filter(lambda c: c not in _USED),
    min_size=1,
    max_size=64,
)


def resident(**changes: Any) -> Identity:
    fields: dict[str, Any] = {
        "name": "张三",
        "sex": "男",
        "nation": "畲",
        "birth_date": date(1956, 3, 8),
        "address": ADDRESSES[0],
        "id_number": SUICHANG_MAN,
        "authority": AUTHORITIES[0],
        "valid_from": date(2016, 5, 3),
        "valid_to": LONG_TERM,
        "card_type": CardType.RESIDENT,
        "phone": "13812345678",
    }
    fields.update(changes)
    return Identity(**fields)


@st.composite
def identities(draw: st.DrawFn) -> Identity:
    card_type = draw(st.sampled_from(CardType))
    if card_type is CardType.RESIDENT:
        number = draw(id_numbers(MAINLAND))
    elif card_type is CardType.HKMOTW_PERMIT:
        number = draw(id_numbers(["81", "82", "83"]))
    elif card_type is CardType.FOREIGN_PERMANENT:
        number = draw(
            st.one_of(
                id_numbers([f"9{d}" for d in range(10)]),
                st.from_regex(r"[A-Z]{3}[0-9]{12}", fullmatch=True),
            )
        )
    else:
        number = draw(id_numbers())
    if len(number) == 18:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        sex: Sex = "男" if int(number[16]) % 2 else "女"
    else:
        birth = draw(st.dates(min_value=date(1890, 1, 1), max_value=TODAY))
        sex = draw(st.sampled_from(SEXES))
    valid_from = draw(st.none() | st.dates(min_value=date(1990, 1, 1), max_value=TODAY))
    later = st.dates(min_value=valid_from or date(1990, 1, 1), max_value=date(2060, 12, 31))
    long_term: st.SearchStrategy[ValidTo] = st.just(LONG_TERM)
    valid_to = draw(st.none() | long_term | later)
    phone = draw(
        st.none()
        | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
        | st.from_regex(r"0[0-9]{2,3}-[0-9]{7,8}", fullmatch=True)
    )
    nation_choices = NATIONS if card_type is CardType.RESIDENT else ["", *NATIONS]
    return Identity(
        name=draw(names),
        sex=sex,
        nation=draw(st.sampled_from(nation_choices)),
        birth_date=birth,
        address=draw(st.sampled_from(ADDRESSES)),
        id_number=number,
        authority=draw(st.sampled_from(AUTHORITIES)),
        valid_from=valid_from,
        valid_to=valid_to,
        card_type=card_type,
        phone=phone,
        photo=draw(st.none() | st.binary(max_size=1024)),
    )


def refusal(field: str, **changes: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        resident(**changes)
    assert caught.value.field == field, caught.value.message
    return caught.value


def json_refusal(field: str | None, data: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        Identity.from_json_dict(data)
    assert caught.value.field == field, caught.value.message
    return caught.value


# --- construction and rules -------------------------------------------------------------------------------


def test_known_person() -> None:
    person = resident()
    assert person.id_number == "331123195603080178"
    assert person.to_json_dict() == {
        "name": "张三",
        "sex": "男",
        "nation": "畲",
        "birth_date": "1956-03-08",
        "address": "浙江省丽水市遂昌县妙高街道北街1号",
        "id_number": "331123195603080178",
        "authority": "遂昌县公安局",
        "valid_from": "2016-05-03",
        "valid_to": "长期",
        "card_type": "resident",
        "phone": "13812345678",
    }


def test_normalises_text_number_and_phone() -> None:
    person = resident(
        name=" 张三 ", id_number=" 331123 19560308 0178", phone=" 138 1234 5678 ", address=" 遂昌 "
    )
    assert (person.name, person.id_number, person.phone, person.address) == (
        "张三",
        SUICHANG_MAN,
        "13812345678",
        "遂昌",
    )
    assert resident(phone="").phone is None
    assert resident(card_type="resident").card_type is CardType.RESIDENT  # plain strings are accepted


def test_manual_identity_derives_sex_and_birth() -> None:
    person = manual_identity("李四", SUICHANG_WOMAN, address="遂昌县金竹镇", phone="0578-8123456")
    assert person.card_type is CardType.MANUAL
    assert person.sex == "女"
    assert person.birth_date == date(1988, 11, 30)
    assert person.nation == "汉"
    assert person.valid_from is None and person.valid_to is None
    with pytest.raises(InvalidInput) as caught:
        manual_identity("李四", SUICHANG_WOMAN[:17] + "0")
    assert caught.value.field == "id_number"


def test_birth_date_must_match_number() -> None:
    assert "不一致" in refusal("birth_date", birth_date=date(1956, 3, 9)).message


def test_sex_must_match_parity() -> None:
    assert "不一致" in refusal("sex", sex="女").message
    refusal("sex", sex="M")


@pytest.mark.parametrize("name", ["", "   ", "张" * 65, "张\n三", "张\u202e三", "张\x00"])
def test_name_rules(name: str) -> None:
    refusal("name", name=name)


def test_name_accepts_rare_characters_and_middle_dot() -> None:
    assert resident(name="\ue000三").name == "\ue000三"  # private-use rare character from an old register
    assert resident(name="𠀀").name == "𠀀"
    assert resident(name="阿卜杜拉·买买提").name == "阿卜杜拉·买买提"
    assert resident(name="张" * 64).name == "张" * 64


@pytest.mark.parametrize(
    "phone", ["1381234567", "12812345678", "+8613812345678", "8123456", "0578_8123456", "电话"]
)
def test_phone_rules(phone: str) -> None:
    refusal("phone", phone=phone)


@pytest.mark.parametrize(
    "phone", ["13812345678", "19912345678", "0578-8123456", "010-12345678", "05788123456"]
)
def test_phone_accepted(phone: str) -> None:
    assert resident(phone=phone).phone == phone


def test_validity_dates() -> None:
    refusal("valid_to", valid_from=date(2020, 1, 2), valid_to=date(2020, 1, 1))
    assert resident(valid_from=date(2020, 1, 1), valid_to=date(2020, 1, 1)).valid_to == date(2020, 1, 1)
    refusal("valid_to", valid_to="永久")
    refusal("valid_from", valid_from="2020-01-01")


def test_resident_needs_nation_others_may_not() -> None:
    refusal("nation", nation="")
    assert resident(card_type=CardType.MANUAL, nation="").nation == ""


def test_card_type_rules() -> None:
    refusal("card_type", card_type="passport")
    refusal("id_number", id_number=HK_PERMIT, birth_date=date(1990, 5, 1), sex="男")
    refusal("id_number", card_type=CardType.HKMOTW_PERMIT)
    refusal("id_number", card_type=CardType.FOREIGN_PERMANENT)
    refusal("id_number", id_number=FOREIGN_2023, birth_date=date(1985, 7, 9), sex="女")
    permit = resident(
        card_type=CardType.HKMOTW_PERMIT, id_number=HK_PERMIT, birth_date=date(1990, 5, 1), nation=""
    )
    assert permit.id_number.startswith("81")
    social = resident(card_type=CardType.SOCIAL_SECURITY, id_number=HK_PERMIT, birth_date=date(1990, 5, 1))
    assert social.card_type is CardType.SOCIAL_SECURITY


def test_foreign_permanent_forms() -> None:
    new = resident(
        card_type=CardType.FOREIGN_PERMANENT, id_number=FOREIGN_2023, birth_date=date(1985, 7, 9), sex="女"
    )
    assert new.id_number == FOREIGN_2023
    old = resident(card_type=CardType.FOREIGN_PERMANENT, id_number="usa 123456789012", nation="")
    assert old.id_number == "USA123456789012"
    msg = refusal("id_number", card_type=CardType.FOREIGN_PERMANENT, id_number="US1234567890123").message
    assert "2017" in msg


def test_birth_date_bounds() -> None:
    person = resident(card_type=CardType.FOREIGN_PERMANENT, id_number="USA123456789012")
    with pytest.raises(InvalidInput) as caught:
        person.validate(today=date(1950, 1, 1))
    assert caught.value.field == "birth_date"
    refusal(
        "birth_date",
        card_type=CardType.FOREIGN_PERMANENT,
        id_number="USA123456789012",
        birth_date=date(1889, 12, 31),
    )
    refusal("birth_date", birth_date="1956-03-08")
    refusal("birth_date", birth_date=19560308)


def test_validate_with_earlier_today_refuses_number_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        resident().validate(today=date(1956, 3, 7))
    assert caught.value.field in {"birth_date", "id_number"}
    resident().validate(today=TODAY)


def test_replace_revalidates_and_frozen() -> None:
    person = resident()
    with pytest.raises(InvalidInput):
        dataclasses.replace(person, sex="女")
    with pytest.raises(dataclasses.FrozenInstanceError):
        person.name = "王五"  # type: ignore[misc]


def test_photo_is_kept_but_never_serialised_shown_or_compared() -> None:
    photo = b"WLT" + bytes(1021)
    person = resident(photo=bytearray(photo))
    assert person.photo == photo and isinstance(person.photo, bytes)
    assert "photo" not in person.to_json_dict()
    assert "WLT" not in repr(person)
    assert person == resident()
    assert hash(person) == hash(resident())
    refusal("photo", photo="not bytes")


# --- JSON -------------------------------------------------------------------------------------------------


def test_from_json_refuses_unknown_and_missing_keys() -> None:
    good = resident().to_json_dict()
    json_refusal("photo", {**good, "photo": "abc"})
    json_refusal("extra", {**good, "extra": 1})
    for key in sorted(REQUIRED_JSON_KEYS):
        data = dict(good)
        del data[key]
        assert key in json_refusal(key, data).message
    json_refusal(None, ["not", "a", "dict"])


def test_from_json_optional_keys_default() -> None:
    minimal = {k: v for k, v in resident().to_json_dict().items() if k in REQUIRED_JSON_KEYS}
    minimal["card_type"] = "manual"
    person = Identity.from_json_dict(minimal)
    assert person.address == "" and person.phone is None and person.valid_to is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("birth_date", "19560308"),
        ("birth_date", "1956-02-30"),
        ("birth_date", None),
        ("birth_date", 19560308),
        ("valid_from", "2016-5-3"),
        ("valid_to", "2036-13-01"),
        ("valid_to", 5),
        ("card_type", "passport"),
        ("card_type", 1),
        ("sex", "male"),
        ("sex", ["男"]),
        ("name", None),
        ("name", 123),
        ("phone", 13812345678),
        ("nation", None),
        ("id_number", 331123195603080178),
    ],
)
def test_from_json_type_and_format_errors(key: str, value: Any) -> None:
    data = resident().to_json_dict()
    data[key] = value
    json_refusal(key, data)


@given(identities())
def test_json_round_trip_preserves_everything(person: Identity) -> None:
    data = person.to_json_dict()
    assert list(data) == list(JSON_KEYS)
    wire = json.loads(json.dumps(data, ensure_ascii=False))
    again = Identity.from_json_dict(wire)
    assert again == person
    assert again.to_json_dict() == data
    assert again.photo is None


@given(identities())
def test_masked_json_hides_number_and_name(person: Identity) -> None:
    masked = person.to_json_dict(masked=True)
    assert list(masked) == list(JSON_KEYS)
    text = json.dumps(masked, ensure_ascii=False)
    assert person.id_number not in text
    assert person.name not in text
    assert masked["birth_date"] == f"{person.birth_date.year:04d}-**-**"
    if person.phone:
        assert person.phone not in text
    assert masked["id_number"] == mask_id_number(person.id_number)


@given(identities())
def test_repr_and_str_never_leak(person: Identity) -> None:
    for shown in (repr(person), str(person), f"{person}", repr([person])):
        assert person.id_number not in shown
        assert person.name not in shown
        assert person.birth_date.isoformat() not in shown


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@given(st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=12), json_values, max_size=14))
def test_random_dicts_only_raise_invalid_input(data: dict[str, Any]) -> None:
    try:
        Identity.from_json_dict(data)
    except InvalidInput as err:
        assert err.message


@given(identities(), st.sampled_from(JSON_KEYS), json_values)
def test_one_corrupted_value_only_raises_invalid_input(person: Identity, key: str, value: Any) -> None:
    data = person.to_json_dict()
    data[key] = value
    try:
        again = Identity.from_json_dict(data)
    except InvalidInput as err:
        assert err.field == key or err.field in JSON_KEYS
    else:
        assert list(again.to_json_dict()) == list(JSON_KEYS)


def test_long_term_and_dates_round_trip() -> None:
    for valid_to in (LONG_TERM, date(2036, 5, 3), None):
        person = resident(valid_to=valid_to)
        assert Identity.from_json_dict(person.to_json_dict()).valid_to == valid_to


def test_birth_in_future_refused_from_json() -> None:
    tomorrow = date.today() + timedelta(days=1)
    data = resident(card_type=CardType.FOREIGN_PERMANENT, id_number="USA123456789012").to_json_dict()
    data["birth_date"] = tomorrow.isoformat()
    json_refusal("birth_date", data)
