"""Breaking long Chinese names for buttons: nothing lost, no line opens with a closing bracket or a comma."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ui.widgets import wrapped

CLOSERS = "）)】」』，。、；：！？”’"


@given(st.text(alphabet="家庭收入情况声明承诺书（）、，。等A1", max_size=60), st.integers(min_value=2, max_value=20))
def test_wrapping_keeps_every_character_and_no_line_opens_with_a_closer(text: str, width: int) -> None:
    lines = wrapped(text, width).split("\n")
    assert "".join(lines) == text
    assert all(line and line[0] not in CLOSERS for line in lines[1:])


def test_a_lone_bracket_joins_the_line_before() -> None:
    assert wrapped("家庭收入情况声明（承诺书）", 12) == "家庭收入情况声明（承诺书）"
    assert wrapped("丧失劳动能力或生活自理能力相关证明（病历、诊断证明等）", 12).split("\n") == [
        "丧失劳动能力或生活自理能", "力相关证明（病历、诊断证", "明等）"]
