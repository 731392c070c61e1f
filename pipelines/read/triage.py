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
from pipelines.read.pdfium_calls import handle, pdfium


def triage_enabled() -> bool:
    return os.environ.get("BUDGETWH_PAGE_TRIAGE", "1").strip().lower() not in ("0", "false", "no", "off")


def _page_chars(textpage: int, height: float) -> list[dict] | None:
    """The characters of a page in pdfplumber's coordinates (top-down), or None when pdfium's
    reading could differ from pdfplumber's (unmapped or rotated characters)."""
    import pypdfium2.raw as raw

    c = pdfium()
    unicode_of, generated, map_error = c.FPDFText_GetUnicode, c.FPDFText_IsGenerated, c.FPDFText_HasUnicodeMapError
    angle_of, loose_box, origin_of = c.FPDFText_GetCharAngle, c.FPDFText_GetLooseCharBox, c.FPDFText_GetCharOrigin
    object_of = c.FPDFText_GetTextObject
    box = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    pbox, pox, poy = (ctypes.addressof(v) for v in (box, ox, oy))
    found: list[tuple[str, float, float, float, tuple]] = []
    extent: dict[tuple, tuple[float, float]] = {}
    last_object, key = None, ()
    for i in range(c.FPDFText_CountChars(textpage)):
        if generated(textpage, i) == 1:
            continue  # spaces and line breaks pdfium inserts itself
        code = unicode_of(textpage, i)
        if code in (0, 0xFFFD, 0xFFFE) or map_error(textpage, i) == 1:
            return None
        if angle_of(textpage, i) not in (0.0, -1.0):
            return None
        ch = chr(code)
        if ch in "\r\n":
            continue
        loose_box(textpage, i, pbox)
        origin_of(textpage, i, pox, poy)
        text_object = object_of(textpage, i)
        if text_object != last_object:  # one font and one size per text object
            last_object = text_object
            key = (c.FPDFTextObj_GetFont(text_object), round(c.FPDFText_GetFontSize(textpage, i), 2))
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


# pypdfium2's ``get_objects`` descends this deep into form XObjects
_FORM_DEPTH = 15


def _draws(parent: int, *, form: bool = False, level: int = 0) -> bool:
    """Whether the page (or form XObject) holds a path object, at any depth of nested forms."""
    import pypdfium2.raw as raw

    c = pdfium()
    count, get = (c.FPDFFormObj_CountObjects, c.FPDFFormObj_GetObject) if form else (
        c.FPDFPage_CountObjects, c.FPDFPage_GetObject)  # fmt: skip
    n = count(parent)
    if n < 0:
        raise ValueError("pdfium cannot count the page's objects")
    for i in range(n):
        obj = get(parent, i)
        if not obj:
            raise ValueError("pdfium cannot read a page object")
        kind = c.FPDFPageObj_GetType(obj)
        if kind == raw.FPDF_PAGEOBJ_PATH:
            return True
        if kind == raw.FPDF_PAGEOBJ_FORM and level < _FORM_DEPTH - 1 and _draws(obj, form=True, level=level + 1):
            return True
    return False


def text_page(pdf_page, page_no: int) -> Page | None:
    """One pypdfium2 page read as running text, or None when it needs pdfplumber's geometry (or
    pdfium could read it differently). Raises when pdfium cannot read the page's objects."""
    from pdfplumber.utils.text import WordExtractor

    from pipelines.read.lineless import page_items

    if _draws(handle(pdf_page)):
        return None
    textpage = pdf_page.get_textpage()
    try:
        chars = _page_chars(handle(textpage), pdf_page.get_height())
    finally:
        textpage.close()
    if not chars:
        return None  # unmapped or rotated characters, or none at all: pdfplumber reads the page
    # pdfplumber's own word extraction, on pdfium's characters: the same words as extract_words().
    words = [w for w, _ in WordExtractor(x_tolerance=3, y_tolerance=3).iter_extract_tuples(chars)]
    page = Page(page_no=page_no, char_count=len(chars))
    page.items = page_items(words, page_no)  # its lines, and any table printed without ruling lines
    return page


def text_only_pages(path: Path, page_numbers: list[int] | None = None) -> dict[int, Page]:
    """The pages (1-based; those given, or all) that hold running text only, read by pdfium."""
    try:
        import pypdfium2

        doc = pypdfium2.PdfDocument(str(path))
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
                page = text_page(pdf_page, i + 1)
            finally:
                pdf_page.close()
            if page is not None:
                out[i + 1] = page
    except Exception:
        return {}
    finally:
        doc.close()
    return out
