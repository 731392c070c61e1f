"""Recognize: what a document is (``classify``), its tables wherever they stand (``titles``,
``tables``, ``columns``, ``rows``, ``table_facts``), then one package per family: ``budget``
(B1–B9), ``final`` (F0–F9 and the roster), ``perf_forms`` (绩效目标 forms, one module per form
family) and ``narrative`` (the text of a document). ``document`` puts them together."""
