from decimal import Decimal

import pytest

from pipelines.normalize.textnorm import NotAnAmount, find_unit, parse_amount, to_yuan


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("104,733,480.93", Decimal("104733480.93")),
        ("2467944", Decimal("2467944")),
        ("1937217. 60", Decimal("1937217.60")),  # a space inside a number (H5)
        ("3000000.0 0", Decimal("3000000.00")),
        ("-", Decimal(0)),
        ("0.00", Decimal("0.00")),
        ("", None),
        ("   ", None),
        (None, None),
        ("4，000.00", Decimal("4000.00")),
    ],
)
def test_parse_amount(raw, expected):
    assert parse_amount(raw) == expected


def test_parse_amount_rejects_text():
    with pytest.raises(NotAnAmount):
        parse_amount("合计")


def test_wan_converts_exactly_to_the_fen():
    assert to_yuan(Decimal("10.27"), "万元") == Decimal("102700.00")
    assert to_yuan(Decimal("0.67"), "万元") == Decimal("6700.00")
    assert to_yuan(Decimal("2940.05"), "万元") == Decimal("29400500.00")
    assert to_yuan(Decimal("88951768.35"), "元") == Decimal("88951768.35")


@pytest.mark.parametrize(
    ("line", "unit"),
    [("单位：元", "元"), ("单位:万元", "万元"), ("金额单位：元", "元"), ("编制部门：上海市普陀区财政局 单位：元", "元"),
     ("收支预算表（万元）", "万元"), ("部门： 江苏省人大常委会办公厅 单位：万元", "万元"), ("预算单位：上海市闵行区教育学院", None)],
)  # fmt: skip
def test_find_unit(line, unit):
    assert find_unit(line) == unit
