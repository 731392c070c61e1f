-- Internal tables of the budgetwh warehouse. Loaded from the per-document lake (Parquet) on every
-- publish; analysts query the views of views.sql, whose names and columns are the public contract.
-- Amounts are DECIMAL(18,2) in 元; *_raw keeps the printed string, *_unit the printed unit.

-- The tables of a row per document or unit hold no PRIMARY KEY: a checkpoint rewrites a changed
-- table's whole key index (~1 s for these three at 42,000 documents, on every incremental run).
-- Their keys' uniqueness is the quality gate's: the documents and units suites (critical, decided
-- over the whole view, constraints.py), and publish_doc_state's in constraints.orphan_rows.
CREATE TABLE doc_document (
  doc_id          VARCHAR NOT NULL,      -- first 16 hex digits of the file's sha256; unique
  source_file     VARCHAR NOT NULL,      -- path as ingested
  sha256          VARCHAR NOT NULL,
  doc_kind        VARCHAR,               -- BUDGET | FINAL_ACCOUNT | PERF_FORM
  scope           VARCHAR,               -- 部门 | 单位
  unit_name       VARCHAR,
  fiscal_year     INTEGER,
  page_count      INTEGER,
  status          VARCHAR NOT NULL,      -- loaded | quarantined | superseded
  error           VARCHAR,               -- why a document was quarantined, for a person
  title           VARCHAR,
  source_format   VARCHAR,               -- pdf | text
  parser_version  VARCHAR,
  parsed_at       TIMESTAMP,
  parse_seconds   DOUBLE,
  superseded_by   VARCHAR,
  unit_key        VARCHAR,               -- dim_unit (pipelines/publish/units.py)
  duplicate_of    VARCHAR,               -- a byte-identical copy: the doc_id of the file it copies
  canonical_doc_id VARCHAR               -- the document the canonical views use for this unit, year, kind, scope
);

-- One unit across its names and years (pipelines/publish/units.py): the rules that joined its names
-- in match_reason.
CREATE TABLE dim_unit (
  unit_key VARCHAR NOT NULL, unit_name VARCHAR, names VARCHAR, first_year INTEGER, last_year INTEGER,
  parent_unit_key VARCHAR, region VARCHAR, admin_level VARCHAR, match_reason VARCHAR
);

-- A department's member units printed in its tables (a 单位名称/单位编码 row, a block under a unit
-- heading): the unit_key each is published under (pipelines/publish/units.py).
CREATE TABLE dim_member_unit (
  doc_id VARCHAR, member_unit_name VARCHAR, unit_key VARCHAR, unit_name VARCHAR
);

CREATE TABLE fact_func_amount (
  doc_id VARCHAR, stage VARCHAR, fund_scope VARCHAR, table_type VARCHAR, table_title VARCHAR,
  func_code VARCHAR, func_level TINYINT, func_name VARCHAR, measure VARCHAR,
  amount_yuan DECIMAL(18,2), amount_raw VARCHAR, amount_unit VARCHAR, source_kind VARCHAR,
  page_no INTEGER, line_no INTEGER, row_label VARCHAR,
  member_unit_name VARCHAR  -- a member unit's row (as printed); NULL: the document's unit
);

CREATE TABLE fact_econ_amount (
  doc_id VARCHAR, stage VARCHAR, fund_scope VARCHAR, table_type VARCHAR, econ_code VARCHAR,
  econ_level TINYINT, econ_name VARCHAR, measure VARCHAR, amount_yuan DECIMAL(18,2),
  amount_raw VARCHAR, amount_unit VARCHAR, page_no INTEGER, line_no INTEGER, row_label VARCHAR,
  member_unit_name VARCHAR
);

CREATE TABLE fact_three_public (
  doc_id VARCHAR, stage VARCHAR, table_type VARCHAR, item VARCHAR, amount_yuan DECIMAL(18,2),
  amount_raw VARCHAR, amount_unit VARCHAR, source_kind VARCHAR, page_no INTEGER, line_no INTEGER,
  member_unit_name VARCHAR
);

-- Rows of total tables that are not classification rows (收入总计, 一、财政拨款收入, 合计 …),
-- kept for the balance and total identities.
CREATE TABLE fact_summary_line (
  doc_id VARCHAR, stage VARCHAR, fund_scope VARCHAR, table_type VARCHAR, label VARCHAR, measure VARCHAR,
  amount_yuan DECIMAL(18,2), amount_raw VARCHAR, amount_unit VARCHAR, page_no INTEGER, line_no INTEGER,
  member_unit_name VARCHAR
);

-- One physical table as published (may span pages), empty tables with their explanation.
CREATE TABLE dim_table_instance (
  doc_id VARCHAR, table_type VARCHAR, title VARCHAR, amount_unit VARCHAR, page_start INTEGER,
  page_end INTEGER, line_start INTEGER, is_empty BOOLEAN, empty_note VARCHAR, n_facts INTEGER
);

-- One row per table of a document (B1–B9, F0–F9, 绩效目标 forms) with what its own identities proved
-- (pipelines/validate/rules/table_status.py). page_start/page_end are lines for a text extraction.
CREATE TABLE doc_table (
  doc_id VARCHAR, table_seq INTEGER, table_type VARCHAR, title VARCHAR, amount_unit VARCHAR,
  page_start INTEGER, page_end INTEGER, n_rows INTEGER, identities_passed INTEGER,
  identities_rounding INTEGER, identities_failed INTEGER, status VARCHAR, reason VARCHAR
);

-- One evaluated check (identity or expectation) per row.
CREATE TABLE fact_check (
  doc_id VARCHAR, rule VARCHAR, status VARCHAR, severity VARCHAR, table_type VARCHAR, page_no INTEGER,
  subject VARCHAR, lhs DECIMAL(18,2), rhs DECIMAL(18,2), diff DECIMAL(18,2), tolerance DECIMAL(18,2),
  message VARCHAR
);

-- Findings about documents as a whole (pipelines/publish/canonical.py: two publications of one unit,
-- year, kind and scope), same columns as fact_check.
CREATE TABLE fact_publication_check AS SELECT * FROM fact_check WITH NO DATA;

-- F0 部门决算单位构成: the member units of a department.
CREATE TABLE bridge_dept_unit (
  doc_id VARCHAR, seq INTEGER, member_unit_name VARCHAR, remark VARCHAR, page_no INTEGER
);

-- 绩效目标 forms (pipelines/perf_forms.py, DOMAIN.md §2.2, §2.3, §3). project_id = doc_id || '-P' || seq.
-- No personal data: 项目负责人, 联系人 and 联系电话 are never loaded; kept free text is scrubbed of phone numbers.
CREATE TABLE fact_project (
  doc_id VARCHAR, project_id VARCHAR, seq INTEGER,
  form_family VARCHAR,                   -- SH_DISTRICT | SUZHOU | CENTRAL | PUTUO | EXPENSE_NOTE
  table_type VARCHAR,                    -- P1 (Shanghai 项目总体情况) | S1 (Suzhou) | PT (绩效目标表) | PN (项目经费情况说明)
  project_name VARCHAR, name_key VARCHAR, -- name_key: the name reduced to follow a project across years
  unit_name VARCHAR,                     -- as printed on the form (申报单位 / 实施单位), NULL when not printed
  fiscal_year INTEGER, project_category VARCHAR, category_raw VARCHAR, category_confidence VARCHAR,
  project_type VARCHAR, start_date VARCHAR, end_date VARCHAR, amount_unit VARCHAR,
  total_budget_yuan DECIMAL(18,2), current_year_budget_yuan DECIMAL(18,2), current_year_budget_raw VARCHAR,
  fiscal_grant_yuan DECIMAL(18,2), upper_grant_yuan DECIMAL(18,2), own_level_yuan DECIMAL(18,2),
  lower_level_yuan DECIMAL(18,2), other_funds_yuan DECIMAL(18,2), carryover_yuan DECIMAL(18,2),
  line_total_yuan DECIMAL(18,2), line_total_raw VARCHAR, -- 金额合计 / 合计 as printed (checked, not summed)
  n_line_items INTEGER, n_indicators INTEGER, goal_text VARCHAR, page_no INTEGER, line_no INTEGER, notes VARCHAR
);

-- 项目构成分解 (Shanghai), 项目资金构成 (Suzhou), 年度预算安排 items (项目经费情况说明). 金额合计 rows are not items.
CREATE TABLE fact_project_line_item (
  doc_id VARCHAR, project_id VARCHAR, seq INTEGER, content VARCHAR, detail VARCHAR,
  amount_yuan DECIMAL(18,2), amount_raw VARCHAR, amount_unit VARCHAR, unit_price_yuan DECIMAL(18,2),
  quantity DECIMAL(18,4), remark VARCHAR, page_no INTEGER, line_no INTEGER
);

-- One row per indicator: seq is the printed row; a cell holding several indicators (H15) gives one row
-- per part (part_no, parts_in_cell, split_from_cell) sharing the row's target. cell_name is the whole cell.
CREATE TABLE fact_indicator (
  doc_id VARCHAR, project_id VARCHAR, seq INTEGER, part_no INTEGER, parts_in_cell INTEGER,
  split_from_cell BOOLEAN, scheme VARCHAR, level1_raw VARCHAR, level1 VARCHAR, level2_raw VARCHAR,
  level2 VARCHAR, level_confidence VARCHAR, subproject VARCHAR, indicator_name VARCHAR, cell_name VARCHAR,
  target_raw VARCHAR, target_kind VARCHAR, op VARCHAR, op_raw VARCHAR, target_value DECIMAL(18,4),
  target_unit VARCHAR, unit_raw VARCHAR, unit_multiplier DECIMAL(18,4), target_value_scaled DECIMAL(18,4),
  per_period VARCHAR, target_text VARCHAR, explanation VARCHAR, target_source VARCHAR, score VARCHAR,
  page_no INTEGER, line_no INTEGER
);

-- 制度保障 (Shanghai P3): one row per (project, 制度类别, 文件名称) with the three stage marks.
CREATE TABLE fact_project_control (
  doc_id VARCHAR, project_id VARCHAR, seq INTEGER, control_type VARCHAR, doc_name VARCHAR, measures VARCHAR,
  stage_plan BOOLEAN, stage_impl BOOLEAN, stage_close BOOLEAN, page_no INTEGER, line_no INTEGER
);

-- The 功能分类 / 经济分类 code catalogue (pipelines/normalize/reference/*_codes.csv, loaded on every build).
CREATE TABLE ref_func_code (
  code VARCHAR, level TINYINT, name VARCHAR, parent_code VARCHAR, first_year INTEGER, last_year INTEGER,
  source VARCHAR
);
CREATE TABLE ref_econ_code (
  code VARCHAR, level TINYINT, name VARCHAR, parent_code VARCHAR, first_year INTEGER, last_year INTEGER,
  source VARCHAR
);

CREATE TABLE warehouse_meta (
  key VARCHAR PRIMARY KEY,
  value VARCHAR
);

-- Bookkeeping of incremental publishing (pipelines/publish/incremental.py): the state of every
-- document row the warehouse was loaded from (Lake.document_states); a document whose state in
-- the lake differs is deleted and loaded again.
CREATE TABLE publish_doc_state (
  doc_id VARCHAR NOT NULL,  -- unique (no key index: see doc_document)
  state  VARCHAR NOT NULL
);

-- Every number stated in a 决算 情况说明, with the sentence it came from (DOMAIN.md §5.2).
-- role: BUDGET_INITIAL (年初预算) | BUDGET_ADJUSTED (全年预算/调整预算) | FINAL (决算) |
--       EXECUTION_RATE (完成预算的 x%; basis = the stage it is measured against) | SHARE (占 x%) |
--       CHANGE (增加/减少/增长/下降) | OTHER. subject: the 项 path as printed, GPB_TOTAL, or the clause.
-- func_code: the 项 resolved against the document's tables; resolved_by NAME | AMOUNT | CODE.
CREATE TABLE fact_narrative_number (
  doc_id VARCHAR, seq INTEGER, page_no INTEGER, section VARCHAR, subject VARCHAR, role VARCHAR,
  basis VARCHAR, value DECIMAL(18,4), value_raw VARCHAR, unit VARCHAR, amount_yuan DECIMAL(18,2),
  func_code VARCHAR, resolved_by VARCHAR, sentence VARCHAR
);

-- Every figure of a document's text (预算 编制说明 / 情况说明, 决算 情况说明) as a fact (view narrative_facts).
-- fiscal_year: the year the figure is about; derived: computed from a stated change (比2019年预算减少…:
-- last year = this year + 减少额 / − 增加额; 持平 = equal), not printed. number_seq: its fact_narrative_number.
-- topic: total | func | econ | three_public | org_running_cost | procurement | assets | project | other.
CREATE TABLE fact_narrative_fact (
  doc_id VARCHAR, seq INTEGER, number_seq INTEGER, fiscal_year INTEGER, stage VARCHAR, topic VARCHAR,
  code VARCHAR, measure VARCHAR, amount_yuan DECIMAL(18,2), printed VARCHAR, unit VARCHAR,
  percent DECIMAL(18,4), page_no INTEGER, sentence VARCHAR, derived BOOLEAN
);
