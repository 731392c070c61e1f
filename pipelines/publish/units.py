"""Units across their names and years: which document names are one unit (``unit_key``), the unit's
department (``parent_unit_key``), region and administrative level. Computed on every publish from the
document rows, the 决算 rosters (bridge_dept_unit) and the shipped alias file ``data/unit_aliases.csv``.

Rules, in order (each unit says which one joined its names, in ``match_reason``):

1. **Same name**: names that are equal after normalization are one unit. Normalization removes
   whitespace, makes brackets one width (（）/()), writes 中国共产党X委员会 as 中共X委 and 中共X省委员会 as
   中共X省委, adds 中共 to a party committee body written without it (上海市普陀区委社会工作部), and drops a trailing note on what kind of body it is (（下属事业单位）, （参公）, （机关）) or
   that the figures are consolidated (（汇总）: the 部门 scope says so already). 本级 is kept: a
   department's own office is not the department.
2. **Alias file**: ``data/unit_aliases.csv`` (name, canonical_name, region, admin_level, reason) joins
   renames no rule can know (江苏省人大办公厅 → 江苏省人大常委会办公厅) and gives region and level where
   the name does not (西南大学: 中央, a university under the Ministry of Education, in 重庆市). Nothing
   else merges different names: 常委会办公厅 and 办公厅 are one unit only through that file.

parent_unit_key: a member unit of a 决算 roster belongs to the department that printed the roster; a
``X（本级）`` unit belongs to X. region and admin_level come from the name: 国家…/中央…/中共中央… are
中央; …省 / …自治区 and the four 直辖市 are 省; a …市 inside them (or alone) is 市; a …区 / …县 is 区县; a
…街道办事处 / …镇人民政府 / …乡人民政府 is 街道; the alias file overrides.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

ALIAS_FILE = Path(__file__).resolve().parents[2] / "data" / "unit_aliases.csv"

UNIT_COLUMNS = (
    "unit_key", "unit_name", "names", "first_year", "last_year", "parent_unit_key", "region", "admin_level",
    "match_reason",
)  # fmt: skip

_KIND_NOTE = re.compile(r"\((?:下属|所属)?[^()]*?(?:单位|参公|机关|汇总)[^()]*\)$")
_FULL_WIDTH_KIND_NOTE = re.compile(r"[（(](?:下属|所属)[^（）()]*?单位[）)]$")
_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")


@lru_cache(maxsize=1 << 17)  # called several times per document on every publish (42,000 documents: 10 s)
def normalized_name(name: str) -> str:
    """The spelling two names of one unit share (rule 1)."""
    n = unicodedata.normalize("NFKC", name)  # full-width brackets, digits and letters → half-width
    n = re.sub(r"\s+", "", n)
    n = re.sub(r"^中国共产党(.+?)委员会", r"中共\1委", n)
    n = re.sub(r"^中共(.+?[省市区县])委员会", r"中共\1委", n)
    if not n.startswith("中共") and re.match(r"^[\u4e00-\u9fff]{1,8}?[省市区县]委(?!员)", n):
        n = "中共" + n  # 上海市普陀区委社会工作部 is 中共上海市普陀区委社会工作部
    while True:
        note = _KIND_NOTE.search(n)
        if not note or "本级" in note.group(0):
            break
        n = n[: note.start()]
    return n


def unit_key_for(normalized: str) -> str:
    """A short, stable key: the same normalized name always gives the same key."""
    return "u" + hashlib.sha256(normalized.encode()).hexdigest()[:11]


@dataclass(frozen=True)
class Alias:
    canonical_name: str | None
    region: str | None
    admin_level: str | None
    reason: str


def read_aliases(path: Path = ALIAS_FILE) -> dict[str, Alias]:
    """normalized name → its alias row."""
    if not path.exists():
        return {}
    out: dict[str, Alias] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            name = (row.get("name") or "").strip()
            if not name or name.startswith("#"):
                continue
            out[normalized_name(name)] = Alias(
                canonical_name=(row.get("canonical_name") or "").strip() or None,
                region=(row.get("region") or "").strip() or None,
                admin_level=(row.get("admin_level") or "").strip() or None,
                reason=(row.get("reason") or "").strip(),
            )
    return out


@lru_cache(maxsize=1 << 17)
def region_and_level(name: str) -> tuple[str | None, str | None]:
    """Where a unit sits, from its name (see the module docstring)."""
    rest = normalized_name(name).removeprefix("中共")
    if re.match(r"^(国家|中央|中华人民共和国|全国)", rest):
        return "全国", "中央"
    region: list[str] = []
    level: str | None = None
    province = re.match(r"^[\u4e00-\u9fff]{2,3}?(?:省|自治区)", rest)
    if rest.startswith(_MUNICIPALITIES) or province:
        head = rest[:3] if not province else province.group(0)
        region.append(head)
        level, rest = "省", rest[len(head) :]
    if not (region and region[0] in _MUNICIPALITIES):
        city = re.match(r"^[\u4e00-\u9fff]{2,4}?市(?!场)", rest)
        if city:
            region.append(city.group(0))
            level, rest = "市", rest[city.end() :]
    district = re.match(r"^[\u4e00-\u9fff]{1,4}?[区县](?!委员)", rest)
    if district and region:
        region.append(district.group(0))
        level = "区县"
    if re.search(r"街道办事处|街道工作委员会|镇人民政府|乡人民政府", name):
        level = "街道"
    return ("".join(region) or None), level


@dataclass
class _Unit:
    key: str
    names: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    name_counts: Counter = field(default_factory=Counter)
    reasons: set[str] = field(default_factory=set)
    parent_key: str | None = None
    alias: Alias | None = None
    years: set[int] = field(default_factory=set)


def key_for_name(name: str, aliases: dict[str, Alias]) -> str:
    """The unit_key a printed name is published under (rules 1 and 2)."""
    norm = normalized_name(name)
    alias = aliases.get(norm)
    return unit_key_for(normalized_name(alias.canonical_name) if alias and alias.canonical_name else norm)


def member_name(member: str, department: str | None) -> str:
    """The name a member unit printed in its department's tables is published under: as printed,
    except that a block or row printed with the department's own name (珠海 表11 ``珠海市商务局`` beside
    its 贸易服务中心; 湖州 收入总表's second ``湖州市财政局`` line) is the department's own office,
    ``X（本级）``: the department itself is its 合计, so the two keep apart and nothing counts twice."""
    member = re.sub(r"\s+", "", member)
    if department and normalized_name(member) == normalized_name(department):
        return f"{member}（本级）"
    return member


def build_units(documents: list[dict], roster: list[dict], aliases: dict[str, Alias]) -> tuple[list[dict], dict]:
    """(unit rows, doc_id → unit_key). ``documents``: rows with doc_id, unit_name, fiscal_year, status;
    ``roster``: rows with doc_id, member_unit_name (a department's member units: its 决算 roster, and
    with ``fiscal_year`` and ``source`` = ``tables`` the members its tables print rows of)."""
    units: dict[str, _Unit] = {}

    def unit_for(name: str) -> _Unit:
        norm = normalized_name(name)
        alias = aliases.get(norm)
        target = normalized_name(alias.canonical_name) if alias and alias.canonical_name else norm
        key = unit_key_for(target)
        unit = units.setdefault(key, _Unit(key))
        if alias:
            unit.alias = unit.alias or alias
            if target != norm:
                unit.reasons.add(f"{name}: alias file ({alias.reason})" if alias.reason else f"{name}: alias file")
        elif target in aliases:
            unit.alias = unit.alias or aliases[target]
        return unit

    doc_units: dict[str, str] = {}
    for doc in documents:
        name = doc.get("unit_name")
        if not name or doc.get("status") not in ("loaded", "superseded", "duplicate"):
            continue
        unit = unit_for(name)
        doc_units[doc["doc_id"]] = unit.key
        year = doc.get("fiscal_year")
        unit.name_counts[name] += 1
        if year is not None:
            unit.names[name].add(int(year))
            if doc.get("status") == "loaded":
                unit.years.add(int(year))
        else:
            unit.names.setdefault(name, set())
    for entry in roster:
        dept_key = doc_units.get(entry["doc_id"])
        member = entry.get("member_unit_name")
        if not dept_key or not member:
            continue
        member = _FULL_WIDTH_KIND_NOTE.sub("", member) or member
        unit = unit_for(member)
        unit.names.setdefault(member, set())
        unit.name_counts[member] += 0
        if entry.get("fiscal_year") is not None:  # printed in that year's tables: a year of the unit
            unit.names[member].add(int(entry["fiscal_year"]))
            unit.years.add(int(entry["fiscal_year"]))
        if unit.key != dept_key and unit.parent_key is None:
            unit.parent_key = dept_key
            where = "tables" if entry.get("source") == "tables" else "决算 roster"
            unit.reasons.add(f"member unit in the {where} of {_display(units[dept_key])}")
    by_norm = {normalized_name(_display(u)): u.key for u in units.values()}
    for unit in units.values():
        own = normalized_name(_display(unit))
        if unit.parent_key is None and own.endswith("(本级)"):
            unit.parent_key = by_norm.get(own.removesuffix("(本级)"))
    rows = {u.key: _row(u) for u in sorted(units.values(), key=_display)}
    for row in rows.values():  # a member unit named without its place sits where its department does
        parent = rows.get(row["parent_unit_key"] or "")
        if parent and row["region"] is None and row["admin_level"] is None:
            row["region"], row["admin_level"] = parent["region"], parent["admin_level"]
    return list(rows.values()), doc_units


def _display(unit: _Unit) -> str:
    """The unit's current name: the one printed in its latest year, then the most used."""
    if unit.alias and unit.alias.canonical_name:
        return unit.alias.canonical_name
    return max(unit.names, key=lambda n: (max(unit.names[n], default=0), unit.name_counts[n], n))


def _years(years: set[int]) -> str:
    ys = sorted(years)
    return ", ".join(map(str, ys)) if ys else "no year"


def _row(unit: _Unit) -> dict:
    display = _display(unit)
    region, level = region_and_level(display)
    if unit.alias:
        region = unit.alias.region or region
        level = unit.alias.admin_level or level
    variants = sorted(unit.names)
    reasons = sorted(unit.reasons)
    if len(variants) > 1:
        same = [n for n in variants if n != display and normalized_name(n) == normalized_name(display)]
        if same:
            reasons.insert(0, "same name after normalization: " + " = ".join([display, *same]))
    return {
        "unit_key": unit.key,
        "unit_name": display,
        "names": "; ".join(f"{n} ({_years(unit.names[n])})" for n in variants),
        "first_year": min(unit.years) if unit.years else None,
        "last_year": max(unit.years) if unit.years else None,
        "parent_unit_key": unit.parent_key,
        "region": region,
        "admin_level": level,
        "match_reason": "; ".join(reasons) if reasons else "one name",
    }


def remember_unit_key(name: str, aliases: dict, targets: dict[str, str]) -> str:
    """The unit key of a printed name (``units.key_for_name``), its normalized name kept in ``targets``."""
    norm = normalized_name(name)
    alias = aliases.get(norm)
    target = normalized_name(alias.canonical_name) if alias and alias.canonical_name else norm
    key = targets_key = unit_key_for(target)
    targets[targets_key] = target
    return key


def connected_units(
    seeds: set[str],
    entries: pl.DataFrame,
    old_entries: pl.DataFrame,
    doc_unit: dict[str, str | None],
    old_rows: dict[str, dict],
    old_units: pl.DataFrame,
    targets: dict[str, str],
) -> set[str]:
    """Every unit joined to ``seeds`` by an entry (a department's unit and its member's) or by the
    ``X（本级）`` rule, through the previous entries as well as the current ones."""
    edges: dict[str, set[str]] = defaultdict(set)
    old_unit_of = {d: r.get("unit_key") for d, r in old_rows.items()}
    for frame, unit_of in ((entries, doc_unit), (old_entries, {**doc_unit, **old_unit_of})):
        for doc_id, member_key in frame.select("doc_id", "member_key").iter_rows():
            dept = unit_of.get(doc_id)
            if dept and member_key:
                edges[dept].add(member_key)
                edges[member_key].add(dept)
    names = dict(zip(old_units["unit_key"].to_list(), old_units["unit_name"].to_list(), strict=True))
    found, frontier = set(), set(seeds)
    while frontier:
        key = frontier.pop()
        if key in found:
            continue
        found.add(key)
        frontier |= edges.get(key, set()) - found
        for target in _targets(key, names, targets):
            frontier |= {unit_key_for(target + "(本级)")} - found
            if target.endswith("(本级)"):
                frontier |= {unit_key_for(target.removesuffix("(本级)"))} - found
    return found


def _targets(key: str, names: dict[str, str], targets: dict[str, str]) -> set[str]:
    """The normalized name a unit's key is made of: its name in the previous units table (its
    current name normalizes to it), or a name printed now."""
    found = {normalized_name(names[key])} if key in names else set()
    return found | ({targets[key]} if key in targets else set())
