"""Where budgetwh keeps things by default: the checkout, the warehouse, the inbox, a warehouse's
Dagster home, the user's cache. Standard library only, so the command line can start without the parser
(``pipelines/run/serve_client.py``); ``pipelines.run.sources`` re-exports these names."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_INBOX = PROJECT_ROOT / "data" / "inbox"


def default_warehouse() -> Path:
    return Path(os.environ.get("BUDGETWH_WAREHOUSE") or DEFAULT_WAREHOUSE)


def default_inbox() -> Path:
    """The folder the sensor and the nightly schedule watch (``BUDGETWH_INBOX``, default data/inbox)."""
    return Path(os.environ.get("BUDGETWH_INBOX") or DEFAULT_INBOX)


def default_dagster_home(warehouse: Path) -> Path:
    """Each warehouse keeps its Dagster instance beside it unless DAGSTER_HOME says otherwise."""
    return Path(os.environ.get("DAGSTER_HOME") or Path(warehouse).resolve().parent / "dagster_home")


def cache_dir() -> Path:
    """budgetwh's folder of the user's cache: the Dagster home template (``assets/instance_template.py``)
    and the warm server's socket (``pipelines/run/serve_client.py``)."""
    configured = os.environ.get("BUDGETWH_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "budgetwh"
