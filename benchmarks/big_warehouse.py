"""Big-warehouse benchmark: analyst queries over ≥ 10 million ``func_amounts`` rows.

It writes a lake of combined tables the way ``pipelines/combine.py`` does (``<lake>/tables/
doc_document.parquet`` and ``fact_func_amount.parquet``, rows in doc_id order as the per-document
folders are combined), generated entirely in DuckDB SQL: ``--units`` units (default 2,000) ×
``--years`` years (10) × both kinds (部门预算 and 部门决算), each unit with 4–12 功能分类 项 codes
drawn from the codes observed in the real corpus (``../shared/corpus/codes/observed_codes.csv``,
else the sample generator's list), their 款 and 类 roll-ups, and the tables and measures real
documents carry (B1–B5, F1–F5, narrative quotes), amounts DECIMAL(18,2) in 元 with 款 = Σ 项 and
类 = Σ 款. About 1 % of documents also have a superseded older version and 0.5 % a quarantined
upload, so the views' status filter has work to do.

Then it publishes that lake with the project's own ``pipelines.publish.warehouse.build_candidate`` (DDL of
sql/tables.sql, ``INSERT … BY NAME`` from the Parquet files, views of sql/views.sql, CHECKPOINT) and
``promote``, and times "教育支出 (类 205) by unit and year" over all years through the public views
``func_amounts`` and ``func_canonical``: the first query on a fresh read-only connection (cold
for DuckDB; the OS page cache is warm) and the best of 3 after it, plus the same through the
``budgetwh query`` command (process start included) and straight over the lake's Parquet files.

    .venv/bin/python benchmarks/big_warehouse.py                  # temp dir, removed at the end
    .venv/bin/python benchmarks/big_warehouse.py --out /tmp/big --keep --explain
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from pipelines.normalize.catalog import FUNC_CLASS_NAMES  # noqa: E402
from pipelines.publish.combine import tables_dir  # noqa: E402
from pipelines.publish.lake import Lake, lake_dir_for  # noqa: E402
from pipelines.publish.warehouse import build_candidate, promote  # noqa: E402
from pipelines.run.samples import ITEMS, KUAN  # noqa: E402

OBSERVED_CODES = ROOT.parent / "shared" / "corpus" / "codes" / "observed_codes.csv"

# (kind, stage, fund_scope, table_type, title, 类 rows only, measures, source_kind): the function
# tables real documents carry (measures as the recognizers name them; see a warehouse of the corpus).
LAYOUT: list[tuple[str, str, str, str | None, str, bool, tuple[str, ...], str]] = [
    ("BUDGET", "BUDGET_INITIAL", "ALL", "B1", "财务收支预算总表", True, ("TOTAL",), "TABLE"),
    ("BUDGET", "BUDGET_INITIAL", "ALL", "B2", "收入预算总表", False,
     ("TOTAL", "GRANT_TOTAL", "INC_BUSINESS", "INC_OPERATING", "INC_OTHER"), "TABLE"),
    ("BUDGET", "BUDGET_INITIAL", "ALL", "B3", "支出预算总表", False, ("TOTAL", "BASIC", "PROJECT"), "TABLE"),
    ("BUDGET", "BUDGET_INITIAL", "FISCAL_GRANT", "B4", "财政拨款收支预算总表", True,
     ("TOTAL", "GRANT_GPB", "GRANT_GOVFUND", "GRANT_SOE"), "TABLE"),
    ("BUDGET", "BUDGET_INITIAL", "GPB", "B5", "一般公共预算支出功能分类预算表", False,
     ("TOTAL", "BASIC", "PROJECT"), "TABLE"),
    ("FINAL_ACCOUNT", "FINAL", "ALL", "F1", "收入支出决算总表", True, ("TOTAL",), "TABLE"),
    ("FINAL_ACCOUNT", "FINAL", "ALL", "F2", "收入决算表", False,
     ("TOTAL", "GRANT_TOTAL", "INC_UPPER", "INC_BUSINESS", "INC_OPERATING", "INC_AFFILIATE", "INC_OTHER"), "TABLE"),
    ("FINAL_ACCOUNT", "FINAL", "ALL", "F3", "支出决算表", False,
     ("TOTAL", "BASIC", "PROJECT", "EXP_TO_UPPER", "EXP_OPERATING", "EXP_AFFILIATE"), "TABLE"),
    ("FINAL_ACCOUNT", "FINAL", "FISCAL_GRANT", "F4", "财政拨款收入支出决算总表", True,
     ("TOTAL", "GRANT_GPB", "GRANT_GOVFUND", "GRANT_SOE"), "TABLE"),
    ("FINAL_ACCOUNT", "FINAL", "GPB", "F5", "一般公共预算财政拨款支出决算表", False,
     ("TOTAL", "BASIC", "PROJECT"), "TABLE"),
    ("FINAL_ACCOUNT", "BUDGET_INITIAL", "GPB", None, "情况说明", False, ("TOTAL",), "NARRATIVE"),
]  # fmt: skip

DISTRICTS = ["示范区", "样例区", "测试区", "模拟区", "浦江区", "临港区", "滨湖区", "新城区"]
UNIT_KINDS = ["财政局", "教育局", "卫生健康委员会", "农业农村委员会", "人民政府办公室", "街道办事处", "中学", "医院"]

QUERIES: dict[str, str] = {
    # 教育支出 of every unit, every year, budget and final, from the 支出总表 (one table: no double count)
    "func_amounts": """
        SELECT unit_name, fiscal_year, doc_kind, sum(amount_yuan) AS education_yuan
        FROM func_amounts
        WHERE func_code = '205' AND measure = 'TOTAL' AND fund_scope = 'ALL' AND table_type IN ('B3', 'F3')
        GROUP BY unit_name, fiscal_year, doc_kind
        ORDER BY unit_name, fiscal_year, doc_kind""",
    # the same through the de-duplicated view: one amount per unit, year, kind, scope, stage, fund scope
    "func_canonical": """
        SELECT unit_name, fiscal_year, doc_kind, stage, amount_yuan AS education_yuan
        FROM func_canonical
        WHERE func_code = '205' AND measure = 'TOTAL' AND fund_scope = 'ALL'
        ORDER BY unit_name, fiscal_year, doc_kind, stage""",
    # one unit over ten years, every 类 (the README's example)
    "one_unit": """
        SELECT fiscal_year, func_code, func_name, amount_yuan
        FROM func_canonical
        WHERE unit_name = '{unit}' AND func_level = 1 AND measure = 'TOTAL' AND fund_scope = 'ALL'
          AND doc_kind = 'BUDGET'
        ORDER BY fiscal_year, func_code""",
}


# ---------------------------------------------------------------------------------------------
# Codes


def code_names() -> dict[str, str]:
    """功能分类 codes (类, 款, 项) with names: the codes observed in the real corpus where that file is
    beside the project, always with the sample generator's codes and the 类 catalogue."""
    names: dict[str, str] = {code: v[0] for code, v in FUNC_CLASS_NAMES.items()}
    names.update(KUAN)
    names.update(ITEMS)
    if OBSERVED_CODES.exists():
        with open(OBSERVED_CODES, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                code = row["code"].strip()
                if row["classification"].startswith("function") and row["flag"] == "primary" and code.isdigit():
                    names.setdefault(code, row["name"].strip())
    return names


def item_codes(names: dict[str, str]) -> list[str]:
    return sorted(c for c in names if len(c) == 7 and c[:3] in FUNC_CLASS_NAMES)


# ---------------------------------------------------------------------------------------------
# Generation (DuckDB SQL → the lake's combined Parquet tables)


def generate_lake(lake: Lake, units: int, years: int, first_year: int, threads: int | None) -> dict[str, int]:
    names = code_names()
    items = item_codes(names)
    out = tables_dir(lake)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = true")
    con.execute("CREATE TABLE code_name (code VARCHAR, name VARCHAR)")
    con.executemany("INSERT INTO code_name VALUES (?, ?)", sorted(names.items()))
    con.execute("CREATE TABLE item (code VARCHAR)")
    con.executemany("INSERT INTO item VALUES (?)", [(c,) for c in items])
    con.execute(
        "CREATE TABLE layout (kind VARCHAR, stage VARCHAR, fund_scope VARCHAR, table_type VARCHAR, title VARCHAR, "
        "class_only BOOLEAN, measure VARCHAR, source_kind VARCHAR, table_no INTEGER, measure_no INTEGER)"
    )
    con.executemany(
        "INSERT INTO layout VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (kind, stage, scope, ttype, title, class_only, measure, source, t, m)
            for t, (kind, stage, scope, ttype, title, class_only, measures, source) in enumerate(LAYOUT)
            for m, measure in enumerate(measures)
        ],
    )
    con.execute(
        f"""
        CREATE TABLE unit AS
        SELECT u AS unit_no,
               '上海市' || list_extract({DISTRICTS!r}, 1 + (hash(u, 'district') % {len(DISTRICTS)})::INTEGER)
                     || list_extract({UNIT_KINDS!r}, 1 + (u % {len(UNIT_KINDS)})::INTEGER)
                     || lpad(CAST(u // {len(UNIT_KINDS)} + 1 AS VARCHAR), 4, '0') AS unit_name,
               CASE WHEN hash(u, 'scope') % 3 = 0 THEN '单位' ELSE '部门' END AS scope,
               4 + (hash(u, 'n') % 9)::INTEGER AS n_items
        FROM range({units}) r(u)"""
    )
    # a unit keeps its 项 from year to year (one in ten is missing in a given document)
    con.execute(
        """
        CREATE TABLE unit_item AS
        SELECT unit_no, code FROM (
          SELECT u.unit_no, i.code, u.n_items,
                 row_number() OVER (PARTITION BY u.unit_no ORDER BY hash(u.unit_no, i.code)) AS rn
          FROM unit u CROSS JOIN item i)
        WHERE rn <= n_items"""
    )
    con.execute(
        f"""
        CREATE TABLE doc AS
        WITH current AS (
          SELECT u.unit_no, u.unit_name, u.scope, y AS fiscal_year, k AS kind,
                 substr(md5(u.unit_name || y || k || 'v1'), 1, 16) AS doc_id
          FROM unit u, range({first_year}, {first_year + years}) t(y), (VALUES ('BUDGET'), ('FINAL_ACCOUNT')) v(k)
        )
        SELECT *, 'loaded' AS status, CAST(NULL AS VARCHAR) AS superseded_by FROM current
        UNION ALL  -- an older upload of the same document, replaced by the one above
        SELECT unit_no, unit_name, scope, fiscal_year, kind, substr(md5(doc_id || 'v0'), 1, 16), 'superseded', doc_id
        FROM current WHERE hash(doc_id, 'superseded') % 100 = 0"""
    )
    con.execute(
        """
        CREATE TABLE doc_item AS
        WITH base AS (
          SELECT d.doc_id, d.kind, ui.code,
                 CAST(100000 + hash(d.unit_no, ui.code, 'amount') % 5000000000 AS BIGINT) AS cents,
                 CAST(hash(d.unit_no, ui.code, 'basic') % 101 AS BIGINT) AS basic_pct,
                 CAST(90 + hash(d.doc_id, ui.code, 'drift') % 21 AS BIGINT) AS drift_pct
          FROM doc d JOIN unit_item ui USING (unit_no)
          WHERE d.status = 'loaded' AND hash(d.doc_id, ui.code, 'present') % 10 <> 0
             OR d.status = 'superseded'
        )
        SELECT doc_id, kind, code, cents * drift_pct // 100 AS total, cents * drift_pct // 100 * basic_pct // 100 AS basic
        FROM base"""
    )
    con.execute(
        """
        CREATE TABLE doc_code AS
        SELECT doc_id, kind, code, level, CAST(sum(total) AS BIGINT) AS total, CAST(sum(basic) AS BIGINT) AS basic
        FROM (SELECT doc_id, kind, code, 3 AS level, total, basic FROM doc_item
              UNION ALL SELECT doc_id, kind, left(code, 5), 2, total, basic FROM doc_item
              UNION ALL SELECT doc_id, kind, left(code, 3), 1, total, basic FROM doc_item)
        GROUP BY ALL"""
    )
    fact = out / "fact_func_amount.parquet"
    con.execute(
        f"""
        COPY (
          WITH rows AS (
            SELECT c.doc_id, l.stage, l.fund_scope, l.table_type,
                   CASE WHEN l.table_type IS NULL THEN NULL ELSE d.fiscal_year || '年' || d.scope || l.title END
                     AS table_title,
                   c.code AS func_code, c.level AS func_level, coalesce(n.name, '') AS func_name, l.measure,
                   CASE l.measure WHEN 'TOTAL' THEN c.total WHEN 'GRANT_TOTAL' THEN c.total
                                  WHEN 'GRANT_GPB' THEN c.total WHEN 'BASIC' THEN c.basic
                                  WHEN 'PROJECT' THEN c.total - c.basic END AS cents,
                   l.source_kind, 3 + l.table_no AS page_no, l.table_no, l.measure_no
            FROM doc_code c
            JOIN doc d USING (doc_id)
            JOIN layout l ON l.kind = c.kind AND (NOT l.class_only OR c.level = 1)
                         AND (l.source_kind = 'TABLE' OR (c.level = 3 AND hash(c.doc_id, c.code) % 4 = 0))
            LEFT JOIN code_name n ON n.code = c.code
          )
          SELECT doc_id, stage, fund_scope, table_type, table_title, func_code, CAST(func_level AS TINYINT) AS func_level,
                 func_name, measure, CAST(CAST(cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)) AS amount_yuan,
                 coalesce(CAST(CAST(CAST(cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)) AS VARCHAR), '') AS amount_raw,
                 '元' AS amount_unit, source_kind, CAST(page_no AS INTEGER) AS page_no,
                 CAST(row_number() OVER (PARTITION BY doc_id, table_no, measure_no ORDER BY func_code) AS INTEGER)
                   AS line_no,
                 func_name AS row_label
          FROM rows
          ORDER BY doc_id, page_no, measure_no, func_code
        ) TO '{fact}' (FORMAT parquet, ROW_GROUP_SIZE 122880)"""
    )
    documents = out / "doc_document.parquet"
    con.execute(
        f"""
        COPY (
          SELECT doc_id, '/data/inbox/' || unit_name || fiscal_year || CASE kind WHEN 'BUDGET' THEN '年部门预算' ELSE '年部门决算' END
                   || CASE status WHEN 'superseded' THEN '(旧版)' ELSE '' END || '.pdf' AS source_file,
                 md5(doc_id) || md5(doc_id || 'x') AS sha256, kind AS doc_kind, scope, unit_name,
                 CAST(fiscal_year AS INTEGER) AS fiscal_year,
                 CAST(CASE kind WHEN 'BUDGET' THEN 12 ELSE 24 END AS INTEGER) AS page_count, status,
                 CAST(NULL AS VARCHAR) AS error, unit_name || fiscal_year || '年' AS title, 'pdf' AS source_format,
                 'bench' AS parser_version, '2025-01-01 02:00:00' AS parsed_at, 0.5 AS parse_seconds, superseded_by
          FROM doc
          UNION ALL  -- quarantined uploads: a document row, no facts
          SELECT substr(md5(doc_id || 'q'), 1, 16), '/data/inbox/scan-' || doc_id || '.pdf', md5(doc_id || 'q') || md5(doc_id),
                 NULL, NULL, NULL, NULL, 8, 'quarantined',
                 'The PDF has no text layer (8 pages of images only, e.g. a scan); it would need OCR.', NULL, 'pdf',
                 'bench', '2025-01-01 02:00:00', 0.1, NULL
          FROM doc WHERE status = 'loaded' AND hash(doc_id, 'quarantined') % 200 = 0
          ORDER BY doc_id
        ) TO '{documents}' (FORMAT parquet)"""
    )
    (out / "_fingerprint.json").write_text(json.dumps({"fingerprint": f"bench-{units}x{years}"}), encoding="utf-8")
    counts = {
        "units": units,
        "documents": con.execute(f"SELECT count(*) FROM read_parquet('{documents}')").fetchone()[0],
        "fact_func_amount": con.execute(f"SELECT count(*) FROM read_parquet('{fact}')").fetchone()[0],
        "item_codes": len(items),
    }
    con.close()
    return counts


# ---------------------------------------------------------------------------------------------
# Timing


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def time_query(warehouse: Path, sql: str, repeat: int) -> dict:
    """First run on a fresh read-only connection (as ``budgetwh query`` opens one), then the best of
    ``repeat`` on the same connection."""
    return _time_on(duckdb.connect(str(warehouse), read_only=True), sql, repeat)


def _time_on(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> dict:
    """Cold run, then the best of ``repeat``, on ``con`` (closed afterwards)."""
    try:
        cold, rows = timed(lambda: con.execute(sql).fetchall())
        warm = [timed(lambda: con.execute(sql).fetchall())[0] for _ in range(repeat)]
    finally:
        con.close()
    return {"rows": len(rows), "cold": cold, "best": min(warm), "runs": warm}


def time_cli(warehouse: Path, sql: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "query", sql, "--warehouse", str(warehouse), "--format", "csv"],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def time_lake_query(lake: Lake, repeat: int) -> dict:
    """The 205 query straight over the lake's Parquet files (no warehouse): what a reader on object
    storage would run."""
    t = tables_dir(lake)
    sql = f"""
        SELECT d.unit_name, d.fiscal_year, d.doc_kind, sum(f.amount_yuan) AS education_yuan
        FROM read_parquet('{t / "fact_func_amount.parquet"}') f
        JOIN read_parquet('{t / "doc_document.parquet"}') d USING (doc_id)
        WHERE d.status = 'loaded' AND f.func_code = '205' AND f.measure = 'TOTAL' AND f.fund_scope = 'ALL'
          AND f.table_type IN ('B3', 'F3')
        GROUP BY ALL ORDER BY ALL"""
    return _time_on(duckdb.connect(), sql, repeat)


VALIDATE = """
import json, sys, time
from pathlib import Path
from pipelines.publish.gate import validate_warehouse
started = time.perf_counter()
outcomes = validate_warehouse(Path(sys.argv[1]))
seconds = time.perf_counter() - started
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
failed = sum(not o.success for v in outcomes.values() for o in v)
print(json.dumps({"seconds": seconds, "peak_rss_mb": hwm / 1024, "failed": failed}))
"""


def time_quality_gate(warehouse: Path) -> dict:
    """The publish path's quality gate (``pipelines.publish.gate.validate_warehouse``: every public view
    read into pandas and checked by its Great Expectations suite) on this warehouse, in a fresh
    process: seconds and that process's peak RSS (GE's import included)."""
    proc = subprocess.run(
        [sys.executable, "-c", VALIDATE, str(warehouse)], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def explain(warehouse: Path, sql: str) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return "\n".join(r[1] for r in con.execute("EXPLAIN ANALYZE " + sql).fetchall())
    finally:
        con.close()


def mb(path: Path) -> float:
    return path.stat().st_size / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", help="folder for the lake and the warehouse (default: a temp dir, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    p.add_argument("--units", type=int, default=2000)
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--first-year", type=int, default=2015)
    p.add_argument("--repeat", type=int, default=3, help="warm runs of each query (best is reported)")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads for generation (default: all)")
    p.add_argument("--reuse", action="store_true", help="reuse the lake and warehouse already in --out")
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query")
    p.add_argument(
        "--quality-gate",
        action="store_true",
        help="also time the Great Expectations gate on this warehouse (memory grows with rows: keep --units small)",
    )
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)

    out = Path(args.out or tempfile.mkdtemp(prefix="budgetwh-big-"))
    out.mkdir(parents=True, exist_ok=True)
    warehouse = out / "warehouse.duckdb"
    lake = Lake(lake_dir_for(warehouse))
    results: dict = {"out": str(out), "cpus": os.cpu_count()}
    try:
        if not (args.reuse and warehouse.exists()):
            shutil.rmtree(lake.root, ignore_errors=True)
            warehouse.unlink(missing_ok=True)
            gen_s, counts = timed(lambda: generate_lake(lake, args.units, args.years, args.first_year, args.threads))
            print(
                f"generated lake tables in {gen_s:.1f}s: {counts['units']} units, {counts['documents']} documents, "
                f"{counts['fact_func_amount']:,} fact_func_amount rows ({counts['item_codes']} 项 codes); "
                f"fact_func_amount.parquet {mb(tables_dir(lake) / 'fact_func_amount.parquet'):.0f} MB",
                flush=True,
            )
            build_s, candidate = timed(lambda: build_candidate(lake, warehouse, run="bench"))
            promote(candidate, warehouse, lake)
            print(f"published with pipelines.publish.warehouse.build_candidate in {build_s:.1f}s", flush=True)
            results.update(generate_seconds=gen_s, publish_seconds=build_s, **counts)
        con = duckdb.connect(str(warehouse), read_only=True)
        n_rows = con.execute("SELECT count(*) FROM func_amounts").fetchone()[0]
        unit = con.execute(
            "SELECT unit_name FROM documents WHERE status = 'loaded' ORDER BY unit_name LIMIT 1"
        ).fetchone()[0]
        con.close()
        results.update(func_amounts_rows=n_rows, warehouse_mb=mb(warehouse))
        print(f"warehouse {warehouse}: {mb(warehouse):.0f} MB, func_amounts {n_rows:,} rows")
        for name, sql in QUERIES.items():
            sql = sql.format(unit=unit)
            r = time_query(warehouse, sql, args.repeat)
            r["cli"] = time_cli(warehouse, sql)
            results[f"query_{name}"] = r
            verdict = "under 1 s" if r["best"] < 1 and r["cold"] < 1 else "NOT under 1 s"
            print(
                f"query {name:<15} {r['rows']:>6} rows   cold {r['cold']:.3f}s   best of {args.repeat} "
                f"{r['best']:.3f}s   via 'budgetwh query' {r['cli']:.2f}s (process start included)   {verdict}",
                flush=True,
            )
            if args.explain:
                print(explain(warehouse, sql))
        if (tables_dir(lake) / "fact_func_amount.parquet").exists():
            r = time_lake_query(lake, args.repeat)
            results["query_lake_parquet"] = r
            print(f"query 205 over the lake's Parquet (no warehouse)   cold {r['cold']:.3f}s   best {r['best']:.3f}s")
        if args.quality_gate:
            r = time_quality_gate(warehouse)
            results["quality_gate"] = r
            print(
                f"quality gate (GE suites on every view) {r['seconds']:.1f}s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                f"{r['failed']} failed expectations",
                flush=True,
            )
    finally:
        if not args.keep and not args.out:
            shutil.rmtree(out, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
