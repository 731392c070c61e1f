-- The public views (ANALYST-INTERFACE.md). Names and columns are a contract: change them only
-- deliberately, with the data dictionary (docs/data-dictionary.md).

-- unit_key: the unit across names and years (units); duplicate_of: the doc_id a byte-identical copy
-- copies; canonical_doc_id: the document func_canonical and budget_vs_final use for this unit, year,
-- kind and scope (itself when it is that one; NULL when it holds no 功能分类 amounts or is not loaded).
CREATE OR REPLACE VIEW documents AS
SELECT doc_id, source_file, sha256, doc_kind, scope, unit_name, fiscal_year, page_count, status, error,
       unit_key, duplicate_of, canonical_doc_id
FROM doc_document;

-- One row per unit across its names and years (pipelines/publish/units.py).
CREATE OR REPLACE VIEW units AS
SELECT unit_key, unit_name, names, first_year, last_year, parent_unit_key, region, admin_level, match_reason
FROM dim_unit;

-- Facts of current documents only: quarantined files have none, superseded versions are hidden.
CREATE OR REPLACE VIEW loaded_documents AS
SELECT * FROM doc_document WHERE status = 'loaded';

-- Facts of tables that prove themselves: rows of an `unread` table (document_tables: its identities
-- mostly fail, a misreading) stay in the internal fact tables but are left out of every fact view.
-- member_unit_key / member_unit_label: the member unit a row is a fact of (dim_member_unit: a
-- 单位名称/单位编码 row, a block under a unit heading), NULL for the document's own unit. Every public
-- view shows the member unit's unit_key and unit_name where it is set.
CREATE OR REPLACE VIEW published_func_amount AS
SELECT f.*, m.unit_key AS member_unit_key, m.unit_name AS member_unit_label FROM fact_func_amount f
LEFT JOIN dim_member_unit m ON m.doc_id = f.doc_id AND m.member_unit_name = f.member_unit_name
WHERE f.source_kind <> 'TABLE' OR NOT EXISTS (
  SELECT 1 FROM doc_table t
  WHERE t.status = 'unread' AND t.doc_id = f.doc_id AND t.table_type = f.table_type
    AND f.page_no BETWEEN t.page_start AND t.page_end);

CREATE OR REPLACE VIEW published_econ_amount AS
SELECT f.*, m.unit_key AS member_unit_key, m.unit_name AS member_unit_label FROM fact_econ_amount f
LEFT JOIN dim_member_unit m ON m.doc_id = f.doc_id AND m.member_unit_name = f.member_unit_name
WHERE NOT EXISTS (
  SELECT 1 FROM doc_table t
  WHERE t.status = 'unread' AND t.doc_id = f.doc_id AND t.table_type = f.table_type
    AND f.page_no BETWEEN t.page_start AND t.page_end);

CREATE OR REPLACE VIEW published_three_public AS
SELECT f.*, m.unit_key AS member_unit_key, m.unit_name AS member_unit_label FROM fact_three_public f
LEFT JOIN dim_member_unit m ON m.doc_id = f.doc_id AND m.member_unit_name = f.member_unit_name
WHERE f.source_kind <> 'TABLE' OR NOT EXISTS (
  SELECT 1 FROM doc_table t
  WHERE t.status = 'unread' AND t.doc_id = f.doc_id AND t.table_type = f.table_type
    AND f.page_no BETWEEN t.page_start AND t.page_end);

CREATE OR REPLACE VIEW func_amounts AS
SELECT f.doc_id, coalesce(f.member_unit_label, d.unit_name) AS unit_name,
       coalesce(f.member_unit_key, d.unit_key) AS unit_key, d.fiscal_year, d.doc_kind, d.scope, f.stage, f.fund_scope, f.table_type,
       f.table_title, f.func_code, f.func_level, f.func_name, f.measure, f.amount_yuan, f.page_no
FROM published_func_amount f JOIN loaded_documents d USING (doc_id);

-- One amount per unit, year, kind, scope, stage, fund scope, code and measure: the preferred table
-- (支出总表 B3/F3, then the fund-scope tables B5/F5, then 收入总表 B2/F2), printed tables before
-- narrative quotes, so that sums never double count (ties broken by page, line and amount, so a
-- rebuild picks the same cell). Where two documents are the same unit, year,
-- kind and scope, every row comes from one of them: the later publication (canonical_doc_id,
-- pipelines/publish/canonical.py).
CREATE OR REPLACE VIEW canonical_documents AS
SELECT * FROM loaded_documents WHERE canonical_doc_id IS NULL OR canonical_doc_id = doc_id;

-- The canonical documents' function rows with the unit each row is a fact of (its member unit's or
-- its document's) as a plain column: a window partitioned by it lets DuckDB apply a filter on
-- unit_key (an incremental run's scope) before the window, not after it over every row.
--
-- The ..._of(doc_ids) table macros are these views over the rows of the listed documents only
-- (NULL: every document; the view is the macro of NULL, so both give the same rows). The filter
-- reaches the scan of fact_func_amount, below the join and the windows: an incremental run reads a
-- few units of a 10 M-row warehouse through them (pipelines/publish/incremental.py, scoped_view,
-- which lists every document a unit's rows can come from).
CREATE OR REPLACE MACRO canonical_func_rows_of(doc_ids) AS TABLE
SELECT f.*, coalesce(f.member_unit_label, d.unit_name) AS owner_unit_name,
       coalesce(f.member_unit_key, d.unit_key) AS owner_unit_key, d.fiscal_year, d.doc_kind, d.scope
FROM published_func_amount f JOIN canonical_documents d USING (doc_id)
WHERE doc_ids IS NULL OR list_contains(doc_ids, f.doc_id);

CREATE OR REPLACE VIEW canonical_func_rows AS
SELECT * FROM canonical_func_rows_of(CAST(NULL AS VARCHAR[]));

CREATE OR REPLACE MACRO func_canonical_of(doc_ids) AS TABLE
SELECT x.doc_id, x.owner_unit_name AS unit_name, x.owner_unit_key AS unit_key, x.fiscal_year, x.doc_kind, x.scope,
       x.stage, x.fund_scope, x.table_type, x.table_title, x.func_code, x.func_level, x.func_name, x.measure,
       x.amount_yuan, x.page_no
FROM canonical_func_rows_of(doc_ids) x
QUALIFY row_number() OVER (
  PARTITION BY x.owner_unit_key, x.fiscal_year, x.doc_kind, x.scope, x.stage, x.fund_scope, x.func_code, x.measure
  ORDER BY CASE WHEN x.amount_yuan IS NULL THEN 1 ELSE 0 END,
           CASE x.source_kind WHEN 'TABLE' THEN 0 ELSE 1 END,
           CASE x.table_type WHEN 'B3' THEN 1 WHEN 'F3' THEN 1 WHEN 'B5' THEN 2 WHEN 'F5' THEN 2
                             WHEN 'B2' THEN 3 WHEN 'F2' THEN 3 WHEN 'B4' THEN 4 WHEN 'F4' THEN 4 ELSE 9 END,
           x.doc_id, x.page_no, x.line_no, x.amount_yuan, x.func_name, x.row_label) = 1;

CREATE OR REPLACE VIEW func_canonical AS
SELECT * FROM func_canonical_of(CAST(NULL AS VARCHAR[]));

-- 基本支出 by economic classification. Where a document prints it twice (一般公共预算 and 财政拨款
-- versions, Jiangsu), the 一般公共预算 table is shown; a table of all funds (fund_scope ALL: 部门预算基本
-- 支出预算表, 基本支出预算情况表) only where the document prints neither.
CREATE OR REPLACE VIEW econ_amounts AS
SELECT f.doc_id, coalesce(f.member_unit_label, d.unit_name) AS unit_name,
       coalesce(f.member_unit_key, d.unit_key) AS unit_key, d.fiscal_year, d.doc_kind, d.scope, f.stage, f.econ_code, f.econ_level,
       f.econ_name, f.measure, f.amount_yuan, f.page_no
FROM published_econ_amount f JOIN loaded_documents d USING (doc_id)
QUALIFY rank() OVER (
  PARTITION BY f.doc_id, f.stage
  ORDER BY CASE f.fund_scope WHEN 'GPB' THEN 0 WHEN 'FISCAL_GRANT' THEN 1 ELSE 2 END) = 1;

CREATE OR REPLACE VIEW three_public AS
SELECT t.doc_id, coalesce(t.member_unit_label, d.unit_name) AS unit_name,
       coalesce(t.member_unit_key, d.unit_key) AS unit_key, d.fiscal_year, d.doc_kind, d.scope, t.stage, t.item, t.amount_yuan,
       t.amount_raw, t.amount_unit, t.page_no
FROM published_three_public t JOIN loaded_documents d USING (doc_id);

-- R-NARR-PRIOR, across documents: a change a 预算 states (比2019年预算减少80.08万元, 与上年持平) gives
-- last year's figure (narrative_facts.derived); where the same unit's document of that year is loaded,
-- the figure it states must agree (the closest of its statements of that subject). Tolerance: half a
-- unit of each of the three printed figures.
CREATE OR REPLACE MACRO narrative_prior_checks_of(doc_ids) AS TABLE
WITH facts AS (
  SELECT n.*, d.unit_key, d.fiscal_year AS doc_year, d.doc_kind,
         CAST(CASE WHEN n.unit = '万元' THEN 5000 WHEN n.unit = '亿元' THEN 50000000 ELSE 0.5 END AS DECIMAL(18,4))
           / CAST(10 ^ length(coalesce(nullif(split_part(n.printed, '.', 2), ''), '')) AS DECIMAL(18,4)) AS half
  FROM fact_narrative_fact n JOIN doc_document d USING (doc_id)
  WHERE d.status = 'loaded' AND n.amount_yuan IS NOT NULL AND n.topic <> 'other'
    AND (doc_ids IS NULL OR list_contains(doc_ids, n.doc_id))
),
pairs AS (
  SELECT dv.doc_id, dv.page_no, dv.topic, dv.code, dv.measure, dv.fiscal_year, dv.amount_yuan AS derived_yuan,
         dv.printed AS derived_printed, dv.unit, dv.sentence, st.doc_id AS prior_doc, st.page_no AS prior_page,
         st.amount_yuan AS stated_yuan, st.printed AS stated_printed, st.unit AS stated_unit,
         2 * dv.half + st.half AS tol,
         row_number() OVER (PARTITION BY dv.doc_id, dv.seq
                            ORDER BY abs(st.amount_yuan - dv.amount_yuan), st.doc_id, st.seq) AS pick
  FROM facts dv JOIN facts st
    ON st.unit_key = dv.unit_key AND st.doc_year = dv.fiscal_year AND st.doc_id <> dv.doc_id
   AND st.doc_kind = dv.doc_kind AND st.topic = dv.topic AND st.code IS NOT DISTINCT FROM dv.code
   AND (dv.code IS NOT NULL OR dv.topic = 'total')
   AND st.measure = dv.measure AND st.fiscal_year = dv.fiscal_year AND NOT st.derived AND st.stage = dv.stage
  WHERE dv.derived
)
SELECT doc_id, 'R-NARR-PRIOR' AS rule,
       CASE WHEN derived_yuan = stated_yuan THEN 'PASS' WHEN abs(derived_yuan - stated_yuan) <= tol THEN 'PASS_ROUNDING'
            ELSE 'FAIL' END AS status,
       CASE WHEN abs(derived_yuan - stated_yuan) <= tol THEN 'info' ELSE 'warning' END AS severity,
       CAST(NULL AS VARCHAR) AS table_type, page_no,
       concat(topic, ' ', coalesce(code, ''), ' ', measure, ' ', fiscal_year, ' (stated change vs ', prior_doc, ')') AS subject,
       derived_yuan AS lhs, stated_yuan AS rhs, derived_yuan - stated_yuan AS diff, CAST(tol AS DECIMAL(18,2)) AS tolerance,
       concat('the stated change gives ', fiscal_year, ' = ', derived_printed, unit, ', while the ', fiscal_year,
              ' document ', prior_doc, ' states ', stated_printed, stated_unit, ' (p.', prior_page, '). Sentence: “',
              left(sentence, 120), '”') AS message
FROM pairs WHERE pick = 1
UNION ALL
-- the same derived figures against the tables of that year's document (功能分类 rows, the 三公 table):
-- the closest row of that code and stage, as a text can quote any of the tables that print it
SELECT doc_id, 'R-NARR-PRIOR' AS rule,
       CASE WHEN derived_yuan = table_yuan THEN 'PASS' WHEN abs(derived_yuan - table_yuan) <= tol THEN 'PASS_ROUNDING'
            ELSE 'FAIL' END AS status,
       CASE WHEN abs(derived_yuan - table_yuan) <= tol THEN 'info' ELSE 'warning' END AS severity,
       prior_table AS table_type, page_no,
       concat(topic, ' ', code, ' ', measure, ' ', fiscal_year, ' (stated change vs ', prior_table, ' of ', prior_doc, ')')
         AS subject,
       derived_yuan AS lhs, table_yuan AS rhs, derived_yuan - table_yuan AS diff, CAST(tol AS DECIMAL(18,2)) AS tolerance,
       concat('the stated change gives ', fiscal_year, ' = ', derived_printed, unit, ', while ', prior_table, ' of the ',
              fiscal_year, ' document ', prior_doc, ' prints ', table_printed, table_unit, ' (p.', prior_page,
              '). Sentence: “', left(sentence, 120), '”') AS message
FROM (
  SELECT dv.doc_id, dv.page_no, dv.topic, dv.code, dv.measure, dv.fiscal_year, dv.amount_yuan AS derived_yuan,
         dv.printed AS derived_printed, dv.unit, dv.sentence, p.doc_id AS prior_doc, p.page_no AS prior_page,
         p.table_type AS prior_table, p.amount_yuan AS table_yuan, p.amount_raw AS table_printed,
         p.amount_unit AS table_unit,
         2 * dv.half + CASE WHEN p.amount_unit = '万元' THEN 50 ELSE 0.005 END AS tol,
         row_number() OVER (PARTITION BY dv.doc_id, dv.seq
                            ORDER BY abs(p.amount_yuan - dv.amount_yuan), p.doc_id, p.page_no, p.table_type) AS pick
  FROM facts dv JOIN (
    SELECT d.unit_key, d.fiscal_year, d.doc_kind, 'func' AS topic, f.func_code AS code, f.stage, f.doc_id, f.page_no,
           f.table_type, f.amount_yuan, f.amount_raw, f.amount_unit
    FROM published_func_amount f JOIN doc_document d USING (doc_id)
    WHERE d.status = 'loaded' AND f.measure = 'TOTAL' AND f.source_kind = 'TABLE' AND f.amount_yuan IS NOT NULL
      AND f.member_unit_name IS NULL  -- the department's own figures, as its text states them
      AND (doc_ids IS NULL OR list_contains(doc_ids, f.doc_id))
    UNION ALL
    SELECT d.unit_key, d.fiscal_year, d.doc_kind, 'three_public', t.item, t.stage, t.doc_id, t.page_no,
           t.table_type, t.amount_yuan, t.amount_raw, t.amount_unit
    FROM fact_three_public t JOIN doc_document d USING (doc_id)
    WHERE d.status = 'loaded' AND t.source_kind = 'TABLE' AND t.amount_yuan IS NOT NULL
      AND t.member_unit_name IS NULL
      AND (doc_ids IS NULL OR list_contains(doc_ids, t.doc_id))
  ) p
    ON p.unit_key = dv.unit_key AND p.fiscal_year = dv.fiscal_year AND p.doc_id <> dv.doc_id
   AND p.doc_kind = dv.doc_kind AND p.topic = dv.topic AND p.code = dv.code AND p.stage = dv.stage
  WHERE dv.derived AND dv.topic IN ('func', 'three_public') AND dv.code IS NOT NULL AND dv.measure = 'TOTAL'
) table_pairs WHERE pick = 1;

-- pairs are a unit's documents (by the documents' unit_key): the macro of the documents of some units
-- gives every check of their documents (incremental.scoped_view)
CREATE OR REPLACE VIEW narrative_prior_checks AS
SELECT * FROM narrative_prior_checks_of(CAST(NULL AS VARCHAR[]));

CREATE OR REPLACE MACRO quality_findings_of(doc_ids) AS TABLE
SELECT c.doc_id, d.unit_key, c.rule, c.status, c.severity, c.table_type, c.page_no, c.subject, c.lhs, c.rhs,
       c.diff, c.tolerance, c.message
FROM (SELECT * FROM fact_check UNION ALL SELECT * FROM fact_publication_check UNION ALL SELECT * FROM narrative_prior_checks_of(doc_ids)) c
JOIN doc_document d USING (doc_id)
WHERE d.status <> 'superseded';

CREATE OR REPLACE VIEW quality_findings AS
SELECT * FROM quality_findings_of(CAST(NULL AS VARCHAR[]));

-- 预算 vs 决算 (DOMAIN.md §5.4): one row per unit, year, fund scope and 功能分类 code, the budget and
-- the final from whichever documents hold them. Both sides are TOTAL amounts at the same fund scope.
-- Budget: the figures a 决算 states itself (its table columns 全年预算数/年初预算数, or the 年初预算 /
-- 全年预算 its 情况说明 quotes per 项, which is what its printed 完成率 is measured against), else the
-- 预算 document of that year; the adjusted budget (全年预算) before the initial one (年初预算), a
-- 部门 document before a 单位 one, then the preferred table as in func_canonical.
-- Final: the 决算 document's tables (支出决算表 F3, then F5, F2, F4, then the 类 rows of F1).
-- execution_rate = final / budget (a ratio: 0.982 is 98.2 %), NULL when either is missing or the
-- budget is 0.
-- Ties are broken by name and row label last (as in func_canonical): two rows of one line and amount
-- that differ only in the name (珠海 B4 p.8) were picked by the order they reached the window.
CREATE OR REPLACE MACRO budget_vs_final_of(doc_ids) AS TABLE
WITH budget AS (
  SELECT f.owner_unit_key AS unit_key, f.fiscal_year, f.fund_scope, f.func_code,
         f.func_level, f.func_name, f.amount_yuan,
         row_number() OVER (
           PARTITION BY f.owner_unit_key, f.fiscal_year, f.fund_scope, f.func_code
           ORDER BY CASE f.doc_kind WHEN 'FINAL_ACCOUNT' THEN 0 ELSE 1 END,
                    CASE f.source_kind WHEN 'TABLE' THEN 0 ELSE 1 END,
                    CASE f.stage WHEN 'BUDGET_ADJUSTED' THEN 0 ELSE 1 END,
                    CASE f.scope WHEN '部门' THEN 0 ELSE 1 END,
                    CASE f.table_type WHEN 'B3' THEN 1 WHEN 'F3' THEN 1 WHEN 'B5' THEN 2 WHEN 'F5' THEN 2
                                      WHEN 'B2' THEN 3 WHEN 'F2' THEN 3 WHEN 'B4' THEN 4 WHEN 'F4' THEN 4
                                      ELSE 9 END,
                    f.doc_id, f.page_no, f.line_no, f.amount_yuan, f.func_name, f.row_label) AS pick
  FROM canonical_func_rows_of(doc_ids) f
  WHERE f.measure = 'TOTAL' AND f.stage IN ('BUDGET_INITIAL', 'BUDGET_ADJUSTED')
    AND f.amount_yuan IS NOT NULL AND f.doc_kind IN ('BUDGET', 'FINAL_ACCOUNT')
),
final AS (
  SELECT f.owner_unit_key AS unit_key, f.fiscal_year, f.fund_scope, f.func_code,
         f.func_level, f.func_name, f.amount_yuan,
         row_number() OVER (
           PARTITION BY f.owner_unit_key, f.fiscal_year, f.fund_scope, f.func_code
           ORDER BY CASE f.scope WHEN '部门' THEN 0 ELSE 1 END,
                    CASE f.table_type WHEN 'F3' THEN 1 WHEN 'F5' THEN 2 WHEN 'F2' THEN 3 WHEN 'F4' THEN 4
                                      ELSE 9 END,
                    f.doc_id, f.page_no, f.line_no, f.amount_yuan, f.func_name, f.row_label) AS pick
  FROM canonical_func_rows_of(doc_ids) f
  WHERE f.measure = 'TOTAL' AND f.stage = 'FINAL' AND f.source_kind = 'TABLE'
    AND f.amount_yuan IS NOT NULL AND f.doc_kind = 'FINAL_ACCOUNT'
)
SELECT u.unit_name, u.unit_key,
       coalesce(fi.fiscal_year, b.fiscal_year) AS fiscal_year,
       coalesce(fi.fund_scope, b.fund_scope) AS fund_scope,
       coalesce(fi.func_code, b.func_code) AS func_code,
       coalesce(fi.func_level, b.func_level) AS func_level,
       coalesce(nullif(fi.func_name, ''), b.func_name) AS func_name,
       b.amount_yuan AS budget_yuan,
       fi.amount_yuan AS final_yuan,
       -- exact: integer 分, rounded half away from zero to 6 decimals (DuckDB divides DECIMALs in DOUBLE)
       CASE WHEN b.amount_yuan IS NULL OR b.amount_yuan = 0 OR fi.amount_yuan IS NULL THEN NULL
            ELSE CAST(CAST(sign(fi.amount_yuan) * sign(b.amount_yuan)
                           * ((2 * abs(CAST(fi.amount_yuan * 100 AS HUGEINT)) * 1000000
                               + abs(CAST(b.amount_yuan * 100 AS HUGEINT)))
                              // (2 * abs(CAST(b.amount_yuan * 100 AS HUGEINT)))) AS DECIMAL(18, 0))
                      * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(18, 6))
       END AS execution_rate
FROM (SELECT * FROM budget WHERE pick = 1) b
FULL OUTER JOIN (SELECT * FROM final WHERE pick = 1) fi
  ON fi.unit_key = b.unit_key AND fi.fiscal_year = b.fiscal_year AND fi.fund_scope = b.fund_scope
 AND fi.func_code = b.func_code
LEFT JOIN dim_unit u ON u.unit_key = coalesce(fi.unit_key, b.unit_key);

CREATE OR REPLACE VIEW budget_vs_final AS
SELECT * FROM budget_vs_final_of(CAST(NULL AS VARCHAR[]));

-- 绩效目标 forms. unit_name and fiscal_year are the document's where it names them (so that projects
-- join the other views), else what the form prints.
CREATE OR REPLACE VIEW projects AS
SELECT p.project_id, p.doc_id, coalesce(d.unit_name, p.unit_name) AS unit_name, d.unit_key,
       coalesce(p.fiscal_year, d.fiscal_year) AS fiscal_year, p.project_name, p.project_category,
       p.total_budget_yuan, p.current_year_budget_yuan, p.fiscal_grant_yuan, p.page_no
FROM fact_project p JOIN loaded_documents d USING (doc_id);

CREATE OR REPLACE VIEW project_line_items AS
SELECT i.project_id, i.seq, i.content, i.detail, i.amount_yuan
FROM fact_project_line_item i JOIN projects p USING (project_id);

-- One row per printed indicator row (the counts of target-values.md). A cell holding several
-- indicators keeps them together here, joined by '；' (its parts, one per row: indicator_parts).
CREATE OR REPLACE VIEW indicators AS
SELECT i.project_id, p.project_name, p.unit_name, p.unit_key, p.fiscal_year, i.seq, i.level1, i.level2,
       i.cell_name AS indicator_name, i.target_raw, i.target_kind, i.op, i.target_value, i.target_unit,
       i.target_text
FROM fact_indicator i JOIN projects p USING (project_id)
WHERE i.part_no = 1;

-- Not in the contract (additive): every indicator of a split cell on its own row, and the name key
-- that follows a project across years.
CREATE OR REPLACE VIEW indicator_parts AS
SELECT i.project_id, p.project_name, p.unit_name, p.fiscal_year, i.seq, i.part_no, i.parts_in_cell, i.level1,
       i.level2, i.indicator_name, i.target_raw, i.target_kind, i.op, i.target_value, i.target_unit,
       i.target_text
FROM fact_indicator i JOIN projects p USING (project_id);

CREATE OR REPLACE VIEW project_series AS
SELECT f.name_key, p.fiscal_year, p.unit_name, p.project_id, p.project_name, p.current_year_budget_yuan
FROM fact_project f JOIN projects p USING (project_id);

-- Every table of every current document and what its own arithmetic proved
-- (pipelines/validate/rules/table_status.py; docs/data-dictionary.md#document_tables).
-- pages: 'n' or 'n-m' as printed in the PDF (for a text extraction: 'line n-m').
CREATE OR REPLACE VIEW document_tables AS
SELECT t.doc_id, t.table_type, t.title,
       CASE WHEN t.page_start IS NULL THEN NULL
            ELSE concat(CASE WHEN d.source_format = 'text' THEN 'line ' ELSE '' END, t.page_start::VARCHAR,
                        CASE WHEN t.page_end > t.page_start THEN '-' || t.page_end::VARCHAR ELSE '' END)
       END AS pages,
       t.amount_unit AS unit, t.n_rows AS rows, t.identities_passed, t.identities_rounding,
       t.identities_failed, t.status, t.reason
FROM doc_table t JOIN loaded_documents d USING (doc_id)
ORDER BY t.doc_id, t.table_seq;

-- The 功能分类 / 经济分类 catalogue: one row per code and name, with the years it was printed under it
-- and where the entry comes from (pipelines/normalize/reference/README.md).
CREATE OR REPLACE VIEW func_codes AS
SELECT code, level, name, parent_code, first_year, last_year, source FROM ref_func_code;

CREATE OR REPLACE VIEW econ_codes AS
SELECT code, level, name, parent_code, first_year, last_year, source FROM ref_econ_code;

-- Every figure stated in a document's text (预算 编制说明 / 情况说明, 决算 情况说明) as a fact.
-- fiscal_year: the year the figure is about (a 比2019年 change in a 2020 document gives a 2019 row,
-- derived = true). unit_key: a placeholder (unit_name) until the units table is joined here.
CREATE OR REPLACE VIEW narrative_facts AS
SELECT n.doc_id, d.unit_name, d.unit_key, coalesce(n.fiscal_year, d.fiscal_year) AS fiscal_year,
       n.stage, n.topic, n.code, n.measure, n.amount_yuan, n.printed, n.unit, n.percent, n.page_no, n.sentence,
       n.derived
FROM fact_narrative_fact n JOIN loaded_documents d USING (doc_id);
