"""`budgetwh export` on the corpus warehouse: Parquet keeps DECIMAL(18,2), CSV is UTF-8 with BOM,
XLSX opens in openpyxl with Chinese and English headers, frozen, amounts as numbers with two decimals."""

from __future__ import annotations

import csv
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pyarrow.parquet as pq

from pipelines.publish.warehouse import run_query
from tests.conftest import ROOT, needs_shared

pytestmark = needs_shared
# 上海市普陀区财政局 2024 决算, 支出决算表 (F3, p.10): 2010601 行政运行, 1511.89 万元
CZJ_FILTER = "unit_name = '上海市普陀区财政局' and fiscal_year = 2024 and func_code = '2010601' and measure = 'TOTAL' " \
             "and stage = 'FINAL' and fund_scope = 'ALL'"  # fmt: skip
CZJ_AMOUNT = Decimal("15118900.00")


def export(warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "export", *args, "--warehouse", str(warehouse)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_parquet_keeps_exact_decimals(corpus_warehouse, tmp_path):
    out = tmp_path / "fc.parquet"
    export(corpus_warehouse, "func_canonical", "--format", "parquet", "--out", str(out))
    assert str(pq.read_schema(out).field("amount_yuan").type) == "decimal128(18, 2)"
    frame = pl.read_parquet(out)
    assert frame.schema["amount_yuan"] == pl.Decimal(18, 2)
    got = frame.filter(
        (pl.col("unit_name") == "上海市普陀区财政局") & (pl.col("fiscal_year") == 2024) & (pl.col("func_code") == "2010601")
        & (pl.col("measure") == "TOTAL") & (pl.col("stage") == "FINAL") & (pl.col("fund_scope") == "ALL")
    )["amount_yuan"].to_list()  # fmt: skip
    assert got == [CZJ_AMOUNT]
    # the whole view round-trips: every amount equal to the warehouse's
    _, rows = run_query(corpus_warehouse, "select sum(amount_yuan), count(*) from func_canonical")
    assert (frame["amount_yuan"].sum(), frame.height) == rows[0]


def test_csv_is_utf8_with_bom_and_exact(corpus_warehouse, tmp_path):
    out = tmp_path / "q.csv"
    export(corpus_warehouse, f"select unit_name, amount_yuan from func_canonical where {CZJ_FILTER}", "--format",
           "csv", "--out", str(out))  # fmt: skip
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows == [["unit_name", "amount_yuan"], ["上海市普陀区财政局", "15118900.00"]]


def test_xlsx_has_a_sheet_per_view_with_real_values(corpus_warehouse, tmp_path):
    out = tmp_path / "all.xlsx"
    export(corpus_warehouse, "--all", "--format", "xlsx", "--out", str(out))
    workbook = openpyxl.load_workbook(out)
    assert {"documents", "func_canonical", "three_public", "units", "budget_vs_final"} <= set(workbook.sheetnames)
    sheet = workbook["func_canonical"]
    chinese = [c.value for c in sheet[1]]
    english = [c.value for c in sheet[2]]
    assert english[:3] == ["doc_id", "unit_name", "unit_key"] and chinese[1] == "单位名称"
    assert chinese[english.index("amount_yuan")] == "金额（元）"
    assert sheet.freeze_panes == "A3"
    col = {name: i for i, name in enumerate(english)}
    matches = [
        row for row in sheet.iter_rows(min_row=3)
        if row[col["unit_name"]].value == "上海市普陀区财政局" and row[col["fiscal_year"]].value == 2024
        and row[col["func_code"]].value == "2010601" and row[col["measure"]].value == "TOTAL"
        and row[col["stage"]].value == "FINAL" and row[col["fund_scope"]].value == "ALL"
    ]  # fmt: skip
    assert len(matches) == 1
    cell = matches[0][col["amount_yuan"]]
    assert isinstance(cell.value, (int, float)) and Decimal(str(cell.value)) == CZJ_AMOUNT  # a number, not text
    assert cell.number_format == "0.00"
    _, n = run_query(corpus_warehouse, "select count(*) from func_canonical")
    assert sheet.max_row == n[0][0] + 2
