"""The catalogue of 支出功能分类 (func) and 部门预算支出经济分类 (econ) codes and names by year, shipped as
reference data (``reference/func_codes.csv``, ``reference/econ_codes.csv``; provenance in
``reference/README.md``), and the comparison of a printed name with it."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
MIN_PREFIX = 4
FIELDS = ("code", "level", "name", "parent_code", "first_year", "last_year", "source")


@dataclass(frozen=True, slots=True)
class CodeEntry:
    code: str
    level: int
    name: str
    parent_code: str | None
    first_year: int
    last_year: int
    source: str


def code_level(code: str) -> int:
    """1 for a 类 (3 digits), 2 for a 款 (5), 3 for a 项 (7)."""
    return {3: 1, 5: 2, 7: 3}.get(len(code), 0)


def parent_code(code: str) -> str | None:
    return code[:-2] if len(code) in (5, 7) else None


_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "〔": "(", "〕": ")", "［": "(", "］": ")"})


def code_name_key(name: str) -> str:
    """A printed name reduced for comparison: NFKC, no whitespace or leading ordinal / 其中：, one kind
    of bracket, 其他X支出 = 其他X (publishers print the 其他 items with and without 支出), and no 的."""
    key = unicodedata.normalize("NFKC", name or "").translate(_BRACKETS)
    key = re.sub(r"\s+", "", key)
    key = re.sub(r"^(其中[:：]|[一二三四五六七八九十]+、|\d+[、.])", "", key)
    if key.startswith("其他") and key.endswith("支出") and len(key) > 4:
        key = key[: -len("支出")]
    return key.replace("的", "")  # 对个人和家庭(的)补助: the particle is printed or left out


@cache
def catalogue(kind: str) -> dict[str, tuple[CodeEntry, ...]]:
    """code → its catalogue entries (one per name, with the years it was printed under that name)."""
    path = REFERENCE_DIR / f"{kind}_codes.csv"
    out: dict[str, list[CodeEntry]] = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            entry = CodeEntry(row["code"], int(row["level"]), row["name"], row["parent_code"] or None,
                              int(row["first_year"]), int(row["last_year"]), row["source"])  # fmt: skip
            out.setdefault(entry.code, []).append(entry)
    return {code: tuple(entries) for code, entries in out.items()}


def expected_names(kind: str, code: str, year: int | None) -> tuple[str, ...] | None:
    """The catalogue's names of ``code`` for ``year`` (the names of the nearest years where the
    catalogue has not seen that year); None when the code is not in the catalogue."""
    entries = catalogue(kind).get(code)
    if not entries:
        return None
    if year is not None:
        in_year = [e.name for e in entries if e.first_year <= year <= e.last_year]
        if in_year:
            return tuple(in_year)
        distance = min(min(abs(year - e.first_year), abs(year - e.last_year)) for e in entries)
        return tuple(e.name for e in entries if min(abs(year - e.first_year), abs(year - e.last_year)) == distance)
    return tuple(e.name for e in entries)


def name_matches(kind: str, code: str, name: str, year: int | None) -> bool | None:
    """Whether a printed name is the catalogue's for that code and year (None: code not catalogued).
    Any name the code has had in another year also matches: names drift, and the catalogue only
    knows the years the corpora print. So does the start of a name (four characters or more), and a
    功能分类 类 named without its 支出."""
    expected = expected_names(kind, code, year)
    if expected is None:
        return None
    key = code_name_key(name)
    known = {code_name_key(e.name) for e in catalogue(kind)[code]}
    # a name cut in a narrow cell (十六、自然资源海洋气) is the code's name when it starts it: the
    # 收支总表 reader resolves such a 类 by the same unique prefix of four characters or more
    if kind == "func" and len(code) == 3 and code_name_key(name + "支出") in known:
        return True  # a 类 printed without its 支出 (西安 收支总表: 5、教育, 17、金融)
    return key in known or (len(key) >= MIN_PREFIX and any(k.startswith(key) for k in known))


def econ_code_for_name(name: str, current_class: str | None) -> str | None:
    """The 经济分类 code of a row printed by name alone (杭州's 基本支出 table: 工资福利支出 / 基本工资 /
    …, no codes): a 类 by its name; a 款 by its name under the 类 the rows are in (医疗费 is 30114
    under 301, 30307 医疗费补助 under 303). A name the classification moved (水费: 30203 until 2017,
    30205 since) is its latest code. None when the catalogue knows no such name there."""
    key = code_name_key(name)
    if not key:
        return None
    classes = _codes_named(key, 3, "")
    if len(classes) == 1:
        return classes[0][0]
    return _latest(_codes_named(key, 5, current_class)) if current_class else None


def _codes_named(key: str, length: int, prefix: str) -> list[tuple[str, int]]:
    """(code, last year under that name) of the catalogued codes of that length and prefix with that name."""
    return [
        (code, max(e.last_year for e in entries if code_name_key(e.name) == key))
        for code, entries in catalogue("econ").items()
        if len(code) == length and code.startswith(prefix) and any(code_name_key(e.name) == key for e in entries)
    ]


def _latest(found: list[tuple[str, int]]) -> str | None:
    if not found:
        return None
    newest = max(year for _, year in found)
    latest = [code for code, year in found if year == newest]
    return latest[0] if len(latest) == 1 else None


def func_code_for_name(name: str, parent: str, year: int | None = None) -> str | None:
    """The 功能分类 code of a 款 or 项 printed by name alone, among the children of its parent (a 款
    among the 款 of its 类, a 项 among the 项 of its 款): by the exact name first, then by the
    normalized one (``code_name_key``), never by similarity, never across parents. Where two
    children had the name in different years, the one of ``year`` (else the latest). None when the
    catalogue knows no child of that parent by that name, or cannot tell two apart."""
    printed = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))
    if not printed or code_level(parent) not in (1, 2):
        return None
    children = [
        (code, entries)
        for code, entries in catalogue("func").items()
        if len(code) == len(parent) + 2 and code.startswith(parent)
    ]
    for same in (
        lambda e: re.sub(r"\s+", "", unicodedata.normalize("NFKC", e.name)) == printed,
        lambda e: code_name_key(e.name) == code_name_key(printed),
    ):
        found = [(code, [e for e in entries if same(e)]) for code, entries in children]
        found = [(code, named) for code, named in found if named]
        if len(found) == 1:
            return found[0][0]
        if found:
            return _of_year(found, year)
    return None


def _of_year(found: list[tuple[str, list[CodeEntry]]], year: int | None) -> str | None:
    """Of several codes that carried one name, the one that carried it in ``year``, else the latest."""
    if year is not None:
        in_year = [code for code, named in found if any(e.first_year <= year <= e.last_year for e in named)]
        if len(in_year) == 1:
            return in_year[0]
    return _latest([(code, max(e.last_year for e in named)) for code, named in found])
