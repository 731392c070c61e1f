"""A page's characters and ruling lines read through pdfium, in the shape pdfplumber gives them.

pdfplumber gets a page's objects by interpreting its content stream in pure Python (pdfminer):
some 85 % of the time of reading a table page. pdfium reads the same objects in C, many times
faster. This module builds, from pdfium, the ``char``, ``line``, ``rect`` and ``curve`` dicts that
pdfplumber's page would compute, with pdfminer's geometry:

- a character's box is pdfminer's: from its origin and advance, its bottom at the font's descent
  as pdfminer takes it (``pdfminer_descents``: pdfium's own differs for the standard fonts), one
  font size high (scaled by the text matrix);
- a path is split into subpaths at every ``m`` and classified as pdfminer's ``paint_path`` does (a
  single segment is a line, a closed axis-aligned four-sided one a rectangle, anything else a
  curve), the path's matrix applied to its points in double precision.

Handed to a pdfplumber page (``page._objects``, pdfplumber's own cache of them), everything
downstream (``find_tables``, cropping, ``extract_words``, ``Table.extract``) runs unchanged. Texts,
cells and merges come out identical; positions agree to ~1e-4 pt (pdfium keeps single precision).
A page whose reading could differ is left to pdfminer (``None``): a character without a Unicode
mapping, not upright, or a hyphen pdfium rewrote; a font pdfminer would not match by name (Type 3,
vertical, two of one name); a form XObject (nested objects); a rotated page or boxes off the
origin; no characters at all; and any word with a gap inside it that could have held a space
pdfium dropped (pdfium leaves out the spaces that end or start its lines of text). Any pdfium
failure leaves the page to pdfminer too. ``BUDGETWH_PDFIUM_OBJECTS=0`` turns the fast path off.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import itertools
import os
import re

from pipelines.read.pdfium_calls import handle, pdfium

_SUBPATH = re.compile(r"m[^m]+")


def pdfium_objects_enabled() -> bool:
    return os.environ.get("BUDGETWH_PDFIUM_OBJECTS", "1").strip().lower() not in ("0", "false", "no", "off")


def _apply(matrix: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def _exact(value: float) -> float:
    """The number as the content stream printed it: pdfium keeps coordinates in single precision
    (299.35 becomes 299.350006), pdfminer in double; printed numbers rarely have more than four
    decimals, so rounding there gives back pdfminer's value."""
    return round(value, DECIMALS)


DECIMALS = 4


def _matrix(obj: int) -> tuple[float, ...]:
    import pypdfium2.raw as raw

    m = raw.FS_MATRIX()
    if not pdfium().FPDFPageObj_GetMatrix(obj, ctypes.addressof(m)):
        raise ValueError("no matrix")
    return tuple(_exact(v) for v in (m.a, m.b, m.c, m.d, m.e, m.f))


def _path_segments(obj: int) -> list[tuple]:
    """The path as pdfminer records it: ('m', x, y), ('l', x, y), ('c', x1, y1, x2, y2, x3, y3),
    ('h',), in the path's own coordinates."""
    import pypdfium2.raw as raw

    # bound once: a table page has thousands of segments, each a few calls into pdfium
    c = pdfium()
    get_segment, get_point = c.FPDFPath_GetPathSegment, c.FPDFPathSegment_GetPoint
    get_type, get_close = c.FPDFPathSegment_GetType, c.FPDFPathSegment_GetClose
    moveto, lineto, bezierto = raw.FPDF_SEGMENT_MOVETO, raw.FPDF_SEGMENT_LINETO, raw.FPDF_SEGMENT_BEZIERTO
    out: list[tuple] = []
    x, y = ctypes.c_float(), ctypes.c_float()
    px, py = ctypes.addressof(x), ctypes.addressof(y)
    bezier: list[float] = []
    for i in range(c.FPDFPath_CountSegments(obj)):
        seg = get_segment(obj, i)
        get_point(seg, px, py)
        kind = get_type(seg)
        if kind == lineto:
            out.append(("l", round(x.value, DECIMALS), round(y.value, DECIMALS)))
        elif kind == moveto:
            out.append(("m", round(x.value, DECIMALS), round(y.value, DECIMALS)))
        elif kind == bezierto:
            bezier += [round(x.value, DECIMALS), round(y.value, DECIMALS)]
            if len(bezier) == 6:
                out.append(("c", *bezier))
                bezier = []
        else:
            raise ValueError("unknown path segment")
        if get_close(seg) and not bezier:
            out.append(("h",))
    if bezier:
        raise ValueError("incomplete curve")
    return out


def _paint(path: list[tuple], ctm: tuple[float, ...], height: float, extras: dict, out: dict) -> None:
    """pdfminer's ``PDFLayoutAnalyzer.paint_path`` followed by pdfplumber's ``process_object``."""
    shape = "".join(p[0] for p in path)
    if shape[:1] != "m":
        return
    if shape.count("m") > 1:
        for m in _SUBPATH.finditer(shape):
            _paint(path[m.start() : m.end()], ctm, height, extras, out)
        return
    pts = [_apply(ctm, *(p[-2:] if p[0] != "h" else path[0][-2:])) for p in path]
    if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:
        shape = shape[:-2] + "h"
        pts.pop()
    kind = "curve"
    bbox_pts = pts
    if shape in ("mlh", "ml"):
        kind = "line"
        bbox_pts = pts[:2]
    elif shape in ("mlllh", "mllll"):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
        square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0)
        if pts[0] == pts[4] and square:
            kind = "rect"
            bbox_pts = [pts[0], pts[2]]
    xs = [p[0] for p in bbox_pts]
    ys = [p[1] for p in bbox_pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    obj = {
        "object_type": kind, "x0": x0, "y0": y0, "x1": x1, "y1": y1, "width": x1 - x0, "height": y1 - y0,
        "top": height - y1, "bottom": height - y0, "doctop": height - y1, **extras,
    }  # fmt: skip
    if kind in ("curve", "line"):
        obj["pts"] = [(px, height - py) for px, py in pts]
    out.setdefault(kind, []).append(obj)


def _page_objects(pdf_page: int, height: float) -> tuple[dict[int, tuple[float, float]], list[int]] | None:
    """The page's text objects by handle, each with the top-left of its box (top-down), and its
    path objects; None when the page holds a form XObject (nested objects under their own matrix:
    pdfminer reads them)."""
    import pypdfium2.raw as raw

    c = pdfium()
    get_object, get_type, get_bounds = c.FPDFPage_GetObject, c.FPDFPageObj_GetType, c.FPDFPageObj_GetBounds
    form, text, path = raw.FPDF_PAGEOBJ_FORM, raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_PATH
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    box = [ctypes.addressof(v) for v in (left, bottom, right, top)]
    texts: dict[int, tuple[float, float]] = {}
    paths: list[int] = []
    for i in range(c.FPDFPage_CountObjects(pdf_page)):
        obj = get_object(pdf_page, i)
        kind = get_type(obj)
        if kind == form:
            return None
        if kind == text and get_bounds(obj, *box):
            texts[obj] = (left.value, height - top.value)
        elif kind == path:
            paths.append(obj)
    return texts, paths


def _paths(path_objects: list[int], height: float, page_number: int) -> dict[str, list[dict]]:
    c = pdfium()
    out: dict[str, list[dict]] = {}
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    width = ctypes.c_float()
    pfill, pstroke, pwidth = ctypes.addressof(fill), ctypes.addressof(stroke), ctypes.addressof(width)
    for obj in path_objects:
        c.FPDFPath_GetDrawMode(obj, pfill, pstroke)
        c.FPDFPageObj_GetStrokeWidth(obj, pwidth)
        extras = {
            "page_number": page_number, "linewidth": width.value, "stroke": bool(stroke.value),
            "fill": bool(fill.value),
        }  # fmt: skip
        _paint(_path_segments(obj), _matrix(obj), height, extras, out)
    return out


_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")


def _font_key(name: str | bytes) -> str:
    """A font's name without its subset tag (``ABCDEE+Calibri``: pdfium gives ``Calibri``)."""
    if isinstance(name, str) and name[:2] in ("b'", 'b"'):
        # pdfminer gives a name that is not UTF-8 (GBK: 仿宋) as the text of a bytes literal
        with contextlib.suppress(ValueError, SyntaxError):
            name = ast.literal_eval(name)
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return _SUBSET_PREFIX.sub("", name)


def _font_name(font: int) -> str:
    get_name = pdfium().FPDFFont_GetBaseFontName
    n = get_name(font, None, 0)
    buf = ctypes.create_string_buffer(n)
    get_name(font, ctypes.addressof(buf), n)
    return _font_key(buf.value)


def _chars(
    textpage: int, height: float, page_number: int, descents: dict[str, float], with_chars: set[int]
) -> list[dict] | None:
    """The page's characters; the handles of the text objects they belong to go to ``with_chars``."""
    import pypdfium2.raw as raw

    c = pdfium()
    unicode_of, generated, map_error = c.FPDFText_GetUnicode, c.FPDFText_IsGenerated, c.FPDFText_HasUnicodeMapError
    hyphen, matrix_of, loose_box = c.FPDFText_IsHyphen, c.FPDFText_GetMatrix, c.FPDFText_GetLooseCharBox
    origin_of, object_of, size_of = c.FPDFText_GetCharOrigin, c.FPDFText_GetTextObject, c.FPDFText_GetFontSize
    box = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    m = raw.FS_MATRIX()
    pbox, pox, poy, pm = (ctypes.addressof(v) for v in (box, ox, oy, m))
    names: dict[int, str] = {}  # font handle: name
    # the text object of the last character, its font's name and descent (characters come by object)
    last_object, name, descent, size, height_of_char, matrix = None, "", 0.0, 0.0, 0.0, ()
    chars: list[dict] = []
    for i in range(c.FPDFText_CountChars(textpage)):
        code = unicode_of(textpage, i)
        if generated(textpage, i) == 1:
            continue  # spaces and line breaks pdfium inserts itself
        if code in (0, 0xFFFD, 0xFFFE) or map_error(textpage, i) == 1:
            return None
        if code == 0x02 or hyphen(textpage, i) == 1:
            return None  # a hyphen ending a line: pdfium replaces it (and drops spaces before it)
        ch = chr(code)
        if ch in "\r\n":
            continue
        loose_box(textpage, i, pbox)
        origin_of(textpage, i, pox, poy)
        text_object = object_of(textpage, i)
        if text_object != last_object:
            # a text object has one matrix, one font and one size: read them once for its characters
            if not matrix_of(textpage, i, pm) or m.b != 0 or m.c != 0 or m.a <= 0 or m.d <= 0:
                return None  # rotated, skewed or mirrored text
            with_chars.add(text_object)
            font = c.FPDFTextObj_GetFont(text_object)
            if font not in names:
                names[font] = _font_name(font)
            last_object, name = text_object, names[font]
            descent = descents.get(name, descents.get(ANY_FONT))
            if descent is None:
                return None  # a font pdfminer would not find (or two of one name) on this page
            # pdfium's size is the font's (Tf); the character's box is scaled by its matrix too
            size = size_of(textpage, i) * m.d
            matrix = (m.a, m.b, m.c, m.d, m.e, m.f)
            height_of_char = round(size, DECIMALS)
        x0, x1 = round(box.left, DECIMALS), round(box.right, DECIMALS)
        y0 = round(oy.value + descent * size, DECIMALS)
        y1 = y0 + height_of_char
        top, bottom = height - y1, height - y0
        char = {
            "object_type": "char", "page_number": page_number, "text": ch, "x0": x0, "x1": x1,
            "y0": y0, "y1": y1, "top": top, "bottom": bottom, "doctop": top, "width": x1 - x0,
            "height": y1 - y0, "size": y1 - y0, "upright": True, "fontname": name, "matrix": matrix,
        }  # fmt: skip
        chars.append(char)
    return chars


# Key of the descent every font of a page shares, when they all share one: then no name need match.
ANY_FONT = ""


def pdfminer_descents(plumber_page) -> dict[str, float] | None:
    """Every font of a pdfplumber page's resources by name (without subset tag), with the descent
    pdfminer gives it (from the font descriptor, or the standard fonts' metrics: pdfium's may
    differ, e.g. Helvetica -0.224 against -0.207). None when a font is one pdfium's characters
    cannot be matched to (Type 3, vertical writing)."""
    from pdfminer.pdffont import PDFType3Font
    from pdfminer.pdftypes import PDFObjRef, resolve1

    fonts = resolve1((plumber_page.page_obj.resources or {}).get("Font")) or {}
    out: dict[str, float] = {}
    ambiguous: set[str] = set()
    for spec in fonts.values():
        objid = spec.objid if isinstance(spec, PDFObjRef) else None
        font = plumber_page.pdf.rsrcmgr.get_font(objid, resolve1(spec))
        if isinstance(font, PDFType3Font) or font.is_vertical():
            return None
        key, descent = _font_key(font.fontname), font.get_descent()
        if out.get(key, descent) != descent:
            ambiguous.add(key)
        out[key] = descent
    for key in ambiguous:
        del out[key]  # two fonts of one name, two descents: a character of either is not matched
    if len(set(out.values())) == 1 and not ambiguous:
        out[ANY_FONT] = next(iter(out.values()))
    return out


# pdfium leaves out some spaces pdfminer keeps (those that end or start one of its lines of text,
# one before a character it takes for a duplicate, text objects of a single space), and such a
# space splits two words that would otherwise join. Two characters of one word further apart than
# this may have had a space between them, and so may a word with a text object inside it that
# pdfium gave no character (a footer's space drawn over the digits of ``2 6``): the page goes to
# pdfminer. (Keeping the pages where neither character is at the end of one of pdfium's lines
# missed dropped spaces on the corpus.)
WORD_GAP = 1.0


def _may_hide_spaces(chars: list[dict], dropped: list[tuple[float, float]]) -> bool:
    from pdfplumber.utils.text import WordExtractor

    rows: dict[int, list[tuple[float, float]]] = {}
    for x, y in dropped:  # the origins of text objects without characters, by 4 pt band
        rows.setdefault(int(y // 4), []).append((x, y))
    for word, members in WordExtractor(x_tolerance=3, y_tolerance=3).iter_extract_tuples(chars):
        for left, right in itertools.pairwise(members):
            if right["x0"] - left["x1"] > WORD_GAP:
                return True
        band = int(word["top"] // 4)
        for x, y in (*rows.get(band - 1, ()), *rows.get(band, ()), *rows.get(band + 1, ()), *rows.get(band + 2, ())):
            if word["x0"] + 0.5 < x < word["x1"] - 0.5 and word["top"] - 1 <= y <= word["bottom"] + 1:
                return True
    return False


def page_objects(pdf_page, page_number: int, descents: dict[str, float]) -> dict[str, list[dict]] | None:
    """The objects of one pypdfium2 page as pdfplumber's ``page.objects`` holds them, or None
    when the page is better left to pdfminer. ``descents``: ``pdfminer_descents`` of the page."""
    import pypdfium2.raw as raw

    if raw.FPDFPage_GetRotation(pdf_page) != 0:
        return None
    media = [ctypes.c_float() for _ in range(4)]
    crop = [ctypes.c_float() for _ in range(4)]
    if not raw.FPDFPage_GetMediaBox(pdf_page, *media):
        return None
    if raw.FPDFPage_GetCropBox(pdf_page, *crop) and [c.value for c in crop] != [v.value for v in media]:
        return None
    if media[0].value != 0 or media[1].value != 0:
        return None
    height = raw.FPDF_GetPageHeightF(pdf_page)
    if height != media[3].value:
        return None
    found = _page_objects(handle(pdf_page), height)
    if found is None:
        return None
    text_objects, path_objects = found
    # characters first: most pages left to pdfminer are found there, before the costlier paths
    textpage = raw.FPDFText_LoadPage(pdf_page)
    with_chars: set[int] = set()
    try:
        chars = _chars(handle(textpage), height, page_number, descents, with_chars)
    finally:
        raw.FPDFText_ClosePage(textpage)
    if not chars:
        return None  # no characters: pdfminer may still find blank ones that make a table
    if _may_hide_spaces(chars, [box for obj, box in text_objects.items() if obj not in with_chars]):
        return None
    objects = _paths(path_objects, height, page_number)
    objects["char"] = chars
    return objects


class PdfiumPages:
    """pdfium's reading of one PDF, opened once per document: ``page(n)`` loads a page (for the
    triage and for ``objects``, so a page is parsed by pdfium once); ``objects`` is None for a
    page pdfminer must read (or for all of them when pdfium cannot open the file)."""

    def __init__(self, path, *, enabled: bool = True) -> None:
        self._doc = None
        if enabled:
            try:
                import pypdfium2

                self._doc = pypdfium2.PdfDocument(str(path))
            except Exception:  # encrypted, damaged: pdfminer reads it and says what is wrong
                self._doc = None

    @property
    def opened(self) -> bool:
        return self._doc is not None

    def __len__(self) -> int:
        return len(self._doc) if self._doc is not None else 0

    def page(self, page_number: int):
        """The 1-based page loaded by pypdfium2 (the caller closes it); raises when pdfium cannot."""
        if self._doc is None:
            raise ValueError("pdfium could not open the file")
        return self._doc[page_number - 1]

    def objects(self, plumber_page, pdf_page=None) -> dict[str, list[dict]] | None:
        """The objects of the page pdfplumber holds as ``plumber_page``, read by pdfium (from
        ``pdf_page`` when it is already loaded, else loaded and closed here)."""
        if self._doc is None:
            return None
        try:
            descents = pdfminer_descents(plumber_page)
            if descents is None:
                return None
            page = pdf_page if pdf_page is not None else self._doc[plumber_page.page_number - 1]
        except Exception:
            return None
        try:
            return page_objects(page.raw, plumber_page.page_number, descents)
        except Exception:  # whatever pdfium stumbles on, pdfminer reads the page
            return None
        finally:
            if page is not pdf_page:
                page.close()

    def __enter__(self) -> PdfiumPages:
        return self

    def __exit__(self, *exc) -> None:
        if self._doc is not None:
            self._doc.close()
            self._doc = None
