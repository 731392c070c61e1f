"""``budgetwh export``: a view, every public view, or a query's result to Parquet, CSV or XLSX.

- Parquet: DuckDB's own writer, so DECIMAL(18,2) stays a decimal (parquet DECIMAL(18,2), read back
  exactly by pyarrow, Polars, pandas, R arrow).
- CSV: UTF-8 with a byte order mark (Excel then opens Chinese correctly), a header row, decimals as
  exact strings (``88951768.35``), NULL as an empty cell.
- XLSX (xlsxwriter): one sheet per view; two header rows (Chinese, then the column name), frozen;
  amounts are numbers shown with two decimals (number format ``0.00``). Excel stores numbers as
  doubles: every amount below 90 trillion 元 keeps its two decimals exactly.

With ``--all``, Parquet and CSV write one file per view into the ``--out`` folder; XLSX writes one
workbook with a sheet per view.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.publish.warehouse import PUBLIC_VIEWS, connect_read_only, sql_string, view_names

FORMATS = ("parquet", "csv", "xlsx")

# Chinese headers for the columns of the public views (docs/data-dictionary.md has their meaning).
CHINESE_HEADERS = {
    "doc_id": "文档编号", "source_file": "来源文件", "sha256": "文件哈希", "doc_kind": "文档类型", "scope": "范围",
    "unit_name": "单位名称", "unit_key": "单位键", "fiscal_year": "年度", "page_count": "页数", "status": "状态",
    "error": "原因", "duplicate_of": "重复于", "canonical_doc_id": "采用文档", "stage": "阶段",
    "fund_scope": "资金范围", "table_type": "表号", "table_title": "表名", "func_code": "功能分类科目编码",
    "func_level": "科目级次", "func_name": "功能分类科目名称", "measure": "口径", "amount_yuan": "金额（元）",
    "page_no": "页码", "econ_code": "经济分类科目编码", "econ_level": "经济分类级次", "econ_name": "经济分类科目名称",
    "item": "项目", "amount_raw": "原文金额", "amount_unit": "原文单位", "project_id": "项目编号",
    "project_name": "项目名称", "project_category": "项目类别", "total_budget_yuan": "项目总预算（元）",
    "current_year_budget_yuan": "当年预算（元）", "fiscal_grant_yuan": "财政拨款（元）", "seq": "序号",
    "content": "内容", "detail": "明细", "level1": "一级指标", "level2": "二级指标", "indicator_name": "指标名称",
    "target_raw": "指标值（原文）", "target_kind": "指标值类型", "op": "运算符", "target_value": "指标值",
    "target_unit": "指标单位", "target_text": "指标值（文字）", "rule": "规则", "severity": "严重程度",
    "subject": "对象", "lhs": "左值", "rhs": "右值", "diff": "差额", "tolerance": "容差", "message": "说明",
    "budget_yuan": "预算数（元）", "final_yuan": "决算数（元）", "execution_rate": "执行率", "names": "名称（年度）",
    "first_year": "首年", "last_year": "末年", "parent_unit_key": "上级单位键", "region": "地区",
    "admin_level": "行政级别", "match_reason": "合并依据",
}  # fmt: skip


def is_view_name(target: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", target.strip()))


def _relation(con: duckdb.DuckDBPyConnection, target: str) -> tuple[str, str]:
    """(sheet or file name, SQL) for a view name or a query."""
    target = target.strip().rstrip(";")
    if is_view_name(target):
        if target not in view_names(con):
            raise ValueError(f"No view named {target!r}; the views are: {', '.join(PUBLIC_VIEWS)}")
        return target, f"SELECT * FROM {target}"
    return "query", target


def export(warehouse: Path, targets: list[str], fmt: str, out: Path | None) -> list[Path]:
    """Write each target (a view name or a query) and return the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    con = connect_read_only(warehouse)
    try:
        relations = [_relation(con, t) for t in targets]
        if fmt == "xlsx":
            path = Path(out or (relations[0][0] if len(relations) == 1 else "budgetwh") + ".xlsx")
            _write_xlsx(con, relations, path)
            return [path]
        if len(relations) == 1 and (out is None or not Path(out).is_dir()):
            paths = [Path(out or f"{relations[0][0]}.{fmt}")]
        else:
            folder = Path(out or "export")
            folder.mkdir(parents=True, exist_ok=True)
            paths = [folder / f"{name}.{fmt}" for name, _ in relations]
        for (_, sql), path in zip(relations, paths, strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            if fmt == "parquet":
                con.execute(f"COPY ({sql}) TO '{sql_string(path)}' (FORMAT parquet)")
            else:
                _write_csv(con, sql, path)
        return paths
    finally:
        con.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def _write_csv(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        while batch := cur.fetchmany(10_000):
            writer.writerows([_text(v) for v in row] for row in batch)


def _write_xlsx(con: duckdb.DuckDBPyConnection, relations: list[tuple[str, str]], path: Path) -> None:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_urls": False})
    try:
        header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        money = workbook.add_format({"num_format": "0.00"})
        ratio = workbook.add_format({"num_format": "0.000000"})
        used: set[str] = set()
        for name, sql in relations:
            sheet_name = _sheet_name(name, used)
            sheet = workbook.add_worksheet(sheet_name)
            cur = con.execute(sql)
            columns = [d[0] for d in cur.description]
            types = [str(d[1]) for d in cur.description]
            for c, col in enumerate(columns):
                sheet.write_string(0, c, CHINESE_HEADERS.get(col, col), header)
                sheet.write_string(1, c, col, header)
                sheet.set_column(c, c, max(10, min(40, len(col) + 4)))
            sheet.freeze_panes(2, 0)
            r = 2
            while batch := cur.fetchmany(10_000):
                for row in batch:
                    for c, value in enumerate(row):
                        _write_cell(sheet, r, c, value, types[c], money, ratio)
                    r += 1
            sheet.autofilter(1, 0, max(1, r - 1), max(0, len(columns) - 1))
    finally:
        workbook.close()


def _write_cell(sheet, r: int, c: int, value, type_name: str, money, ratio) -> None:
    if value is None:
        return
    if isinstance(value, Decimal):
        scale = re.search(r"DECIMAL\(\d+,\s*(\d+)\)", type_name.upper())
        fmt = money if scale and scale.group(1) == "2" else ratio
        sheet.write_number(r, c, float(value), fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(r, c, value)
    else:
        sheet.write_string(r, c, _text(value))


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base[:28]}_{n}"
    used.add(candidate.lower())
    return candidate
