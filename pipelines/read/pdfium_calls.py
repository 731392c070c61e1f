"""pdfium's functions as the per-character and per-segment loops call them: handles as plain
integers, results written to structures whose addresses are passed.

pypdfium2's bindings type every handle (a page object, a font, a path segment) as a ctypes
pointer; turning one into a number to compare or to use as a key (``ctypes.cast``) costs more
than the call into pdfium itself, and a table page makes some ten calls for each of its thousands
of characters and segments. The same C functions are bound here a second time, from their
addresses, with ``void *`` handles, so each call takes and returns an ``int``. Nothing else
changes: the same functions, called with the same arguments.
"""

from __future__ import annotations

import ctypes
from ctypes import c_double, c_float, c_int, c_uint, c_ulong, c_void_p
from functools import cache
from types import SimpleNamespace

# name: (result type, argument types); every handle and every out-parameter is a void pointer
_PROTOTYPES: dict[str, tuple] = {
    "FPDFText_CountChars": (c_int, (c_void_p,)),
    "FPDFText_GetUnicode": (c_uint, (c_void_p, c_int)),
    "FPDFText_IsGenerated": (c_int, (c_void_p, c_int)),
    "FPDFText_IsHyphen": (c_int, (c_void_p, c_int)),
    "FPDFText_HasUnicodeMapError": (c_int, (c_void_p, c_int)),
    "FPDFText_GetCharAngle": (c_float, (c_void_p, c_int)),
    "FPDFText_GetMatrix": (c_int, (c_void_p, c_int, c_void_p)),
    "FPDFText_GetLooseCharBox": (c_int, (c_void_p, c_int, c_void_p)),
    "FPDFText_GetCharOrigin": (c_int, (c_void_p, c_int, c_void_p, c_void_p)),
    "FPDFText_GetTextObject": (c_void_p, (c_void_p, c_int)),
    "FPDFText_GetFontSize": (c_double, (c_void_p, c_int)),
    "FPDFTextObj_GetFont": (c_void_p, (c_void_p,)),
    "FPDFFont_GetBaseFontName": (c_ulong, (c_void_p, c_void_p, c_ulong)),
    "FPDFPage_CountObjects": (c_int, (c_void_p,)),
    "FPDFPage_GetObject": (c_void_p, (c_void_p, c_int)),
    "FPDFFormObj_CountObjects": (c_int, (c_void_p,)),
    "FPDFFormObj_GetObject": (c_void_p, (c_void_p, c_ulong)),
    "FPDFPageObj_GetType": (c_int, (c_void_p,)),
    "FPDFPageObj_GetBounds": (c_int, (c_void_p, c_void_p, c_void_p, c_void_p, c_void_p)),
    "FPDFPageObj_GetMatrix": (c_int, (c_void_p, c_void_p)),
    "FPDFPageObj_GetStrokeWidth": (c_int, (c_void_p, c_void_p)),
    "FPDFPath_GetDrawMode": (c_int, (c_void_p, c_void_p, c_void_p)),
    "FPDFPath_CountSegments": (c_int, (c_void_p,)),
    "FPDFPath_GetPathSegment": (c_void_p, (c_void_p, c_int)),
    "FPDFPathSegment_GetPoint": (c_int, (c_void_p, c_void_p, c_void_p)),
    "FPDFPathSegment_GetType": (c_int, (c_void_p,)),
    "FPDFPathSegment_GetClose": (c_int, (c_void_p,)),
}


@cache
def pdfium() -> SimpleNamespace:
    """The functions of ``_PROTOTYPES`` under their pdfium names, bound with integer handles."""
    import pypdfium2.raw as raw

    bound = {}
    for name, (result, args) in _PROTOTYPES.items():
        address = ctypes.cast(getattr(raw, name), c_void_p).value
        bound[name] = ctypes.CFUNCTYPE(result, *args)(address)
    return SimpleNamespace(**bound)


def handle(pointer) -> int:
    """A pypdfium2 handle (a typed ctypes pointer) as the integer the functions above take."""
    return ctypes.cast(pointer, c_void_p).value or 0
