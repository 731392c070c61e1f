"""Real bad input files, generated for the tests: what a nightly inbox receives on a bad day."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from reportlab.lib import pdfencrypt
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from pipelines.run.samples import render_pdf, render_text, synthetic_units

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def write_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def write_truncated(good_pdf: Path, path: Path) -> Path:
    """The first 60 % of a good PDF: an interrupted download."""
    data = good_pdf.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


def write_corrupt(good_pdf: Path, path: Path) -> Path:
    """A PDF damaged in the middle (its page content overwritten by noise), head and end intact."""
    import random

    data = bytearray(good_pdf.read_bytes())
    start, end = int(len(data) * 0.3), int(len(data) * 0.7)
    data[start:end] = random.Random(1).randbytes(end - start)
    path.write_bytes(bytes(data))
    return path


def write_encrypted(path: Path, *, user_password: str, seed: int = 5):
    """A sample budget PDF, encrypted by reportlab. With a user password nobody can open it without
    the password. Without one it opens for everybody (only editing is restricted), but pdfminer
    then cannot map reportlab's CID font to Unicode: the text comes out as '(cid:1193)'."""
    unit = synthetic_units(1, seed=seed)[0]
    enc = pdfencrypt.StandardEncryption(user_password, ownerPassword="owner-secret", canModify=0)
    return unit, render_pdf(unit, path, encrypt=enc)


def write_not_budget(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(_font(), 16)
    c.drawString(72, 760, "关于召开2025年度安全生产工作会议的通知")
    c.setFont(_font(), 11)
    for i, line in enumerate(
        [
            "各有关单位：",
            "定于2025年3月12日上午9:30在区政府第一会议室召开安全生产工作会议。",
            "请各单位主要负责人准时参加。",
        ]
    ):
        c.drawString(72, 720 - 20 * i, line)
    c.save()
    return path


def write_image_only(good_pdf: Path, path: Path, pages: int = 2) -> Path:
    """A 'scan': the pages of a real PDF rendered to pictures, with no text layer."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader

    src = pdfium.PdfDocument(str(good_pdf))
    c = canvas.Canvas(str(path), pagesize=A4)
    for i in range(min(pages, len(src))):
        image = src[i].render(scale=1.0).to_pil()
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        buf.seek(0)
        c.drawImage(ImageReader(buf), 0, 0, width=A4[0], height=A4[1])
        c.showPage()
    c.save()
    src.close()
    return path


def write_gbk_text(path: Path, seed: int = 11):
    """A 单位预算 text extraction saved in GBK (as Windows tools in China often save it)."""
    unit = synthetic_units(1, seed=seed)[0]
    path.write_bytes(render_text(unit).encode("gbk"))
    return unit, path


def write_copy(original: Path, path: Path) -> Path:
    shutil.copyfile(original, path)
    return path


def write_large_pdf(source_pdf: Path, path: Path, pages: int) -> Path:
    """A very large PDF made of the real pages of ``source_pdf``, repeated (pypdfium2)."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(source_pdf))
    dst = pdfium.PdfDocument.new()
    while len(dst) < pages:
        dst.import_pages(src, list(range(min(len(src), pages - len(dst)))))
    dst.save(str(path))
    dst.close()
    src.close()
    return path


def write_sample_pdf(path: Path, seed: int):
    unit = synthetic_units(1, seed=seed)[0]
    return unit, render_pdf(unit, path)
