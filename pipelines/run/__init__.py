"""Run: orchestration shared by the CLI, the Dagster assets and the tests: source files and
their registration (``sources``), the pool of parsing processes (``pool``), what a run did
(``results``) and the sample documents (``samples``)."""
