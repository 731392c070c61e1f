"""绩效目标 forms: projects, their line items, indicators and 制度保障 rows (DOMAIN.md §2.2, §2.3, §3, §4.1).

One recognizer per form family, each returning ``ProjectForm`` records:

- ``shanghai.shanghai_district_forms``: 财政项目支出绩效目标申报表 in three parts (项目总体情况 / 绩效目标 /
  制度保障), as in seed 003 (22 projects after the budget tables) and seed 004 (standalone, 2019).
- ``suzhou.suzhou_forms``: 苏州市级财政支出项目绩效目标申报表 (seeds 000 and 002), amounts in 万元.
- ``central.central_target_tables``: the 项目绩效目标表 of central-unit budgets (西南大学 2023: 一级/二级/三级
  指标, 指标值, 分值), amounts in 万元.
- ``putuo.putuo_target_forms``: 财政项目支出绩效目标填报表 of Shanghai Putuo budgets (万里街道 2023), in 元.
- ``expense_notes.project_expense_notes``: 项目经费情况说明 pages (Putuo 2024/2025): a project described in prose,
  with its 年度预算安排, but no indicator table; loaded only where no form of the other families is.

Text extractions have no cell geometry: merged labels (一级/二级目标, 类别) land on an arbitrary row of
their range and columns shift from row to row, so rows are read by what their cells say, not by
position. PDF grids carry geometry: a label merged over several rows is read from the cell that
covers each row (``Grid.origins``).

Personal data (联系人, 联系电话, 项目负责人) is never read into a record; free text that is kept is
scrubbed of mobile numbers.
"""
