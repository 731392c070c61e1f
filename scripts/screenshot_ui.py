"""Render the Dagster UI to PNGs for the README, so a reader sees what the UI shows:
docs/ui-asset-graph.png (the asset graph) and docs/ui-quarantined-document.png (the partition of a
quarantined document, with its reason).

    uv run python scripts/screenshot_ui.py [--out-dir docs] [--url http://127.0.0.1:3000]

Without --url it ingests the sample documents and a scanned (image-only) PDF into a temporary
warehouse, starts `budgetwh ui` on a free port, takes the screenshots and stops the UI; with --url
it takes the asset graph of a running UI. Needs Chromium and a CJK font (Debian: apt-get install
chromium fonts-wqy-zenhei).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.ui_server import UIServer  # noqa: E402

GROUPS = ("ingest", "facts", "warehouse")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("Chromium is not installed (Debian: apt-get install chromium).")


def asset_graph_url(base: str) -> str:
    # every group expanded (the UI keeps this in the query string), so each asset shows its box
    expanded = ",".join(f"global@global:{g}" for g in GROUPS)
    return f"{base}/asset-groups?expanded={urllib.parse.quote(expanded)}"


def screenshot(url: str, out: Path, size: str = "1600,1750") -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
             "--virtual-time-budget=25000", f"--screenshot={out}", url],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(ROOT / "docs"))
    parser.add_argument("--url", help="an already running UI (default: start one over the samples)")
    args = parser.parse_args()
    out_dir = Path(args.out_dir).resolve()
    graph_png, document_png = out_dir / "ui-asset-graph.png", out_dir / "ui-quarantined-document.png"
    if args.url:
        screenshot(asset_graph_url(args.url.rstrip("/")), graph_png)
        print(f"wrote {graph_png}")
        return 0
    from pipelines.publish.lake import Lake, lake_dir_for
    from pipelines.run.samples import write_samples
    from tests.badfiles import write_image_only

    with tempfile.TemporaryDirectory(prefix="budgetwh-ui-") as tmp:
        tmp = Path(tmp)
        (tmp / "inbox").mkdir()
        warehouse = tmp / "wh" / "warehouse.duckdb"
        env = dict(os.environ)
        env.update({
            "DAGSTER_HOME": str(tmp / "dagster_home"), "BUDGETWH_WAREHOUSE": str(warehouse),
            "BUDGETWH_INBOX": str(tmp / "inbox"),
        })  # fmt: skip
        files = write_samples(tmp / "samples", count=2)
        scan = write_image_only(files[0], tmp / "samples" / "扫描件.pdf")
        subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", str(tmp / "samples")], cwd=ROOT, env=env,
                       check=True, capture_output=True)  # fmt: skip
        scan_key = Lake(lake_dir_for(warehouse)).registry()[str(scan.resolve())].partition_key
        with UIServer(env, tmp / "ui.log") as ui:
            ui.graphql("mutation { setNuxSeen }")  # no "join the community" dialog over the pages
            screenshot(asset_graph_url(ui.url), graph_png)
            page = f"{ui.url}/assets/source_documents?view=partitions&partition={urllib.parse.quote(scan_key)}"
            screenshot(page, document_png, size="1600,1000")
    print(f"wrote {graph_png} and {document_png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
