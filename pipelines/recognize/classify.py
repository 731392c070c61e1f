"""Document classification: kind (预算/决算/绩效目标申报表), scope (部门/单位), unit and fiscal year,
read from the cover, the title, the 预算单位 line, or the file name as a last resort."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.normalize.facts import DocumentInfo
from pipelines.normalize.textnorm import collapse, strip_tags
from pipelines.read.model import Grid, SourceDocument, TextLine

_UNIT_LABEL = re.compile(
    r"(预算主管部门|预算单位|主管部门|部门名称|单位名称|申报单位名称|填报单位|编制部门|编制单位|部门)[:：]"
    r"(?:\d{6,}\s*)?(?P<name>[^\s:：]{2,40}?)(?=单位[:：]|金额单位|$|\s)"
)
_COVER_TITLE = re.compile(
    r"^(?P<unit>.*?)(?P<year>20\d\d)?年?度?(?:[省市区县州盟旗]级)?(?P<scope>部门|单位)(?:综合|整体)?(?P<kind>预算|决算)"
)
_CHINESE_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
_CHINESE_YEAR = re.compile(r"二[〇○零][一二三四五六七八九〇○零]{2}(?=年)")


def arabic_years(text: str) -> str:
    """二〇二四年 → 2024年: covers print the year in Chinese numerals too."""
    return _CHINESE_YEAR.sub(lambda m: m.group(0).translate(_CHINESE_DIGITS), text)


_TEMPLATE = re.compile(r"XX|ＸＸ|××局")
_DECOR = re.compile(
    r"(\d{4}年度?|年度|[省市区县州盟旗]级|部门预算公开|部门预算|单位预算|部门决算|单位决算|预算公开|公开表格?|公开文件|公开报表|"
    r"预算|决算)+$"
)


def _first_lines(doc: SourceDocument, limit: int = 40) -> list[str]:
    lines: list[str] = []
    for item in doc.items():
        if isinstance(item, TextLine):
            t = collapse(strip_tags(item.text)).lstrip("#")
            if t and not re.fullmatch(r"[-—\d\s]+", t):
                lines.append(t)
        elif isinstance(item, Grid):
            for row in item.rows[:6]:
                t = collapse(" ".join(c or "" for c in row))
                if t:
                    lines.append(t)
        if len(lines) >= limit:
            break
    return lines


# What a title or a label prints around a unit's name and is not part of it: a leading year
# (2026年度泉州市…, 24年普陀区…), punctuation or a list mark left from a heading (．/、/1.), a
# table-of-contents tail (……12, ......3) and a table word (总计) glued to the name.
_LEADING_YEAR = re.compile(r"^(?:20\d\d|\d\d)\s*年度?")
_LEADING_MARK = re.compile(r"^(?:[\s.．。、,，:：;；·•\-—_*#]+|关于)")  # 关于X局2024年度部门决算的说明
_TOC_TAIL = re.compile(r"(?:\.{2,}|…+|·{2,}|-{3,}).*$")
_TABLE_WORD_TAIL = re.compile(r"(?:总计|合计|小计)$")


def canonical_unit_name(name: str | None) -> str | None:
    """One spelling per unit: 中国共产党X委员会 → 中共X委; a party committee office written without
    its 中共 prefix (江苏省委办公厅) gets it; leading years and marks, trailing decoration
    (2019年度部门预算公开), table-of-contents tails and table words are cut. 本级 / （本级） stay: a
    department's own office is not the department."""
    if not name:
        return None
    n = collapse(name)
    n = _TOC_TAIL.sub("", n)
    previous = None
    while previous != n:  # "2026年度．泉州市…" and "泉州市…总计2026年度" lose every layer
        previous = n
        n = _LEADING_MARK.sub("", n)
        n = _LEADING_YEAR.sub("", n)
        n = _DECOR.sub("", n)
        n = _TABLE_WORD_TAIL.sub("", n)
    n = re.sub(r"^中国共产党(.+?)委员会", r"中共\1委", n)
    if re.match(r"^[\u4e00-\u9fff]{2,4}(省|市|区|县)委(?!员)", n) and not n.startswith("中共"):
        n = "中共" + n
    n = n.strip("：:，,。 ")
    return n or None


def _year_from_filename(path: Path) -> int | None:
    m = re.search(r"(20[0-4]\d)", path.stem)
    if m:
        return int(m.group(1))
    m = re.search(r"(?<!\d)([12]\d)年", path.stem)
    return 2000 + int(m.group(1)) if m else None


_ORGANIZATION_END = r"(?:厅|局|委|委员会|院|办|办公室|处|部|会|中心|学校|大学|学院|馆|所|站|队|室)"

_UNIT_CELL_LABELS = {"申报单位名称", "预算单位", "单位名称", "填报单位", "预算单位名称", "主管部门"}


def _unit_from_label_cells(doc: SourceDocument) -> str | None:
    """Key/value forms print the unit in the cell after its label (Suzhou 申报单位名称 | code name)."""
    for item in list(doc.items())[:30]:
        if not isinstance(item, Grid):
            continue
        for row in item.rows[:8]:
            cells = [collapse(c) for c in row if c is not None]
            if "序号" in cells:  # the header of a numbered list (序号|单位名称|拟变动情况), not a form's label
                continue
            for i, cell in enumerate(cells[:-1]):
                if cell.rstrip("：:") in _UNIT_CELL_LABELS:
                    value = next((c for c in cells[i + 1 :] if c), "")
                    value = re.sub(r"^\d{6,}", "", value)
                    value = re.sub(r"[（(][^）)]*[）)]$", "", value)  # alias in brackets
                    if value and not re.fullmatch(r"[（(]?盖章[)）]?", value):
                        return value
    return None


# 财政项目支出绩效评价报告 / 绩效自评报告: reports about spending, not a budget or 决算 disclosure
_EVALUATION_REPORT = re.compile(r"(绩效|支出)[^，。]{0,6}(评价|自评)报告")


def is_evaluation_report(title: str) -> bool:
    return bool(_EVALUATION_REPORT.search(title))


def classify_document(doc: SourceDocument) -> DocumentInfo:
    lines = [arabic_years(ln) for ln in _first_lines(doc)]
    page1 = [arabic_years(collapse(i.text)) for i in doc.pages[0].items if isinstance(i, TextLine)] if doc.pages else []
    # Only title-like lines count: a long line or a Markdown table row that mentions 预算 (a README,
    # a catalogue of documents) does not make a file a budget disclosure.
    cover = "".join(ln for ln in (page1[:6] if page1 else lines[:3]) if len(ln) <= 40)
    head = "".join(ln for ln in lines[:12] if len(ln) <= 40)
    title = next((ln for ln in lines if re.search(r"预算|决算|申报表", ln)), lines[0] if lines else "")

    is_template = bool(_TEMPLATE.search(cover)) or len(_TEMPLATE.findall(head)) >= 2

    # kind
    kind: str | None = None
    if re.search(r"绩效目标申报表", head[:200]) and not re.search(r"(部门|单位)预算|预算公开", cover):
        kind = "PERF_FORM"
    elif "决算" in cover:
        kind = "FINAL_ACCOUNT"
    elif "预算" in cover:
        kind = "BUDGET"
    elif _EVALUATION_REPORT.search(cover):
        kind = None  # a 绩效评价报告 says what it is on its cover: that wins over the file's name
        title = next((ln for ln in page1[:6] or lines[:3] if _EVALUATION_REPORT.search(ln)), cover[:40])
    elif "决算" in doc.path.stem:
        kind = "FINAL_ACCOUNT"
    elif "预算" in doc.path.stem:
        kind = "BUDGET"
    elif re.search(r"决算(总)?表", head):
        kind = "FINAL_ACCOUNT"
    elif re.search(r"预算(总)?表|预算表", head):
        kind = "BUDGET"

    # scope
    scope: str | None = None
    if kind in ("BUDGET", "FINAL_ACCOUNT"):
        probe = cover + doc.path.stem
        if re.search(r"单位(预算|决算)", probe):
            scope = "单位"
        elif re.search(r"部门|省级|区级|市级", probe):
            scope = "部门"

    # year
    year = None
    m = re.search(r"[（(]\s*(20\d\d)\s*年\s*[)）]", head) or re.search(r"(20[0-4]\d)\s*年", cover)
    if m:
        year = int(m.group(1))
    if year is None:
        m = re.search(r"(?<!\d)(20[0-4]\d)(?!\d)", cover)
        if m:
            year = int(m.group(1))
    if year is None:
        year = _year_from_filename(doc.path)
    if year is None:
        m = re.search(r"(20[0-4]\d)\s*年", head)
        if m:
            year = int(m.group(1))

    # unit
    unit = _unit_from_label_cells(doc)
    for ln in lines[:30] if unit is None else []:
        m = _UNIT_LABEL.search(ln)
        if m and not re.fullmatch(r"(元|万元|（盖章）)", m.group("name")):
            unit = m.group("name")
            break
    if unit is None and kind in ("BUDGET", "FINAL_ACCOUNT"):
        m = _COVER_TITLE.match(re.sub(r"\d{4}年\d{1,2}月$", "", cover))
        if m and m.group("unit") and not re.match(r"^[\u4e00-\u9fff]{2,6}[省市区县]$", m.group("unit")):
            # (a region's own 2024年区级部门预算 heading names no unit: the unit is on a later line)
            unit = m.group("unit")
            # "西南大学2021年度部门预算" / "上海市普陀区财政局年度部门决算2024"
            unit = re.sub(r"(20\d\d)?年?度?$", "", unit)
    if unit and re.match(r"^(上海市)?[\u4e00-\u9fff]{2,3}区20\d\d年区级", unit):
        unit = None
    if unit is None:
        stem = re.sub(r"^\d+[_-]", "", doc.path.stem)
        m = re.match(r"^(?P<u>[\u4e00-\u9fff（）()]+?)(?:\d|年|部门|单位|预算|决算)", stem)
        if m:
            unit = m.group("u")
    if unit is None and kind in ("BUDGET", "FINAL_ACCOUNT"):
        # A tables-only file named by year alone (2017年度部门预算公开表.pdf) in a folder named after its
        # unit: the folder's name, when it reads as an organization's name.
        folder = doc.path.parent.name
        if re.fullmatch(r"[\u4e00-\u9fff（）()]{3,40}" + _ORGANIZATION_END, folder):
            unit = folder
    return DocumentInfo(
        doc_kind=kind,
        scope=scope,
        unit_name=canonical_unit_name(unit),
        fiscal_year=year,
        is_template=is_template,
        title=title[:200],
    )
