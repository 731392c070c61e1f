"""Small pure helpers for the messy strings of extracted documents: whitespace inside CJK text,
HTML and Markdown residue, quote variants, and exact decimal amounts."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CJK = r"\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef“”‘’"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")


def strip_tags(text: str) -> str:
    return _TAG.sub(" ", text)


def collapse(text: str | None) -> str:
    """Remove all whitespace: names are compared and stored without it ("Names are as printed,
    whitespace removed")."""
    if not text:
        return ""
    return _WS.sub("", strip_tags(text))


def join_cjk(text: str) -> str:
    """Remove whitespace between two CJK characters (line-wrap and letter-spacing artefacts) but
    keep it between words of Latin text and numbers."""
    return _SPACE_BETWEEN_CJK.sub("", text)


_QUOTES = str.maketrans({"“": "", "”": "", '"': "", "‘": "", "’": "", "「": "", "」": ""})


def title_key(text: str) -> str:
    """A title reduced for pattern matching: no whitespace, quotes, Markdown '#', tags."""
    t = collapse(text).lstrip("#").translate(_QUOTES)
    return t


# ---------------------------------------------------------------------------------------------
# Amounts

_DASHES = {"-", "—", "–", "－", "一", "--", "——", "/"}
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class NotAnAmount(ValueError):
    pass


def clean_amount_text(raw: str) -> str:
    """Remove what separates digits without meaning: thousands separators, spaces inside a number
    (``1937217. 60``), full-width digits and signs."""
    s = raw.strip().translate(str.maketrans("０１２３４５６７８９．，－", "0123456789.,-"))
    s = s.replace(",", "").replace("，", "")
    s = re.sub(r"(?<=[\d.])\s+(?=[\d.])", "", s)
    return s.strip()


def is_dash(raw: str | None) -> bool:
    return raw is not None and raw.strip() in _DASHES


def parse_amount(raw: str | None) -> Decimal | None:
    """Exact decimal of a printed amount. Blank is ``None``; a printed dash is zero.

    Raises ``NotAnAmount`` for text that is neither blank, a dash nor a number.
    """
    if raw is None:
        return None
    s = raw.strip()
    if not s:
        return None
    if s in _DASHES or re.fullmatch(r"-+", s):
        return Decimal(0)
    s = clean_amount_text(s)
    if not _NUMERIC.match(s):
        raise NotAnAmount(raw)
    try:
        return Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - the regex guards this
        raise NotAnAmount(raw) from exc


def looks_like_amount(raw: str | None) -> bool:
    if raw is None or not raw.strip():
        return False
    s = clean_amount_text(raw)
    return bool(_NUMERIC.match(s)) and any(ch.isdigit() for ch in s)


UNIT_SCALE = {"元": Decimal(1), "万元": Decimal(10000)}
CENT = Decimal("0.01")


def to_yuan(value: Decimal | None, unit: str) -> Decimal | None:
    """Convert an amount printed in ``unit`` to 元, exactly (万元 × 10000), to the 分."""
    if value is None:
        return None
    return (value * UNIT_SCALE[unit]).quantize(CENT)


_UNIT_RE = re.compile(r"(?:金额)?单位\s*[:：]\s*(万元|元)|[（(]\s*(万元|元)\s*[)）]")


def find_unit(text: str) -> str | None:
    """The money unit a line declares: ``单位：元``, ``单位:万元``, ``金额单位：元``, ``（万元）``."""
    m = _UNIT_RE.search(collapse(text))
    if not m:
        return None
    return m.group(1) or m.group(2)


_YEAR_RE = re.compile(r"(20[0-4]\d)\s*年")


def find_year(text: str) -> int | None:
    m = _YEAR_RE.search(text)
    return int(m.group(1)) if m else None


_META = re.compile(
    r"^(编制部门|编制单位|预算单位|预算主管部门|金额单位|部门|单位)[:：]|^公开\d*表$|^(公开)?表[一二三四五六七八九十\d]+$"
)


def is_meta_cell(text: str | None) -> bool:
    """Cells that describe a table instead of holding it: ``部门：…``, ``单位：万元``, ``公开01表``."""
    t = collapse(text)
    return bool(t) and (bool(_META.match(t)) or find_unit(t) is not None)
