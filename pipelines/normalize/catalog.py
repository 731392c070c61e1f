"""Domain vocabularies: the 类 of 支出功能分类 by name, measures by column header, 三公 items.

The 类 list is domain knowledge (政府收支分类科目; names drift across years, so several names map to
one code). Ordinals (一、二、…) are never used as keys: the same ordinal means different 类 in
different years.
"""

from __future__ import annotations

import re

# 类 code → the names it has been printed under (current name first).
FUNC_CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "201": ("一般公共服务支出",),
    "202": ("外交支出",),
    "203": ("国防支出",),
    "204": ("公共安全支出",),
    "205": ("教育支出",),
    "206": ("科学技术支出",),
    "207": ("文化旅游体育与传媒支出", "文化体育与传媒支出"),
    "208": ("社会保障和就业支出",),
    "209": ("社会保险基金支出",),
    "210": ("卫生健康支出", "医疗卫生与计划生育支出", "医疗卫生支出"),
    "211": ("节能环保支出",),
    "212": ("城乡社区支出", "城乡社区事务支出"),
    "213": ("农林水支出", "农林水事务支出"),
    "214": ("交通运输支出",),
    "215": ("资源勘探工业信息等支出", "资源勘探信息等支出", "资源勘探电力信息等支出"),
    "216": ("商业服务业等支出",),
    "217": ("金融支出", "金融监管等事务支出"),
    "219": ("援助其他地区支出",),
    "220": ("自然资源海洋气象等支出", "国土海洋气象等支出"),
    "221": ("住房保障支出",),
    "222": ("粮油物资储备支出", "粮油物资储备管理事务支出"),
    "223": ("国有资本经营预算支出",),
    "224": ("灾害防治及应急管理支出",),
    "227": ("预备费",),
    "229": ("其他支出",),
    "230": ("转移性支出",),
    "231": ("债务还本支出",),
    "232": ("债务付息支出",),
    "233": ("债务发行费用支出",),
    "234": ("抗疫特别国债安排的支出",),
}

_NAME_TO_CLASS = {name: code for code, names in FUNC_CLASS_NAMES.items() for name in names}
_ORDINAL = re.compile(r"^[（(]?[一二三四五六七八九十百]+[）)、.．]|^\d+[、.．]")


def strip_ordinal(label: str) -> str:
    return _ORDINAL.sub("", label)


def func_class_for_label(label: str) -> str | None:
    """The 类 code of a 收支总表 row label such as ``四、教育支出``, ``5、教育`` or the truncated
    ``十六、自然资源海洋气`` (a unique prefix of four or more characters is accepted)."""
    name = strip_ordinal(label)
    if not name:
        return None
    if name in _NAME_TO_CLASS:
        return _NAME_TO_CLASS[name]
    if name + "支出" in _NAME_TO_CLASS:
        return _NAME_TO_CLASS[name + "支出"]  # 西安 prints the 类 without 支出: 5、教育, 3、国防
    if len(name) >= 4:
        hits = {code for full, code in _NAME_TO_CLASS.items() if full.startswith(name)}
        if len(hits) == 1:
            return hits.pop()
    return None


def func_class_name(code: str) -> str:
    return FUNC_CLASS_NAMES.get(code, ("",))[0]


# ---------------------------------------------------------------------------------------------
# Measures by column header (budget and 决算 tables)

_GENERIC_TOTAL = re.compile(
    r"^(合计|小计|总计|金额|预算数|决算数|年初预算数|全年预算数|本年预算数|本年预算|预算|预算金额|本年收入合计|本年支出合计|"
    r"收入预算|支出预算|收入合计|支出合计|收入总计|支出总计|本年收入|本年支出|支出|收入|财政拨款支出)$"
)
_MEASURES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"人员经费|人员支出"), "PERSONNEL"),
    (re.compile(r"公用经费|公用支出"), "PUBLIC"),
    (re.compile(r"^基本支出"), "BASIC"),
    (re.compile(r"^项目支出|^专项业务经费"), "PROJECT"),  # 陕西/西安: 专项业务经费(支出) is the 项目 column
    (re.compile(r"上缴上级支出"), "EXP_TO_UPPER"),
    (re.compile(r"^经营支出"), "EXP_OPERATING"),
    (re.compile(r"对附属单位补助支出|对下级单位补助支出"), "EXP_AFFILIATE"),
    (
        re.compile(r"^(本级)?(财政拨款收入|财政拨款|财政拨款\(补助\)收入|财政拨款（补助）收入|财政拨款合计)$"),
        "GRANT_TOTAL",
    ),
    (re.compile(r"^一般公共预算(资金|拨款|财政拨款)?(收入)?$"), "GRANT_GPB"),
    (re.compile(r"^政府性基金(预算)?(资金|拨款|财政拨款)?(收入)?$"), "GRANT_GOVFUND"),
    (re.compile(r"^国有资本经营预算(资金|拨款|财政拨款)?(收入)?$"), "GRANT_SOE"),
    (re.compile(r"^(事业单位)?经营收入$"), "INC_OPERATING"),
    (re.compile(r"^事业收入"), "INC_BUSINESS"),
    (re.compile(r"^上级补助收入"), "INC_UPPER"),
    (re.compile(r"^附属单位(上缴)?收入|^附属单位缴款"), "INC_AFFILIATE"),
    (re.compile(r"^其[他它]收入"), "INC_OTHER"),
    (re.compile(r"^(年初|上年)(财政拨款)?结转和结余|^上年结转|^上年结余"), "CARRY_IN"),
    (re.compile(r"^年末(财政拨款)?结转和结余|^结转下年"), "CARRY_OUT"),
    (re.compile(r"^使用非财政拨款结余"), "USE_NON_GRANT_BALANCE"),
    (re.compile(r"^结余分配"), "BALANCE_DISTRIBUTION"),
]

BUDGET_MEASURES = {
    "TOTAL", "BASIC", "PERSONNEL", "PUBLIC", "PROJECT", "GRANT_TOTAL", "GRANT_GPB", "GRANT_GOVFUND", "GRANT_SOE",
    "INC_BUSINESS", "INC_OPERATING", "INC_UPPER", "INC_AFFILIATE", "INC_OTHER",
    "EXP_TO_UPPER", "EXP_OPERATING", "EXP_AFFILIATE", "CARRY_IN", "CARRY_OUT",
}  # fmt: skip

# 决算 tables add the uses of the year's balance (DOMAIN.md §1.3, §5.1).
FINAL_MEASURES = BUDGET_MEASURES | {"USE_NON_GRANT_BALANCE", "BALANCE_DISTRIBUTION"}


def _specific_measure(label: str) -> str | None:
    for pattern, measure in _MEASURES:
        if pattern.search(label):
            return measure
    return None


UNMAPPED = "UNMAPPED"  # a printed amount column with no measure in the contract (使用非财政拨款结余 …)


# 深圳 支出总表: ``2026年政府采购项目 | 小计 | 其中：…中小企业`` beside the expenditure columns says how much
# of the row is bought through 政府采购; 北京 预算05 ``项目支出 | 项目支出总数 | 扣除基建项目后预算数`` restates
# the 项目 column without its 基建 part: memos on the row, never addends of its total.
_MEMO_COLUMN = re.compile(r"政府采购|^扣除")


def is_sub_column(path: tuple[str, ...]) -> bool:
    """``其中：…`` columns break down a sibling column, memo columns (政府采购) restate a part of the
    row: neither is an addend of a row total."""
    return any(e.startswith("其中") or _MEMO_COLUMN.search(e) for e in path)


def measure_for_path(path: tuple[str, ...]) -> str | None:
    """The measure of an amount column. The leaf label decides; a generic leaf (合计, 金额,
    预算数…) takes its parent's meaning (事业收入/金额 → INC_BUSINESS), else it is the TOTAL.
    ``其中：…`` sub-columns and unknown columns return None (not loaded)."""
    if not path or any(_MEMO_COLUMN.search(e) for e in path):
        return None
    for depth, element in enumerate(reversed(path)):
        if element.startswith("其中"):
            return None
        specific = _specific_measure(element)
        if specific and specific.startswith("GRANT_") and _under_carry_over(path[: len(path) - depth - 1]):
            return None  # 上年结转结余 / 一般公共预算: last year's balance by fund, a part of CARRY_IN
        if specific:
            return specific
        if not _GENERIC_TOTAL.match(_strip_year(element)):
            # an unknown specific label (单位预留机动经费, 教育收费…) is not a measure we load
            return None if element == path[-1] else "TOTAL"
    return "TOTAL"


def is_carry_over_part(path: tuple[str, ...]) -> bool:
    """上年结转结余 / 一般公共预算 …: last year's balance by fund, a part of the 上年结转 column beside it,
    never an addend of the row's total of its own."""
    return any(
        (_specific_measure(e) or "").startswith("GRANT_") and _under_carry_over(path[:i]) for i, e in enumerate(path)
    )


def _under_carry_over(parents: tuple[str, ...]) -> bool:
    return any(_specific_measure(p) == "CARRY_IN" for p in parents)


def _strip_year(text: str) -> str:
    return re.sub(r"^\d{4}年(度)?", "", text)


def stage_for_path(path: tuple[str, ...], default: str) -> str:
    joined = "".join(path)
    if "决算" in joined:
        return "FINAL"
    if re.search(r"全年预算|调整预算|调整后预算", joined):
        return "BUDGET_ADJUSTED"
    if re.search(r"年初预算|预算数", joined):
        return "BUDGET_INITIAL"
    return default


# ---------------------------------------------------------------------------------------------
# 三公 items

THREE_PUBLIC_ITEMS = (
    "TOTAL", "OUTBOUND", "RECEPTION", "VEHICLE_TOTAL", "VEHICLE_PURCHASE", "VEHICLE_OPERATION", "ORG_RUNNING_COST",
)  # fmt: skip


_GPB_FUND = re.compile(r"^一般公共预算(拨款|资金)?$")
_OTHER_FUND = re.compile(r"^(政府性基金|国有资本经营)(预算)?(拨款|资金)?$")
_STAGE_WORDS = re.compile(r"^(预算数|决算数|年初预算数|全年预算数|调整预算数|预算|决算)$")


def three_public_item(path: tuple[str, ...], has_three_public_subtotal: bool) -> str | None:
    """Map a 三公 table column to its item by header text (never by position: 预算 B9 and
    决算 F7 order their columns differently)."""
    joined = "".join(path)
    if "机关运行经费" in joined:
        return "ORG_RUNNING_COST"
    elements = [_strip_year(e) for e in path]
    for i in range(len(elements) - 1, -1, -1):
        e = elements[i]
        if _STAGE_WORDS.match(e):
            continue
        if i and _OTHER_FUND.match(e):
            return None  # 三公 paid from 政府性基金 / 国有资本经营预算 (深圳 表9): the facts are of 一般公共预算
        if i and _GPB_FUND.match(e):
            continue  # an item's 一般公共预算 column: the item itself
        if re.search(r"会议费|培训费", e):
            return None
        if "因公出国" in e:
            return "OUTBOUND"
        if "公务接待" in e:
            return "RECEPTION"
        if "购置" in e and "运行" in e:
            return "VEHICLE_TOTAL"
        if "购置" in e:
            return "VEHICLE_PURCHASE"
        if "运行" in e:
            return "VEHICLE_OPERATION"
        if _GENERIC_TOTAL.match(e):
            for parent in reversed(elements[:i]):
                if "购置" in parent and "运行" in parent:
                    return "VEHICLE_TOTAL"
                if "三公" in parent:
                    return "TOTAL"
            # A bare 合计 beside 会议费/培训费 adds them in: it is the 三公 total only when the
            # table has no separate 三公 subtotal.
            return None if has_three_public_subtotal else "TOTAL"
        if "三公" in e:
            return "TOTAL"
        return None
    return None


def is_three_public_subtotal(path: tuple[str, ...]) -> bool:
    elements = [_strip_year(e) for e in path]
    return any(_GENERIC_TOTAL.match(e) and any("三公" in p for p in elements[:i]) for i, e in enumerate(elements))
