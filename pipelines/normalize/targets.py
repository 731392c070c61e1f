"""目标值 (indicator target) parser: one printed target string → kind, operator, value, unit, text.

Pure functions, no I/O. The rules are DOMAIN.md §3.3 and the table of every seed string in
target-values.md:

- ``》95%`` / ``》 90%``: ``》`` is a keyboard stand-in for ≥ (the same project's narrative says
  ``95%以上``); ``op='≥'``, ``op_raw='》'``.
- ``15%及其以下`` → ≤, ``…以上`` → ≥; ``不低于`` / ``不少于`` / ``至少`` → ≥, ``不高于`` / ``不超过`` → ≤.
- ``$\\geq 4$`` (LaTeX residue) → ``≥4``.
- ``=80万``: 万 is a multiplier; value 80, unit 万, multiplier 10000, scaled value 800000.
- ``=50.00名`` → unit 人; ``=13.00所学校`` → unit 所; ``≥13459.00(平方米)`` (Putuo) → unit 平方米.
- ``20所学校+40BYOD`` is COMPOSITE (two quantities, not one number).
- Text targets are normalized through a small map (``及时性`` → 及时, ``有提升`` → 提升).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from pipelines.normalize.textnorm import strip_tags

NUMERIC = "NUMERIC"
TEXT = "TEXT"
COMPOSITE = "COMPOSITE"
EMPTY = "EMPTY"


@dataclass(frozen=True, slots=True)
class Target:
    raw: str
    kind: str  # NUMERIC | TEXT | COMPOSITE | EMPTY
    op: str | None = None  # = ≥ ≤ > < or None when none is printed
    op_raw: str | None = None  # the glyph or phrase the operator came from
    value: Decimal | None = None  # as printed (80 for "=80万")
    unit: str | None = None  # normalized unit (人 for 名, 所 for 所学校)
    unit_raw: str | None = None  # unit as printed
    multiplier: Decimal | None = None  # 10000 for 万
    per_period: str | None = None  # 年 for "次/年"
    text: str | None = None  # text target (及时, 建立健全 …) or the words around a number

    @property
    def scaled_value(self) -> Decimal | None:
        if self.value is None:
            return None
        return self.value * (self.multiplier or 1)


# Operators printed before the number: symbols, then words. Longest first within each list.
_SYMBOL_OPS: list[tuple[str, str | None]] = [
    (r"\$\\geq?", "≥"), (r"\$\\leq?", "≤"), (r"\\geq?", "≥"), (r"\\leq?", "≤"),
    (">=", "≥"), ("<=", "≤"), ("≥", "≥"), ("≤", "≤"), ("⩾", "≥"), ("⩽", "≤"),
    ("》", "≥"), ("《", "≤"), ("＞", ">"), ("＜", "<"), (">", ">"), ("<", "<"), ("＝", "="), ("=", "="),
]  # fmt: skip
_WORD_OPS: list[tuple[str, str | None]] = [
    ("大于等于", "≥"), ("小于等于", "≤"), ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"), ("至少", "≥"),
    ("不高于", "≤"), ("不超过", "≤"), ("不多于", "≤"), ("不大于", "≤"), ("至多", "≤"), ("最多", "≤"),
    ("高于", ">"), ("大于", ">"), ("超过", ">"), ("多于", ">"), ("低于", "<"), ("小于", "<"), ("少于", "<"),
    ("达到", None),
]  # fmt: skip
_PREFIX_OPS = _SYMBOL_OPS + [(re.escape(w), op) for w, op in _WORD_OPS]
_SUFFIX_OPS: list[tuple[str, str]] = [
    ("及其以下", "≤"), ("及以下", "≤"), ("以下", "≤"), ("以内", "≤"),
    ("及其以上", "≥"), ("及以上", "≥"), ("以上", "≥"),
]  # fmt: skip

_UNIT_MAP = {"名": "人", "所学校": "所"}
_TEXT_MAP = {"及时性": "及时", "有提升": "提升"}

_FULLWIDTH = str.maketrans("０１２３４５６７８９．％＞＜＝", "0123456789.%><=")
_NUMBER = r"\d+(?:\.\d+)?"
# "20所学校+40BYOD", "慰问人数不少于100人,宣传用品不少于20000份": several quantities
_QUANTITY = rf"{_NUMBER}\s*[^\d\s+＋,，、;；]{{1,6}}"
_COMPOSITE = re.compile(rf"^.{{0,12}}?{_QUANTITY}(?:\s*[+＋,，、;；]\s*\D{{0,12}}?{_QUANTITY})+$")
_LATEX = re.compile(r"\$\s*\\(geq?|leq?)\s*([\d.]+)\s*\$")
_UNIT_TAIL = re.compile(r"^[^\d]{0,8}$")
_QUALIFIED = re.compile(rf"(\D{{1,12}}?)((?:{'|'.join(re.escape(w) for w, _ in _WORD_OPS)})?)({_NUMBER}.*)")


def _clean(raw: str) -> str:
    s = strip_tags(raw).translate(_FULLWIDTH)
    s = _LATEX.sub(lambda m: ("≥" if m.group(1).startswith("g") else "≤") + m.group(2), s)
    s = s.replace("\u3000", " ").strip()
    s = re.sub(r"(?<=\d)\s+(?=[\d.])|(?<=\.)\s+(?=\d)", "", s)  # "1937217. 60", "15000 .00"
    return s


def _take_prefix_op(s: str) -> tuple[str | None, str | None, str]:
    for pattern, op in _PREFIX_OPS:
        m = re.match(rf"\s*({pattern})\s*", s)
        if m:
            return op, m.group(1).strip(), s[m.end() :]
    return None, None, s


def _take_suffix_op(s: str) -> tuple[str | None, str | None, str]:
    for phrase, op in _SUFFIX_OPS:
        if s.endswith(phrase):
            return op, phrase, s[: -len(phrase)].rstrip()
    return None, None, s


def _split_unit(tail: str) -> tuple[str | None, Decimal | None, str | None, str | None]:
    """``tail`` is what follows the number: → (unit, multiplier, unit_raw, per_period)."""
    t = tail.strip()
    m = re.fullmatch(r"[(（]\s*([^()（）]*)\s*[)）]", t)  # Putuo prints "(平方米)", "(%)"
    if m:
        t = m.group(1).strip()
    if not t:
        return None, None, None, None
    unit_raw = t
    multiplier = None
    if t.startswith("万") and t != "万元":
        multiplier = Decimal(10000)
    per_period = None
    pm = re.fullmatch(r"(.+?)/(年|月|日|天|周|季度|学期)", t)
    if pm:
        per_period = pm.group(2)
    unit = _UNIT_MAP.get(t, t)
    return unit, multiplier, unit_raw, per_period


def _numeric(core: str) -> tuple[Decimal, str] | None:
    """``core`` = number + optional unit, nothing else."""
    m = re.fullmatch(rf"({_NUMBER})\s*(.*)", core)
    if not m or not _UNIT_TAIL.match(m.group(2)):
        return None
    return Decimal(m.group(1)), m.group(2)


def parse_target(raw: str | None) -> Target:
    """Parse one printed 目标值. Never raises: what is not a number is a text target."""
    printed = "" if raw is None else raw
    s = _clean(printed)
    if not s or re.fullmatch(r"[-—–/\s]*", s):
        return Target(raw=printed, kind=EMPTY)
    compact = re.sub(r"\s+", "", s)
    latex = _LATEX.search(strip_tags(printed))

    # operator, number, unit: "≥90.00%", "》 90%", "15%及其以下", "=80万", "≥13459.00(平方米)"
    op, op_raw, rest = _take_prefix_op(compact)
    suffix_op, suffix_raw, rest = _take_suffix_op(rest)
    if op is None and suffix_op is not None:
        op, op_raw = suffix_op, suffix_raw
    parsed = _numeric(rest)
    if parsed is not None:
        value, tail = parsed
        unit, mult, unit_raw, per = _split_unit(tail)
        if latex:
            op_raw = "\\" + latex.group(1)
        return Target(printed, NUMERIC, op, op_raw, value, unit, unit_raw, mult, per)

    # a short qualifier before the quantity: "可控性100%", "居民参与率不低于100%"
    m = _QUALIFIED.fullmatch(compact)
    if m and not _COMPOSITE.match(compact):
        q_op, q_op_raw, _ = _take_prefix_op(m.group(2)) if m.group(2) else (None, None, "")
        q_suffix, q_suffix_raw, q_rest = _take_suffix_op(m.group(3))
        parsed = _numeric(q_rest)
        if parsed is not None and (parsed[1] == "" or len(parsed[1]) <= 3):
            value, tail = parsed
            unit, mult, unit_raw, per = _split_unit(tail)
            op_q = q_op or q_suffix
            return Target(printed, NUMERIC, op_q, q_op_raw or q_suffix_raw, value, unit, unit_raw, mult, per,
                          text=m.group(1))  # fmt: skip

    if _COMPOSITE.match(compact):
        return Target(printed, COMPOSITE, text=compact)
    return Target(printed, TEXT, text=_TEXT_MAP.get(compact, compact))


def _common_prefix(parts: list[str]) -> int:
    n = 0
    for chars in zip(*parts, strict=False):
        if len(set(chars)) != 1:
            break
        n += 1
    return n


def split_indicator_cell(name: str) -> list[str]:
    """Several indicators printed in one cell (H15), as parts in order; one part when the cell holds
    one indicator. Recognized: ``a；b；c``, ``1、a 2、b``, and two long names of the same project
    side by side (``…第四阶段运维完成率 …第四阶段建设完成率``). Spaces inside a name are usually
    line-wrap residue (``见习教 师规范化``), so a space alone never splits."""
    text = name.strip()
    if re.match(r"^1[、.．]\s*\D", text):
        parts = [p.strip(" ;；，,") for p in re.split(r"(?:^|\s+)\d+[、.．]\s*", text)]
        parts = [p for p in parts if p]
        if len(parts) >= 2:
            return parts
    parts = [p.strip() for p in re.split(r"[；;]", text) if p.strip()]
    if len(parts) >= 2:
        return parts
    chunks = text.split()
    if (
        len(chunks) >= 2
        and all(len(c) >= 8 and re.search(r"[率性数度量]$", c) for c in chunks)
        and _common_prefix(chunks) >= 4
    ):
        return chunks
    return [text]
