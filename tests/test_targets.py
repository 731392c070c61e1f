"""The 目标值 parser (pipelines/normalize/targets.py) on every distinct target string of the seeds.

TARGET_VALUES is the table of ../shared/target-values.md (DOMAIN.md §3.3) written out here: the
printed string, how many rows print it in the Shanghai seeds (003 + 004) and in the Suzhou seeds
(000 + 002), and how it must parse: kind, operator (with the glyph or phrase it comes from), value,
unit, value × multiplier, text.
"""

from decimal import Decimal

import pytest

from pipelines.normalize.targets import COMPOSITE, EMPTY, NUMERIC, TEXT, parse_target, split_indicator_cell

# (raw, SH rows, SZ rows, kind, op, op_raw, value, unit, value × multiplier, text)
TARGET_VALUES = [
    ("=100.00%", 97, 0, "NUMERIC", "=", None, "100.00", "%", None, None),
    ("及时", 58, 2, "TEXT", None, None, None, None, None, "及时"),
    ("", 22, 0, "EMPTY", None, None, None, None, None, None),
    ("≥90.00%", 18, 0, "NUMERIC", "≥", None, "90.00", "%", None, None),
    ("建立健全", 18, 0, "TEXT", None, None, None, None, None, "建立健全"),
    ("≥95.00%", 11, 0, "NUMERIC", "≥", None, "95.00", "%", None, None),
    ("》 90%", 10, 0, "NUMERIC", "≥", "》", "90", "%", None, None),
    ("提升", 9, 0, "TEXT", None, None, None, None, None, "提升"),
    ("100%", 2, 5, "NUMERIC", None, None, "100", "%", None, None),
    ("=85%", 0, 6, "NUMERIC", "=", None, "85", "%", None, None),
    ("≥85.00%", 6, 0, "NUMERIC", "≥", None, "85.00", "%", None, None),
    ("=100%", 0, 5, "NUMERIC", "=", None, "100", "%", None, None),
    ("》95%", 5, 0, "NUMERIC", "≥", "》", "95", "%", None, None),
    ("制定", 0, 5, "TEXT", None, None, None, None, None, "制定"),
    ("≥80.00%", 4, 0, "NUMERIC", "≥", None, "80.00", "%", None, None),
    ("》90%", 4, 0, "NUMERIC", "≥", "》", "90", "%", None, None),
    ("相符", 4, 0, "TEXT", None, None, None, None, None, "相符"),
    ("=80%", 0, 3, "NUMERIC", "=", None, "80", "%", None, None),
    ("健全", 0, 3, "TEXT", None, None, None, None, None, "健全"),
    ("规范", 0, 3, "TEXT", None, None, None, None, None, "规范"),
    ("=1.00", 2, 0, "NUMERIC", "=", None, "1.00", None, None, None),
    ("=1.00门", 2, 0, "NUMERIC", "=", None, "1.00", "门", None, None),
    ("=50.00名", 2, 0, "NUMERIC", "=", None, "50.00", "人", None, None),
    ("≤24.00小时", 2, 0, "NUMERIC", "≤", None, "24.00", "小时", None, None),
    ("≥4.00次", 2, 0, "NUMERIC", "≥", None, "4.00", "次", None, None),
    ("≥75.00%", 2, 0, "NUMERIC", "≥", None, "75.00", "%", None, None),
    ("及时性", 2, 0, "TEXT", None, None, None, None, None, "及时"),
    ("合规", 0, 2, "TEXT", None, None, None, None, None, "合规"),
    ("安全", 2, 0, "TEXT", None, None, None, None, None, "安全"),
    ("完成", 0, 2, "TEXT", None, None, None, None, None, "完成"),
    ("有提升", 2, 0, "TEXT", None, None, None, None, None, "提升"),
    ("清晰", 2, 0, "TEXT", None, None, None, None, None, "清晰"),
    ("稳定", 2, 0, "TEXT", None, None, None, None, None, "稳定"),
    ("0", 1, 0, "NUMERIC", None, None, "0", None, None, None),
    ("11间", 1, 0, "NUMERIC", None, None, "11", "间", None, None),
    ("15%及其以下", 0, 1, "NUMERIC", "≤", "及其以下", "15", "%", None, None),
    ("15所", 1, 0, "NUMERIC", None, None, "15", "所", None, None),
    ("1700节", 0, 1, "NUMERIC", None, None, "1700", "节", None, None),
    ("1份", 1, 0, "NUMERIC", None, None, "1", "份", None, None),
    ("20所学校+40BYOD", 1, 0, "COMPOSITE", None, None, None, None, None, "20所学校+40BYOD"),
    ("22所学校+15BYOD", 1, 0, "COMPOSITE", None, None, None, None, None, "22所学校+15BYOD"),
    ("4次", 1, 0, "NUMERIC", None, None, "4", "次", None, None),
    ("7000节", 0, 1, "NUMERIC", None, None, "7000", "节", None, None),
    ("85%", 1, 0, "NUMERIC", None, None, "85", "%", None, None),
    ("95所", 1, 0, "NUMERIC", None, None, "95", "所", None, None),
    ("=10240.00", 1, 0, "NUMERIC", "=", None, "10240.00", None, None, None),
    ("=13.00", 1, 0, "NUMERIC", "=", None, "13.00", None, None, None),
    ("=13.00所学校", 1, 0, "NUMERIC", "=", None, "13.00", "所", None, None),
    ("=13689.00", 1, 0, "NUMERIC", "=", None, "13689.00", None, None, None),
    ("=15000.00 名", 1, 0, "NUMERIC", "=", None, "15000.00", "人", None, None),
    ("=16个", 0, 1, "NUMERIC", "=", None, "16", "个", None, None),
    ("=16所", 0, 1, "NUMERIC", "=", None, "16", "所", None, None),
    ("=2.00", 1, 0, "NUMERIC", "=", None, "2.00", None, None, None),
    ("=2.00级", 1, 0, "NUMERIC", "=", None, "2.00", "级", None, None),
    ("=20.00所", 1, 0, "NUMERIC", "=", None, "20.00", "所", None, None),
    ("=2000人", 0, 1, "NUMERIC", "=", None, "2000", "人", None, None),
    ("=25000.00", 1, 0, "NUMERIC", "=", None, "25000.00", None, None, None),
    ("=30.00", 1, 0, "NUMERIC", "=", None, "30.00", None, None, None),
    ("=3个", 0, 1, "NUMERIC", "=", None, "3", "个", None, None),
    ("=40.00名", 1, 0, "NUMERIC", "=", None, "40.00", "人", None, None),
    ("=4场", 0, 1, "NUMERIC", "=", None, "4", "场", None, None),
    ("=5000.00", 1, 0, "NUMERIC", "=", None, "5000.00", None, None, None),
    ("=5个", 0, 1, "NUMERIC", "=", None, "5", "个", None, None),
    ("=6.00所学校", 1, 0, "NUMERIC", "=", None, "6.00", "所", None, None),
    ("=6场", 0, 1, "NUMERIC", "=", None, "6", "场", None, None),
    ("=7个", 0, 1, "NUMERIC", "=", None, "7", "个", None, None),
    ("=80.00名", 1, 0, "NUMERIC", "=", None, "80.00", "人", None, None),
    ("=80万", 0, 1, "NUMERIC", "=", None, "80", "万", "800000", None),
    ("=89.00所", 1, 0, "NUMERIC", "=", None, "89.00", "所", None, None),
    ("=95%", 0, 1, "NUMERIC", "=", None, "95", "%", None, None),
    ("≤3.00次/年", 1, 0, "NUMERIC", "≤", None, "3.00", "次/年", None, None),
    ("≤5.00%", 1, 0, "NUMERIC", "≤", None, "5.00", "%", None, None),
    ("≥1.00名", 1, 0, "NUMERIC", "≥", None, "1.00", "人", None, None),
    ("≥40.00%", 1, 0, "NUMERIC", "≥", None, "40.00", "%", None, None),
    ("信息化促进教师专业发展", 1, 0, "TEXT", None, None, None, None, None, "信息化促进教师专业发展"),
    ("充分", 0, 1, "TEXT", None, None, None, None, None, "充分"),
    ("区域优秀资源共享", 1, 0, "TEXT", None, None, None, None, None, "区域优秀资源共享"),
    ("展示", 1, 0, "TEXT", None, None, None, None, None, "展示"),
    ("建立", 1, 0, "TEXT", None, None, None, None, None, "建立"),
    ("有效", 1, 0, "TEXT", None, None, None, None, None, "有效"),
]


def test_the_table_is_complete():
    """target-values.md counts 323 Shanghai rows (315 in 003 + 8 in 004) and 50 Suzhou rows (20 + 30)."""
    assert sum(r[1] for r in TARGET_VALUES) == 323
    assert sum(r[2] for r in TARGET_VALUES) == 50
    assert len({r[0] for r in TARGET_VALUES}) == len(TARGET_VALUES)


@pytest.mark.parametrize(
    ("raw", "kind", "op", "op_raw", "value", "unit", "scaled", "text"),
    [(r[0], *r[3:]) for r in TARGET_VALUES],
    ids=[r[0] or "(empty)" for r in TARGET_VALUES],
)
def test_every_seed_target_parses_as_the_table_says(raw, kind, op, op_raw, value, unit, scaled, text):
    t = parse_target(raw)
    assert t.kind == kind
    assert t.op == op
    if op_raw is not None:
        assert t.op_raw == op_raw
    assert t.value == (Decimal(value) if value is not None else None)
    if value is not None:
        assert str(t.value) == value  # the printed precision is kept: "100.00" stays 100.00
    assert t.unit == unit
    if scaled is not None:
        assert t.scaled_value == Decimal(scaled)
    else:
        assert t.multiplier is None
    assert (t.text if kind in (TEXT, COMPOSITE) else None) == text


@pytest.mark.parametrize(
    ("raw", "kind", "op", "op_raw", "value", "unit", "text"),
    [
        # LaTeX residue of the 2020 forms (003:L2094 prints "每年巡检次数 $\geq 4$ 次")
        ("$\\geq 4$ 次", NUMERIC, "≥", "\\geq", "4", "次", None),
        ("$\\leq 3$", NUMERIC, "≤", "\\leq", "3", None, None),
        # Putuo 绩效目标填报表 (万里街道 2023, p.31-35): units in brackets, operator words, qualifiers
        ("≥13459.00(平方米)", NUMERIC, "≥", "≥", "13459.00", "平方米", None),
        ("=100.00(%)", NUMERIC, "=", "=", "100.00", "%", None),
        (">150.00(家)", NUMERIC, ">", ">", "150.00", "家", None),
        ("不低于50%", NUMERIC, "≥", "不低于", "50", "%", None),
        ("补贴对象生活改善度不低于80%", NUMERIC, "≥", "不低于", "80", "%", "补贴对象生活改善度"),
        ("可控性100%", NUMERIC, None, None, "100", "%", "可控性"),
        ("90.00(度)", NUMERIC, None, None, "90.00", "度", None),
        ("至少1次矫正人员的集中活动", TEXT, None, None, None, None, "至少1次矫正人员的集中活动"),
        ("慰问人数不少于100人,宣传用品不少于20000份", COMPOSITE, None, None, None, None,
         "慰问人数不少于100人,宣传用品不少于20000份"),
        # 西南大学 2023 项目绩效目标表
        ("27台、件、套", NUMERIC, None, None, "27", "台、件、套", None),
        ("2023年12月30 日内", TEXT, None, None, None, None, "2023年12月30日内"),
        ("显著提升", TEXT, None, None, None, None, "显著提升"),
        # other operator spellings
        ("＞＝90%", NUMERIC, "≥", ">=", "90", "%", None),
        ("95%以上", NUMERIC, "≥", "以上", "95", "%", None),
        ("-", EMPTY, None, None, None, None, None),
    ],
)  # fmt: skip
def test_other_printed_forms(raw, kind, op, op_raw, value, unit, text):
    t = parse_target(raw)
    assert (t.kind, t.op, t.op_raw, t.unit, t.text) == (kind, op, op_raw, unit, text)
    assert t.value == (Decimal(value) if value is not None else None)


def test_wan_is_a_multiplier_not_a_unit_of_its_own():
    t = parse_target("=5.00(万人次)")  # Putuo 万里街道 2023 p.34, 中心全年活动人次
    assert (t.value, t.multiplier, t.scaled_value, t.unit) == (Decimal("5.00"), 10000, Decimal("50000.00"), "万人次")
    assert parse_target("1000.00万元").multiplier is None  # 万元 is a money unit (西南大学 p.20)


@pytest.mark.parametrize(
    ("cell", "parts"),
    [
        # 003:L739, one cell for three indicators
        ("见习教 师规范化 培训参与 率；培训 模块覆盖 率；区级 基地年检 覆盖率",
         ["见习教 师规范化 培训参与 率", "培训 模块覆盖 率", "区级 基地年检 覆盖率"]),
        # 004:L47, numbered
        ("1、闵行区电子书包项目第四阶段运维验收合格率 2、闵行区电子书包项目第四阶段建设验收合格率",
         ["闵行区电子书包项目第四阶段运维验收合格率", "闵行区电子书包项目第四阶段建设验收合格率"]),
        # 004:L46, two names of the same project side by side
        ("闵行区电子书包项目第四阶段运维完成率 闵行区电子书包项目第四阶段建设完成率",
         ["闵行区电子书包项目第四阶段运维完成率", "闵行区电子书包项目第四阶段建设完成率"]),
        # line-wrap spaces inside one name do not split it (003:L737)
        ("参训全 区在编在 岗教师数 量", ["参训全 区在编在 岗教师数 量"]),
        ("修复故障时间", ["修复故障时间"]),
    ],
)  # fmt: skip
def test_split_indicator_cell(cell, parts):
    assert split_indicator_cell(cell) == parts
