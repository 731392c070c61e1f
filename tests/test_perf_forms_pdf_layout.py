"""The Shanghai 申报表 read from a PDF rather than a text extraction: no real one is in the corpus,
so this test renders one (reportlab, merged cells drawn as in the published forms) and checks that the
recognizer takes the merged 一级/二级目标 labels from the cell geometry, reads the checkbox glyphs (√ □),
skips the 金额合计 row and leaves the phone number out. Needs nothing from ../shared."""

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.parse import parse_document

D = Decimal
NAME = "示范区图书馆古籍数字化项目"
PHONE = "13812345678"


def render_form(path: Path) -> Path:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    title = ParagraphStyle("t", fontName="STSong-Light", fontSize=14, leading=20, alignment=1)
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=9, leading=12)

    def table(data, spans=()):
        width = max(len(r) for r in data)
        t = Table([r + [""] * (width - len(r)) for r in data])
        style = [("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTSIZE", (0, 0), (-1, -1), 8),
                 ("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]  # fmt: skip
        style += [("SPAN", a, b) for a, b in spans]
        t.setStyle(TableStyle(style))
        return t

    p1 = [
        ["项目名称", NAME, "", ""],
        ["项目类别", "√一次性项目 □经常性项目 □中期预算试点项目", "", ""],  # ☑ is not in the font
        ["项目负责人：", "张三", "联系电话：", PHONE],
        ["项目资金", "一、项目总预算：", "1,200,000.00", ""],
        ["", "二、当年预算：", "1,000,000.00", ""],
        ["", "（一）财政拨款：", "1,000,000.00", ""],
        ["", "1. 上级财政拨款：", "0", ""],
        ["", "2. 本级财政安排：", "1,000,000.00", ""],
        ["", "3. 下级财政配套：", "0", ""],
        ["", "（二）其他资金：", "0", ""],
    ]
    indicators = [
        ["一级目标", "二级目标", "三级目标", "目标值", "备注"],
        ["产出目标", "数量", "数字化古籍册数", "≥500册", "计划目标"],
        ["", "", "扫描设备采购完成率；系统上线率", "=100%", "计划目标"],
        ["", "质量", "验收合格率", "100%", "计划目标"],
        ["", "时效", "数字化完成及时性", "及时", "计划目标"],
        ["效果目标", "社会效益", "读者访问量", "不低于20万人次", "计划目标"],
        ["影响力目标", "满意度", "读者满意度", "》90%", "调查问卷"],
    ]
    items = [
        ["项目名称", "项目内容", "项目明细", "明细金额", "单价", "依据", "数量", "依据", "备注"],
        [NAME, "古籍数字化", "扫描服务", "600000", "300000.00", "", "2", "", "年度项目"],
        [NAME, "系统建设", "软件开发", "400000", "400000.00", "", "1", "", "年度项目"],
        ["金额合计", "", "", "1000000", "----", "----", "----", "----", "----"],
    ]
    controls = [
        ["制度保障", "文件名称", "具体措施", "保障阶段", "", ""],
        ["项目管理制度", "《示范区古籍保护办法》", "按办法执行", "立项和计划阶段 √", "实施阶段 √", "收尾和完成阶段 ×"],
    ]
    story = [
        Paragraph("财政项目支出绩效目标申报表（项目总体情况）", title),
        Paragraph("（2021年）", title),
        Paragraph("金额单位：元", body),
        table(p1, [((1, 0), (3, 0)), ((1, 1), (3, 1)), ((0, 3), (0, 9))]),
        PageBreak(),
        Paragraph("财政项目支出绩效目标申报表（绩效目标）", title),
        Paragraph(f"项目名称：{NAME}", body),
        Paragraph("金额单位：元", body),
        table(indicators, [((0, 1), (0, 4)), ((1, 1), (1, 2))]),
        table(items),
        PageBreak(),
        Paragraph("项目支出绩效目标申报表(制度保障)", title),
        table(controls, [((3, 0), (5, 0))]),
    ]
    SimpleDocTemplate(str(path), pagesize=A4, title="财政项目支出绩效目标申报表").build(story)
    return path


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    path = render_form(tmp_path_factory.mktemp("form") / "申报表.pdf")
    parsed = parse_document(path)
    assert parsed.status == "loaded", parsed.error
    return parsed


def test_project_from_a_pdf_form(doc):
    assert doc.info.doc_kind == "PERF_FORM"
    p = doc.frames["fact_project"].row(0, named=True)
    assert (p["project_name"], p["fiscal_year"], p["project_category"]) == (NAME, 2021, "一次性项目")
    assert (p["total_budget_yuan"], p["current_year_budget_yuan"], p["own_level_yuan"]) == (
        D("1200000"), D("1000000"), D("1000000"))  # fmt: skip
    items = doc.frames["fact_project_line_item"].sort("seq")
    assert items.select("content", "detail", "amount_yuan", "unit_price_yuan", "quantity").rows() == [
        ("古籍数字化", "扫描服务", D("600000"), D("300000"), D(2)),
        ("系统建设", "软件开发", D("400000"), D("400000"), D(1)),
    ]
    assert set(doc.frames["fact_check"].filter(pl.col("rule") == "R-PROJ")["status"]) == {"PASS"}


def test_merged_levels_come_from_the_cell_geometry(doc):
    ind = doc.frames["fact_indicator"].sort("seq", "part_no")
    assert ind.select("indicator_name", "level1", "level2").rows() == [
        ("数字化古籍册数", "OUTPUT", "QUANTITY"),
        ("扫描设备采购完成率", "OUTPUT", "QUANTITY"),  # the row under the merged 产出目标 / 数量 cells
        ("系统上线率", "OUTPUT", "QUANTITY"),
        ("验收合格率", "OUTPUT", "QUALITY"),
        ("数字化完成及时性", "OUTPUT", "TIMELINESS"),
        ("读者访问量", "EFFECT", "SOCIAL"),
        ("读者满意度", "IMPACT", "SATISFACTION"),
    ]
    assert set(ind["level_confidence"]) == {"explicit"}
    split = ind.filter(pl.col("split_from_cell"))
    assert split["seq"].to_list() == [2, 2] and set(split["target_raw"]) == {"=100%"}
    visits = ind.filter(pl.col("indicator_name") == "读者访问量").row(0, named=True)
    assert (visits["op"], visits["target_value"], visits["target_unit"], visits["target_value_scaled"]) == (
        "≥", D(20), "万人次", D(200000))  # fmt: skip


def test_controls_and_no_phone(doc):
    ctl = doc.frames["fact_project_control"].row(0, named=True)
    assert (ctl["control_type"], ctl["doc_name"], ctl["stage_plan"], ctl["stage_close"]) == (
        "项目管理制度", "《示范区古籍保护办法》", True, False)  # fmt: skip
    for name, frame in doc.frames.items():
        for column, dtype in frame.schema.items():
            if dtype == pl.Utf8:
                assert not frame[column].str.contains(PHONE).any(), (name, column)
