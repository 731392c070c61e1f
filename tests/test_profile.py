"""`budgetwh profile` on the corpus warehouse: a self-contained page with the unit's real figures,
rendered by a real browser (headless Chromium) when one is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import ROOT, needs_shared

pytestmark = needs_shared
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.fixture(scope="module")
def czj_profile(corpus_warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "czj.html"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "profile", "上海市普陀区财政局", "--out", str(out),
         "--warehouse", str(corpus_warehouse)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_profile_is_self_contained_with_the_units_figures(czj_profile):
    page = czj_profile.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=['\"]https?://", page)  # nothing fetched: works offline
    assert "<script" not in page and page.count("<svg") >= 5
    assert "上海市普陀区财政局（本级）" in page  # a member unit from the 决算 roster
    # 2010601 行政运行, 一般公共预算 2024: 年初预算 1560.05 万元, 决算 1511.89 万元 → 96.9 %
    assert "2010601 行政运行" in page and "96.9 %" in page
    # the findings link to the document at its page
    assert re.search(
        r"href='file://[^']*%E6%B5%8B%E8%AF%95%E9%97%AE%E9%A2%98%E7%89%88%E6%9C%AC[^']*\.pdf#page=\d+'", page
    )


def test_unknown_unit_says_how_to_list_units(corpus_warehouse, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "profile", "不存在的单位", "--warehouse", str(corpus_warehouse)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2 and "select * from units" in proc.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (apt-get install chromium): the browser test is skipped")
def test_profile_renders_in_headless_chromium(czj_profile, tmp_path):
    png = tmp_path / "profile.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600",
         f"--screenshot={png}", czj_profile.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    image = Image.open(png).convert("RGB")
    assert image.size == (1200, 1600)
    # the charts are drawn: many pixels of the palette's first colour (#4e79a7), not a blank page
    colours = image.getcolors(maxcolors=1 << 20) or []
    bars = sum(n for n, rgb in colours if max(abs(a - b) for a, b in zip(rgb, (0x4E, 0x79, 0xA7), strict=True)) < 8)
    assert bars > 5000
