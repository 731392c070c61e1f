"""Every rule the validate stage evaluates: its id (the ``rule`` column of quality_findings), the
module of its family, what it compares and the tolerance it allows. A new rule is added here and
in its family's module; tests/test_rule_catalogue.py checks that every rule a document produces is
listed, and that every listed rule's module exists."""

from __future__ import annotations

from dataclasses import dataclass

# 万元 tables are rounded cell by cell to 0.01 万元: a sum of n printed cells may differ from its
# printed total by 50 元 per addend (``compare.tolerance``); 元 tables must add up exactly.
ROUNDING = "0 in 元 tables; 50 元 × number of addends in 万元 tables"


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    module: str  # pipelines.validate.rules.<module>
    compares: str
    tolerance: str
    severity: str  # of a FAIL: error (a number is wrong) or warning (a wording, a convention)


RULES: tuple[Rule, ...] = (
    Rule(
        "R-ROW",
        "rows",
        "a printed row's total column against its component columns (合计 = 基本支出 + 项目支出, "
        "收入 columns, 财政拨款 = 一般公共预算 + 政府性基金 + 国有资本经营)",
        ROUNDING,
        "error",
    ),
    Rule(
        "R-HIER",
        "rows",
        "类 = Σ 款 and 款 = Σ 项 of the 功能分类, per table and measure; 类 = Σ 款 of the 经济分类 "
        "(three_public: econ hierarchy), also in a 机关运行经费 table by 经济分类 (econ_three_public)",
        ROUNDING,
        "error",
    ),
    Rule(
        "R-TOTAL",
        "totals",
        "a table's 合计 row against Σ of its 类 rows (of its top printed level where no 类 is printed); "
        "本年收入合计 against Σ of the numbered income rows of a 决算 收支总表; in a table by 单位编码, "
        "合计 against Σ of the units and a unit against Σ of the units under its code; in a table by 单位名称 or "
        "by unit headings, 合计 against Σ of the member units' lines and a unit's line against Σ of its block's "
        "rows; a “三公” table by unit, each item of the 合计 against Σ of the units'; a 机关运行经费 table's 合计 "
        "against Σ of its 经济分类 类",
        ROUNDING,
        "error",
    ),
    Rule(
        "R-BAL",
        "totals",
        "收入总计 = 支出总计 of the 收支总表 family, and each side's 总计 against its parts (本年收入合计 + 结转 …)",
        ROUNDING,
        "error",
    ),
    Rule(
        "R-CARRY",
        "totals",
        "totals that include the carry-over rows: 总计 = 本年合计 + 上年结转 (+ 结余)",
        ROUNDING,
        "error",
    ),
    Rule(
        "R-XT",
        "cross_table",
        "the same 类 amount in the 收支总表 and the 支出总表 (B1/B3, F1/F3); 人员经费 + "
        "公用经费 of F6 against the 基本支出 of F5; a 机关运行经费 table's 合计 against the 机关运行经费 another "
        "table states",
        "two independently rounded cells: 100 元 in 万元 tables",
        "error",
    ),
    Rule(
        "R-3P-SUM",
        "three_public",
        "“三公”经费 合计 = 因公出国(境) + 公务接待 + 公务用车; 公务用车 = 购置 + 运行, per stage column",
        ROUNDING,
        "error",
    ),
    Rule(
        "R-PERS",
        "three_public",
        "人员经费合计 = 301 + 303, 公用经费合计 = the other 类 of a 经济分类 table (a convention, DOMAIN.md §1.3)",
        ROUNDING,
        "warning",
    ),
    Rule(
        "R-TABLES", "completeness", "every table the document's own table of contents lists is printed", "none", "error"
    ),
    Rule(
        "R-PROJ",
        "projects",
        "a 绩效目标 form's money against itself (当年预算 = 财政拨款 + 其他, 金额合计 = Σ 明细, "
        "明细 = 单价 × 数量, Σ 分值) and Σ 当年预算 of the forms against the tables' 项目支出",
        ROUNDING,
        "error",
    ),
    Rule(
        "R-NARR",
        "narrative",
        "a 决算's 情况说明 against its tables: each 项's quoted 决算, 完成率 and 占比, the "
        "stated direction (决算数小于/大于预算数), the headline totals, the “三公”经费",
        "half a unit of the printed precision (0.005 万元 = 50 元; a percentage's last printed digit)",
        "error",
    ),
    Rule(
        "R-TEXT", "text", "template residue (XX) and part headings or 截至 dates naming another year", "none", "warning"
    ),
    Rule(
        "R-NARR-TOTAL",
        "budget_narrative",
        "a 预算's headline figures of the text (支出总额, 收入, 财政拨款, 基本支出, 项目支出, 人员/公用经费 …) against the table cells that print them",
        "half a unit of the printed figure (282.06 万元 → ±50 元)",
        "error",
    ),
    Rule(
        "R-NARR-SPLIT",
        "budget_narrative",
        "the text's 基本支出 + 项目支出 against the total it splits",
        "Σ of the half units",
        "error",
    ),
    Rule(
        "R-NARR-FUNC",
        "budget_narrative",
        "each 科目 a 预算's text names (by name or code) against its row in the function tables",
        "half a unit of the printed figure (282.06 万元 → ±50 元)",
        "error",
    ),
    Rule(
        "R-NARR-3P",
        "budget_narrative",
        "the “三公”经费 and each part a 预算's text states against the 三公 table",
        "half a unit of the printed figure (282.06 万元 → ±50 元)",
        "error",
    ),
    Rule(
        "R-NARR-ORG",
        "budget_narrative",
        "the 机关运行经费 a 预算's text states against the 三公 / 机关运行经费 table",
        "half a unit of the printed figure (282.06 万元 → ±50 元)",
        "error",
    ),
    Rule(
        "R-NARR-PCT",
        "budget_narrative",
        "a stated 增长/下降 x% or 占 x% against the numbers it is computed from",
        "half a unit of the percentage, widened by the amounts' rounding",
        "error",
    ),
    Rule(
        "R-NARR-PURPOSE",
        "budget_narrative",
        "a 科目 described in the text with the purpose of another (住房公积金 explained as 医疗)",
        "none",
        "warning",
    ),
    Rule(
        "R-ECON-3P",
        "econ_three_public",
        "经济分类 (基本支出) against the 三公 table: 30217 ↔ 公务接待费, 30231 ↔ 公务用车运行维护费, 30913/31013 ↔ 公务用车购置费, 30212 ↔ 因公出国（境）费",
        "50 元 (the 三公 table's 万元 rounding)",
        "warning",
    ),
    Rule(
        "R-ORG-PUBLIC",
        "econ_three_public",
        "机关运行经费 of the 三公 table against 公用经费 of the 基本支出 table (it cannot exceed it)",
        "50 元",
        "warning",
    ),
    Rule(
        "R-UNIT",
        "unit_name",
        "the unit named beside a header label (编制部门：, 预算单位： …) against the cover's",
        "exact, whitespace removed",
        "warning",
    ),
    Rule(
        "R-CODE",
        "codes",
        "a printed 功能分类 / 经济分类 code's name against the code catalogue for its year",
        "names compared after whitespace and bracket normalization",
        "warning",
    ),
)

BY_ID: dict[str, Rule] = {r.rule_id: r for r in RULES}
