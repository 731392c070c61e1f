"""Developer scripts: starting the Dagster UI for tests, screenshots of the UI."""
