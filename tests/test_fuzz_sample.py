"""A small fixed sample of the fuzzing of benchmarks/fuzz_ingest.py: twelve damaged copies of real
corpus PDFs (truncated, byte-flipped streams and xref, zero-filled blocks, HTML named .pdf) ingested
into a warehouse that holds good documents. Every file ends loaded or quarantined with a reason,
the run does not fail, and the good documents' rows are exactly as before."""

from benchmarks.fuzz_ingest import MUTATIONS, fuzz
from tests.conftest import needs_shared


@needs_shared
def test_twelve_mutations_are_each_loaded_or_quarantined_and_the_good_rows_stay(tmp_path):
    report = fuzz(tmp_path / "fuzz", n=12, seed=3, runs=1, max_bytes=400_000)
    assert report["files"] == 12
    assert report["failed_runs"] == 0, report["run_errors"]
    assert report["unaccounted"] == 0 and report["without_reason"] == 0, report["statuses"]
    assert sum(report["statuses"].values()) == 12
    assert {key.split(" → ")[0] for key in report["by_mutation"]} == set(MUTATIONS)
    # these mutations are recognized for what they are
    # two error pages of the same site are the same bytes: the second is a duplicate of the first
    html = report["by_mutation"].get("html → not a PDF", 0)
    assert html >= 1 and html + report["by_mutation"].get("html → duplicate", 0) == 2
    assert report["by_mutation"].get("truncate → truncated", 0) >= 2
    assert report["good_rows_unchanged"]
    assert report["good_rows"]["func_amounts"] > 0 and report["good_rows"]["projects"] > 0
