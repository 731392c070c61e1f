"""Sample documents rendered by the project itself, so the main job runs on a fresh machine.

Each sample is built from a table of facts (功能分类 项 rows with 基本/项目 amounts, 经济分类 款,
“三公” items); every total is computed from them with Decimal, so the documents are internally
consistent. They are rendered as Shanghai-style 部门预算 PDFs (ruled tables, reportlab's built-in
CID font STSong-Light, which pdfplumber reads back) and as tab-separated text extractions like
the seeds. ``synthetic_units`` makes any number of varied units for the growth benchmark.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pipelines.normalize.catalog import func_class_name

D = Decimal
CENT = D("0.01")

# 项 codes and names used by the samples (a small slice of 政府收支分类科目).
ITEMS: dict[str, str] = {
    "2010101": "行政运行", "2010102": "一般行政管理事务", "2010150": "事业运行",
    "2010601": "行政运行", "2010607": "信息化建设", "2010608": "财政委托业务支出",
    "2050101": "行政运行", "2050201": "学前教育", "2050202": "小学教育", "2050801": "教师进修",
    "2050999": "其他教育费附加安排的支出", "2060201": "机构运行",
    "2080501": "行政单位离退休", "2080505": "机关事业单位基本养老保险缴费支出",
    "2080506": "机关事业单位职业年金缴费支出", "2101101": "行政单位医疗", "2101102": "事业单位医疗",
    "2120101": "行政运行", "2130101": "行政运行", "2210201": "住房公积金", "2210203": "购房补贴",
}  # fmt: skip
KUAN: dict[str, str] = {
    "20101": "人大事务", "20106": "财政事务", "20501": "教育管理事务", "20502": "普通教育", "20508": "进修及培训",
    "20509": "教育费附加安排的支出", "20602": "基础研究", "20805": "行政事业单位养老支出",
    "21011": "行政事业单位医疗", "21201": "城乡社区管理事务", "21301": "农业农村", "22102": "住房改革支出",
}  # fmt: skip
ECON: dict[str, str] = {
    "30101": "基本工资", "30102": "津贴补贴", "30107": "绩效工资", "30108": "机关事业单位基本养老保险缴费",
    "30109": "职业年金缴费", "30113": "住房公积金", "30201": "办公费", "30211": "差旅费", "30217": "公务接待费",
    "30231": "公务用车运行维护费", "30299": "其他商品和服务支出", "30305": "生活补助", "31002": "办公设备购置",
}  # fmt: skip
ECON_CLASS = {"301": "工资福利支出", "302": "商品和服务支出", "303": "对个人和家庭的补助", "310": "资本性支出"}


@dataclass
class SampleUnit:
    unit_name: str
    fiscal_year: int
    scope: str  # 部门 | 单位
    district: str
    func: dict[str, tuple[Decimal, Decimal]]  # 项 code → (基本支出, 项目支出) in 元
    econ: dict[str, Decimal]  # 款 code → amount in 元 (sums to 基本支出)
    three_public: dict[str, Decimal] = field(default_factory=dict)  # item → 万元


def fixed_units() -> list[SampleUnit]:
    """Two hand-made units (one 部门 PDF, one 单位 text extraction) with round, checkable numbers."""
    a = SampleUnit(
        unit_name="上海市示范区财政局", fiscal_year=2025, scope="部门", district="示范区",
        func={
            "2010601": (D("16093326.00"), D("138514.80")), "2010607": (D("0"), D("1666600.00")),
            "2010608": (D("0"), D("4188000.00")), "2080501": (D("877080.00"), D("0")),
            "2080505": (D("1748327.00"), D("0")), "2101101": (D("782164.00"), D("0")),
            "2210201": (D("2049197.00"), D("0")),
        },
        econ={},
        three_public={"OUTBOUND": D("0"), "RECEPTION": D("0.95"), "VEHICLE_PURCHASE": D("0"),
                      "VEHICLE_OPERATION": D("3.20"), "ORG_RUNNING_COST": D("229.43")},
    )  # fmt: skip
    b = SampleUnit(
        unit_name="上海市示范区教育学院", fiscal_year=2024, scope="单位", district="示范区",
        func={
            "2050801": (D("38451864.75"), D("0")), "2050999": (D("0"), D("50499903.60")),
            "2080505": (D("5641014.86"), D("0")), "2080506": (D("2820507.43"), D("0")),
            "2101102": (D("3349352.57"), D("0")), "2210201": (D("2467944.00"), D("0")),
        },
        econ={},
        three_public={"OUTBOUND": D("0"), "RECEPTION": D("0.67"), "VEHICLE_PURCHASE": D("0"),
                      "VEHICLE_OPERATION": D("9.60"), "ORG_RUNNING_COST": D("0")},
    )  # fmt: skip
    for unit in (a, b):
        unit.econ = split_basic(unit, random.Random(unit.unit_name))
    return [a, b]


def split_basic(unit: SampleUnit, rng: random.Random) -> dict[str, Decimal]:
    """Spread 基本支出 over economic 款 so that Σ 款 = 基本支出 exactly."""
    basic = sum((b for b, _ in unit.func.values()), D(0))
    codes = sorted(rng.sample(sorted(ECON), k=min(8, len(ECON))))
    weights = [rng.randint(1, 9) for _ in codes]
    total_w = sum(weights)
    out: dict[str, Decimal] = {}
    left = basic
    for code, w in zip(codes[:-1], weights[:-1], strict=True):
        amount = (basic * w / total_w).quantize(CENT)
        out[code] = amount
        left -= amount
    out[codes[-1]] = left
    # 公务接待费 and 公务用车运行维护费 of 基本支出 are the 三公 table's figures (R-ECON-3P): the
    # difference goes to another 款 so that Σ 款 = 基本支出 still holds.
    others = [c for c in codes if c not in _THREE_PUBLIC_ECON]
    for code, item in _THREE_PUBLIC_ECON.items():
        if code in out and others:
            target = (unit.three_public.get(item, D(0)) * 10000).quantize(CENT)
            if out[others[-1]] + out[code] - target >= 0:
                out[others[-1]] += out[code] - target
                out[code] = target
    return out


_THREE_PUBLIC_ECON = {"30217": "RECEPTION", "30231": "VEHICLE_OPERATION"}


def synthetic_units(n: int, seed: int = 7) -> list[SampleUnit]:
    rng = random.Random(seed)
    districts = ["示范区", "样例区", "测试区", "模拟区"]
    kinds = ["财政局", "教育局", "卫生健康委员会", "农业农村委员会", "人民政府办公室", "街道办事处"]
    units = []
    for i in range(n):
        district = rng.choice(districts)
        codes = rng.sample(sorted(ITEMS), k=rng.randint(4, 12))
        func = {}
        for code in sorted(codes):
            basic = D(rng.randint(0, 2_000_000_00)) / 100 if rng.random() < 0.8 else D(0)
            project = D(rng.randint(0, 900_000_00)) / 100 if rng.random() < 0.5 else D(0)
            if basic == 0 and project == 0:
                basic = D("10000.00")
            func[code] = (basic, project)
        unit = SampleUnit(
            unit_name=f"上海市{district}{kinds[i % len(kinds)]}{i // len(kinds) + 1:03d}",
            fiscal_year=2019 + i % 7, scope=rng.choice(["部门", "单位"]), district=district, func=func, econ={},
            three_public={"OUTBOUND": D(rng.randint(0, 500)) / 100, "RECEPTION": D(rng.randint(0, 300)) / 100,
                          "VEHICLE_PURCHASE": D(0), "VEHICLE_OPERATION": D(rng.randint(0, 900)) / 100,
                          "ORG_RUNNING_COST": D(rng.randint(0, 30000)) / 100},
        )  # fmt: skip
        unit.econ = split_basic(unit, rng)
        units.append(unit)
    return units


# ---------------------------------------------------------------------------------------------
# Tables of a unit (rows of strings), shared by both renderers


def _fmt(v: Decimal | None, sep: bool = True) -> str:
    if v is None:
        return ""
    return f"{v:,.2f}" if sep else f"{v:.2f}"


def func_rows(unit: SampleUnit) -> list[tuple[str, str, Decimal, Decimal]]:
    """(code, name, 基本支出, 项目支出) for every 类, 款 and 项, in code order."""
    totals: dict[str, list[Decimal]] = {}
    for code, (basic, project) in unit.func.items():
        for prefix in (code[:3], code[:5], code):
            t = totals.setdefault(prefix, [D(0), D(0)])
            t[0] += basic
            t[1] += project
    rows = []
    for code in sorted(totals):
        name = func_class_name(code) if len(code) == 3 else KUAN.get(code) if len(code) == 5 else ITEMS[code]
        rows.append((code, name or "其他支出", totals[code][0], totals[code][1]))
    return rows


def econ_rows(unit: SampleUnit) -> list[tuple[str, str, Decimal, Decimal]]:
    """(code, name, 人员经费, 公用经费) for 类 and 款; 301/303 are 人员经费, 302/310 公用经费."""
    classes: dict[str, Decimal] = {}
    for code, amount in unit.econ.items():
        classes[code[:3]] = classes.get(code[:3], D(0)) + amount
    rows = []
    for cls in sorted(classes):
        personnel = cls in ("301", "303")
        rows.append((cls, ECON_CLASS[cls], classes[cls] if personnel else D(0), D(0) if personnel else classes[cls]))
        for code in sorted(c for c in unit.econ if c.startswith(cls)):
            a = unit.econ[code]
            rows.append((code, ECON[code], a if personnel else D(0), D(0) if personnel else a))
    return rows


def three_public_values(unit: SampleUnit) -> dict[str, Decimal]:
    tp = unit.three_public
    vehicle = tp["VEHICLE_PURCHASE"] + tp["VEHICLE_OPERATION"]
    return {**tp, "VEHICLE_TOTAL": vehicle, "TOTAL": tp["OUTBOUND"] + tp["RECEPTION"] + vehicle}


def _split_code(code: str) -> list[str]:
    return [code[:3], code[3:5], code[5:7]]


def unit_tables(unit: SampleUnit, *, separators: bool) -> list[dict]:
    """The B-tables of a unit as title + header rows + body rows (+ spans, note, unit)."""
    y, s = unit.fiscal_year, unit.scope
    f = func_rows(unit)
    total_basic = sum((b for c, _, b, _ in f if len(c) == 3), D(0))
    total_project = sum((p for c, _, _, p in f if len(c) == 3), D(0))
    total = total_basic + total_project
    classes = [(c, n, b, p) for c, n, b, p in f if len(c) == 3]
    e = econ_rows(unit)
    pers = sum((a for c, _, a, _ in e if len(c) == 3), D(0))
    pub = sum((b for c, _, _, b in e if len(c) == 3), D(0))
    fmt = lambda v: _fmt(v, separators)  # noqa: E731

    ordinals = "一二三四五六七八九十"
    b1_body = []
    income = [("一、财政拨款收入", fmt(total)), ("1. 一般公共预算资金", fmt(total)), ("2. 政府性基金", ""),
              ("二、事业收入", ""), ("三、事业单位经营收入", ""), ("四、其他收入", "")]  # fmt: skip
    for i in range(max(len(income), len(classes))):
        left = income[i] if i < len(income) else ("", "")
        right = ("", "")
        if i < len(classes):
            _c, n, b, p = classes[i]
            right = (f"{ordinals[i]}、{n}", fmt(b + p))
        b1_body.append([left[0], left[1], right[0], right[1]])
    b1_body.append(["收入总计", fmt(total), "支出总计", fmt(total)])

    def func_body(with_income: bool) -> list[list[str]]:
        rows = []
        for code, name, b, p in f:
            parts = _split_code(code)
            amounts = (
                [fmt(b + p), fmt(b + p), "", "", ""]
                if with_income
                else [fmt(b + p), fmt(b) if b else "", fmt(p) if p else ""]
            )
            rows.append([*parts, name, *amounts])
        totals = (
            [fmt(total), fmt(total), "", "", ""] if with_income else [fmt(total), fmt(total_basic), fmt(total_project)]
        )
        rows.append(["合计", "", "", "", *totals])
        return rows

    code_header = [
        ["项目", "", "", "", None],
        ["功能分类科目编码", "", "", "功能分类科目名称", None],
        ["类", "款", "项", "", None],
    ]
    tables = [
        {"type": "B1", "title": f"{y}年{s}财务收支预算总表", "unit": "元",
         "header": [["本年收入", "", "本年支出", ""], ["项目", "预算数", "项目", "预算数"]], "body": b1_body},
        {"type": "B2", "title": f"{y}年{s}收入预算总表", "unit": "元",
         "header": [[*r[:4], *(["收入预算", "", "", "", ""] if i == 0 else ["合计", "财政拨款收入", "事业收入", "事业单位经营收入", "其他收入"] if i == 1 else [""] * 5)]
                    for i, r in enumerate(code_header)],
         "body": func_body(True)},
        {"type": "B3", "title": f"{y}年{s}支出预算总表", "unit": "元",
         "header": [[*r[:4], *(["支出预算", "", ""] if i == 0 else ["合计", "基本支出", "项目支出"] if i == 1 else [""] * 3)]
                    for i, r in enumerate(code_header)],
         "body": func_body(False)},
        {"type": "B4", "title": f"{y}年{s}财政拨款收支预算总表", "unit": "元",
         "header": [["财政拨款收入", "", "财政拨款支出", "", "", "", ""],
                    ["项目", "预算数", "项目", "合计", "一般公共预算", "政府性基金预算", "国有资本经营预算"]],
         "body": [[r[0] if i < 3 else "", r[1] if i < 3 else "", r[2], r[3], r[3], "", ""] for i, r in enumerate(b1_body[:-1])]
                 + [["收入总计", fmt(total), "支出总计", fmt(total), fmt(total), "", ""]]},
        {"type": "B5", "title": f"{y}年{s}一般公共预算支出功能分类预算表", "unit": "元",
         "header": [[*r[:4], *(["一般公共预算支出", "", ""] if i == 0 else ["合计", "基本支出", "项目支出"] if i == 1 else [""] * 3)]
                    for i, r in enumerate(code_header)],
         "body": func_body(False)},
        {"type": "B6", "title": f"{y}年{s}政府性基金预算支出功能分类预算表", "unit": "元",
         "header": [[*r[:4], *(["政府性基金预算支出", "", ""] if i == 0 else ["合计", "基本支出", "项目支出"] if i == 1 else [""] * 3)]
                    for i, r in enumerate(code_header)],
         "body": [["合计", "", "", "", "", "", ""]], "note": f"注：本{s}{y}年无政府性基金预算财政拨款安排的预算，故本表为空表。"},
        {"type": "B8", "title": f"{y}年{s}一般公共预算基本支出部门预算经济分类预算表", "unit": "元",
         "header": [["项目", "", "", "一般公共预算基本支出", "", ""], ["经济分类科目编码", "", "部门经济分类科目名称", "合计", "人员经费", "公用经费"],
                    ["类", "款", "", "", "", ""]],
         "body": [[c[:3], c[3:5], n, fmt(a + b), fmt(a), fmt(b)] for c, n, a, b in e] + [["合计", "", "", fmt(pers + pub), fmt(pers), fmt(pub)]]},
    ]  # fmt: skip
    tp = three_public_values(unit)
    w = lambda k: f"{tp[k]:.2f}"  # noqa: E731
    tables.append(
        {"type": "B9", "title": f"{y}年{s}“三公”经费和机关运行经费预算表", "unit": "万元",
         "header": [[f"{y}年“三公”经费预算数", "", "", "", "", "", f"{y}年机关运行经费预算数"],
                    ["合计", "因公出国(境)费", "公务接待费", "公务用车购置及运行费", "", "", ""],
                    ["", "", "", "小计", "购置费", "运行费", ""]],
         "body": [[w("TOTAL"), w("OUTBOUND"), w("RECEPTION"), w("VEHICLE_TOTAL"), w("VEHICLE_PURCHASE"),
                   w("VEHICLE_OPERATION"), w("ORG_RUNNING_COST")]]}
    )  # fmt: skip
    return tables


# ---------------------------------------------------------------------------------------------
# Renderers


def render_text(unit: SampleUnit) -> str:
    """A text extraction in the seeds' shape: Markdown headings, tab-separated rows."""
    lines = [
        f"# {unit.district}{unit.fiscal_year}年区级{unit.scope}预算",
        "",
        f"预算{'单位' if unit.scope == '单位' else '主管部门'}：{unit.unit_name}",
        "",
    ]
    for t in unit_tables(unit, separators=False):
        lines += [f"## {t['title']}", "", f"单位：{t['unit']}", ""]
        for row in t["header"] + t["body"]:
            lines.append("\t".join("" if c is None else c for c in row))
        if t.get("note"):
            lines += ["", t["note"]]
        lines.append("")
    return "\n".join(lines) + "\n"


def render_pdf(unit: SampleUnit, path: Path, *, encrypt=None, ruled: bool = True) -> Path:
    """``encrypt``: a reportlab ``StandardEncryption`` (tests of protected PDFs), or None. ``ruled=False``
    draws the tables without any ruling line, words placed by position only (tests of lineless tables)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    title = ParagraphStyle("t", fontName="STSong-Light", fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=10, leading=14)
    label = "预算单位" if unit.scope == "单位" else "预算主管部门"
    story = [
        Spacer(1, 120),
        Paragraph(f"{unit.district}{unit.fiscal_year}年区级{unit.scope}预算", title),
        Spacer(1, 20),
        Paragraph(f"{label}：{unit.unit_name}", title),
        PageBreak(),
        Paragraph(f"{unit.fiscal_year}年{unit.scope}预算编制说明", title),
        Paragraph(
            f"{unit.fiscal_year}年，{unit.unit_name}预算收入与支出均按财政拨款编列。本文件由 budgetwh 的样例生成器依据事实表生成，"
            "用于在没有真实文件的机器上演示完整的流水线。",
            body,
        ),
        PageBreak(),
    ]
    for t in unit_tables(unit, separators=True):
        story.append(Paragraph(t["title"], title))
        story.append(Paragraph(f"编制单位：{unit.unit_name} 单位：{t['unit']}", body))
        data = [["" if c is None else c for c in row] for row in t["header"] + t["body"]]
        width = max(len(r) for r in data)
        data = [r + [""] * (width - len(r)) for r in data]
        table = Table(data, repeatRows=len(t["header"]))
        table.setStyle(
            TableStyle([
                ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                *([("GRID", (0, 0), (-1, -1), 0.5, colors.black)] if ruled else []),
                ("ALIGN", (-3, len(t["header"])), (-1, -1), "RIGHT"),
            ])
        )  # fmt: skip
        story.append(table)
        if t.get("note"):
            story.append(Paragraph(t["note"], body))
        story.append(PageBreak())
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        title=f"{unit.unit_name}{unit.fiscal_year}年{unit.scope}预算",
        encrypt=encrypt,
    )
    doc.build(story)
    return path


def sample_file_name(unit: SampleUnit, suffix: str) -> str:
    return f"{unit.unit_name}{unit.fiscal_year}年{unit.scope}预算{suffix}"


def write_samples(out: Path, count: int = 0, seed: int = 7) -> list[Path]:
    """The fixed samples (one PDF, one text file) plus ``count`` synthetic PDFs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fixed = fixed_units()
    files = [render_pdf(fixed[0], out / sample_file_name(fixed[0], ".pdf"))]
    text_path = out / sample_file_name(fixed[1], ".txt")
    text_path.write_text(render_text(fixed[1]), encoding="utf-8")
    files.append(text_path)
    for unit in synthetic_units(count, seed):
        files.append(render_pdf(unit, out / sample_file_name(unit, ".pdf")))
    return files


def ensure_samples(inbox: Path) -> list[Path]:
    """Generate the samples into ``inbox/samples`` when the inbox holds no document at all."""
    from pipelines.run.sources import iter_source_files

    if iter_source_files([inbox]):
        return []
    return write_samples(Path(inbox) / "samples")
