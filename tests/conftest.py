"""Shared fixtures. Tests that need the real documents read ../shared (beside the checkout) and
skip with a message where it is absent (a user's own machine)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BUDGETWH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"

# A developer's running `budgetwh serve` (assets/serve.py) does not take the tests' ingests: each
# runs in its own process unless a test asks for a server of its own (tests/test_serve.py).
os.environ.setdefault("BUDGETWH_SERVER", "0")

needs_shared = pytest.mark.skipif(
    not CORPUS.is_dir() or not SEEDS.is_dir(),
    reason=f"the real documents are not here ({SHARED} is absent): tests on ../shared are skipped",
)


def seed(name_prefix: str) -> Path:
    matches = sorted(SEEDS.glob(f"{name_prefix}*"))
    assert matches, f"no seed {name_prefix}* in {SEEDS}"
    return matches[0]


def corpus_file(relative: str) -> Path:
    path = CORPUS / relative
    assert path.exists(), f"missing corpus file {path}"
    return path


def _parse(path: str):
    from pipelines.parse import parse_document

    return parse_document(Path(path))


_PARSED: dict[str, object] = {}


def parse_all(paths: list[Path]) -> dict[Path, object]:
    """Parse documents once per test session, two processes at a time."""
    todo = [str(p) for p in paths if str(p) not in _PARSED]
    if todo:
        # forkserver, not fork: a test process that already ran Polars has its thread pool up, and a
        # forked child deadlocks on it (seen when a second document is parsed mid-session)
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=min(2, len(todo)), mp_context=context) as pool:
            for path, parsed in zip(todo, pool.map(_parse, todo), strict=True):
                _PARSED[path] = parsed
    return {p: _PARSED[str(p)] for p in paths}


@pytest.fixture(scope="session")
def parsed():
    """``parsed(path)`` → ParsedDocument, cached for the session."""

    def get(path: Path):
        return parse_all([path])[path]

    return get


@pytest.fixture(scope="session")
def corpus_warehouse(tmp_path_factory) -> Path:
    """The whole of ../shared (corpus, national documents, seeds) ingested once per session by the
    real command, into a warehouse of its own."""
    import subprocess
    import sys

    if not CORPUS.is_dir() or not SEEDS.is_dir():
        pytest.skip(f"the real documents are not here ({SHARED} is absent)")
    reuse = os.environ.get("BUDGETWH_TEST_CORPUS_WAREHOUSE")  # while iterating: a warehouse built the same way
    if reuse and Path(reuse).exists():
        return Path(reuse)
    tmp = tmp_path_factory.mktemp("corpus_wh")
    warehouse = tmp / "wh" / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(tmp / "dagster_home"), "BUDGETWH_WAREHOUSE": str(warehouse)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "ingest", str(CORPUS), str(SEEDS)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, f"corpus ingest failed:\n{proc.stdout}\n{proc.stderr}"
    return warehouse


def doc_table_at(doc, table_type: str, page_start: int) -> dict:
    """The one ``doc_table`` row of a parsed document's table of that type starting on that page."""
    import polars as pl

    tables = doc.frames["doc_table"].filter((pl.col("table_type") == table_type) & (pl.col("page_start") == page_start))
    assert tables.height == 1, tables
    return tables.row(0, named=True)
