"""Page triage: read the pages that hold only running text with pdfium, which is about 15 times
faster than pdfplumber here, and leave to pdfplumber the pages that need its geometry.

A page needs geometry when it draws anything (path objects: the ruling lines of a table, the
frame of a form): pdfplumber finds tables from those lines. A page without a single path object
cannot hold a ruled table, so all that is read from it is its lines of text. pdfium gives each
character's origin and advance box; lines are rebuilt from them exactly as from pdfplumber's
characters (``lines.lines_from_words``), with each font's vertical extent taken over the page, as
pdfminer takes it from the font, so that digits set in another font on a lower baseline stay on
their line (DOMAIN.md P1).

A page is left to pdfplumber when pdfium cannot map a character to Unicode (pdfplumber's reading
decides then whether the text is undecodable) or when text is rotated. Any pdfium failure (an
encrypted or damaged file) leaves every page to pdfplumber, whose errors say what is wrong.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from pipelines.read.model import Page


def triage_enabled() -> bool:
    return os.environ.get("BUDGETWH_PAGE_TRIAGE", "1").strip().lower() not in ("0", "false", "no", "off")


def _page_chars(textpage, height: float) -> list[dict] | None:
    """The characters of a page in pdfplumber's coordinates (top-down), or None when pdfium's
    reading could differ from pdfplumber's (unmapped or rotated characters)."""
    import pypdfium2.raw as raw

    box = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    found: list[tuple[str, float, float, float, tuple]] = []
    extent: dict[tuple, tuple[float, float]] = {}
    for i in range(raw.FPDFText_CountChars(textpage)):
        if raw.FPDFText_IsGenerated(textpage, i) == 1:
            continue  # spaces and line breaks pdfium inserts itself
        code = raw.FPDFText_GetUnicode(textpage, i)
        if code in (0, 0xFFFD, 0xFFFE) or raw.FPDFText_HasUnicodeMapError(textpage, i) == 1:
            return None
        if raw.FPDFText_GetCharAngle(textpage, i) not in (0.0, -1.0):
            return None
        ch = chr(code)
        if ch in "\r\n":
            continue
        raw.FPDFText_GetLooseCharBox(textpage, i, box)
        raw.FPDFText_GetCharOrigin(textpage, i, ox, oy)
        font = raw.FPDFTextObj_GetFont(raw.FPDFText_GetTextObject(textpage, i))
        key = (ctypes.cast(font, ctypes.c_void_p).value, round(raw.FPDFText_GetFontSize(textpage, i), 2))
        up, down = box.top - oy.value, box.bottom - oy.value
        seen = extent.get(key)
        extent[key] = (max(seen[0], up), min(seen[1], down)) if seen else (up, down)
        found.append((ch, box.left, box.right, oy.value, key))
    chars = []
    for ch, x0, x1, baseline, key in found:
        up, down = extent[key]
        top, bottom = height - (baseline + up), height - (baseline + down)
        chars.append(
            {
                "text": ch, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "upright": True,
                "y0": height - bottom, "y1": height - top, "width": x1 - x0, "height": bottom - top,
                "size": bottom - top, "matrix": (1, 0, 0, 1, x0, height - bottom), "fontname": "",
            }
        )  # fmt: skip
    return chars


def _text_page(pdf_page, page_no: int) -> Page | None:
    import pypdfium2.raw as raw
    from pdfplumber.utils.text import WordExtractor

    from pipelines.read.lineless import page_items

    drawn = raw.FPDFPage_CountObjects(pdf_page) and any(
        True for _ in pdf_page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH])
    )
    if drawn:
        return None
    textpage = pdf_page.get_textpage()
    try:
        chars = _page_chars(textpage, pdf_page.get_height())
    finally:
        textpage.close()
    if chars is None:
        return None
    # pdfplumber's own word extraction, on pdfium's characters: the same words as extract_words().
    words = [w for w, _ in WordExtractor(x_tolerance=3, y_tolerance=3).iter_extract_tuples(chars)]
    page = Page(page_no=page_no, char_count=len(chars))
    page.items = page_items(words, page_no)  # its lines, and any table printed without ruling lines
    return page


def text_only_pages(path: Path, page_numbers: list[int] | None = None) -> dict[int, Page]:
    """The pages (1-based; those given, or all) that hold running text only, read by pdfium."""
    try:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(path))
    except Exception:  # encrypted, damaged: pdfplumber reads it and says what is wrong
        return {}
    out: dict[int, Page] = {}
    try:
        wanted = set(page_numbers) if page_numbers else None
        for i in range(len(doc)):
            if wanted is not None and i + 1 not in wanted:
                continue
            pdf_page = doc[i]
            try:
                page = _text_page(pdf_page, i + 1)
            finally:
                pdf_page.close()
            if page is not None and page.char_count:
                out[i + 1] = page
    except Exception:
        return {}
    finally:
        doc.close()
    return out
