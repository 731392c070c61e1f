"""pdfplumber's ``page.objects`` for a page pdfminer reads, with its characters converted directly.

pdfplumber turns every layout object pdfminer makes into a dict by passing each of its attributes
through a generic resolver (``process_attr``, ``resolve_all``); on a table page of a few thousand
characters that is a fifth of the time pdfminer's reading takes. A character's attributes are
plain numbers and strings but for its matrix, so here a character copies those as they are and
hands the rest to the same resolver; the steps after it (colour spaces, text, colours, the
MediaBox offset) are pdfplumber's own, in its order. Every other object goes through
``page.process_object``. The dicts are equal to pdfplumber's, key for key.
"""

from __future__ import annotations

from unicodedata import normalize as normalize_unicode

from pdfminer.layout import LTChar, LTContainer
from pdfplumber.page import ALL_ATTRS, fix_fontname_bytes
from pdfplumber.utils import resolve_all, resolve_and_decode

# values the resolver gives back unchanged
_PLAIN = (float, int, str, bool, type(None))


def _char(page, obj: LTChar) -> dict:
    """``page.process_object(obj)`` for a character."""
    attr = {k: v if type(v) in _PLAIN else resolve_all(v) for k, v in obj.__dict__.items() if k in ALL_ATTRS}
    attr["object_type"] = "char"
    attr["page_number"] = page.page_number
    for cs in ("ncs", "scs"):
        if hasattr(obj, cs):
            attr[cs] = resolve_and_decode(getattr(obj, cs).name)
    text = obj.get_text()
    attr["text"] = normalize_unicode(page.pdf.unicode_norm, text) if page.pdf.unicode_norm is not None else text
    gs = obj.graphicstate
    attr["stroking_color"] = gs.scolor if isinstance(gs.scolor, tuple) else (gs.scolor,)
    attr["non_stroking_color"] = gs.ncolor if isinstance(gs.ncolor, tuple) else (gs.ncolor,)
    if isinstance(attr["fontname"], bytes):
        attr["fontname"] = fix_fontname_bytes(attr["fontname"])
    mb_x0, mb_top = page.mediabox[:2]
    if "y0" in attr:
        attr["top"] = (page.height - attr["y1"]) + mb_top
        attr["bottom"] = (page.height - attr["y0"]) + mb_top
        attr["doctop"] = page.initial_doctop + attr["top"]
    if "x0" in attr and mb_x0 != 0:
        attr["x0"] = attr["x0"] + mb_x0
        attr["x1"] = attr["x1"] + mb_x0
    return attr


def _iter_objects(page, layout_objects):
    """``page.iter_layout_objects``."""
    for obj in layout_objects:
        if isinstance(obj, LTContainer):
            if page.pdf.laparams is not None:
                yield page.process_object(obj)
            yield from _iter_objects(page, obj._objs)
        elif type(obj) is LTChar:
            yield _char(page, obj)
        else:
            yield page.process_object(obj)


def parse_objects(page) -> dict[str, list[dict]]:
    """``page.parse_objects()``: the page's objects by kind, as pdfplumber's ``page.objects``."""
    objects: dict[str, list[dict]] = {}
    for obj in _iter_objects(page, page.layout._objs):
        kind = obj["object_type"]
        if kind == "anno":
            continue
        objects.setdefault(kind, []).append(obj)
    return objects
