"""budgetwh's domain core, one package per stage of the flow (docs/architecture.md):

    read → recognize → normalize → validate → publish, orchestrated by run

``parse`` takes one document through the per-document stages; ``cli`` is the ``budgetwh``
command. Imports run one way: a module imports only from its own stage or the stages below it
(normalize, read, recognize, validate, parse, publish, run, cli), never back up
(tests/test_architecture.py)."""

import os

# Polars allocates through jemalloc, which by default keeps freed pages for 10 s: the short-lived
# frames of a publish (a 42,000-document warehouse's derivation, its comparisons) then stay in the
# process beside DuckDB's buffers and add up to its peak (measured: a run's largest process 440 →
# 410 MB). Pages are returned when freed instead. Read once, when Polars first allocates: set
# here, before any stage imports it (a process that imported Polars first keeps its own setting).
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
