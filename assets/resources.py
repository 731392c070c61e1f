"""The warehouse resource: where the DuckDB file and its lake live."""

from pathlib import Path

import dagster as dg

from pipelines.publish.lake import Lake, lake_dir_for
from pipelines.run.sources import default_warehouse


class WarehouseResource(dg.ConfigurableResource):
    """``path`` is the DuckDB warehouse file; its lake of per-document results sits beside it."""

    path: str = str(default_warehouse())
    # Rebuild the warehouse from the whole lake instead of replacing the changed documents' rows
    # (pipelines/publish/incremental.py); also BUDGETWH_FULL_REBUILD=1, budgetwh ingest --full-rebuild.
    full_rebuild: bool = False

    @property
    def warehouse_path(self) -> Path:
        return Path(self.path).resolve()

    @property
    def lake(self) -> Lake:
        return Lake(lake_dir_for(self.warehouse_path))
