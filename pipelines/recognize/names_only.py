"""功能分类 rows printed by name alone, their level shown by indentation (杭州's 表3 / 表5: 公共安全支出 /
司法 / 　　行政运行 …, no codes anywhere): the level of a row from how far its name is indented
relative to the table's 类 rows, its parent the nearest row above at a lower level, and its code
from the catalogue among the children of that parent (``func_code_for_name``).

The reading is proved by the table's own arithmetic, not assumed: the rebuilt codes go to the rules
like printed ones (R-HIER: 类 = Σ款, 款 = Σ项). A 类 under which one name does not resolve keeps all
its 款 and 项 as summary lines (a partial hierarchy would fail its sums for a reason of ours), and
the table names the rows it could not place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.normalize.catalog import func_class_for_label
from pipelines.normalize.codes import func_code_for_name
from pipelines.recognize.rows import Block, code_level, is_func_code

# indentation is measured in character widths: levels stand about one full-width space apart
SAME_LEVEL = 0.4
MAX_LEVELS = 3  # 类, 款, 项


@dataclass(slots=True)
class NameLevels:
    """What a table's next page needs of this one: the indentation of each level and the path of
    rows (level, code) the last row stands under, per side-by-side block."""

    levels: dict[int, list[float]] = field(default_factory=dict)
    path: dict[int, list[tuple[int, str | None]]] = field(default_factory=dict)
    spoiled: set[int] = field(default_factory=set)  # blocks whose last 类 had a name that did not resolve


@dataclass(slots=True)
class NameReading:
    codes: dict[int, str | None]  # id(block) → its code (None: a name at 款/项 level that stays a summary line)
    unresolved: list[tuple[int, str]]  # (page, name) of the names that resolved to no code


# the summary lines of a 收支总表 (本年支出合计, 二、结转下年, 年末结转和结余, 结余分配): no 科目 is named so
_SUMMARY_LINE = re.compile(r"合计|总计|小计|结转|结余|^[一二三四五六七八九十]+、")


def _is_summary_line(label: str, total_labels: tuple[str, ...]) -> bool:
    return label.startswith(total_labels) or (bool(_SUMMARY_LINE.search(label)) and not func_class_for_label(label))


def _is_name_row(block: Block, total_labels: tuple[str, ...]) -> bool:
    return (
        block.code is None
        and bool(block.label)
        and block.indent is not None
        and not _is_summary_line(block.label, total_labels)
    )


def _levels(rows: list[Block], total_labels: tuple[str, ...]) -> list[float] | None:
    """The indentation of the 类, 款 and 项 rows: the distinct indentations of the names, least first,
    when the least indented names include 类 names and no 类 name stands further in (a table whose
    names are centred, or whose 类 rows are not named, is not read this way)."""
    names = [b for b in rows if _is_name_row(b, total_labels)]
    classes = [b.indent for b in names if func_class_for_label(b.label)]
    if not classes or len(names) == len(classes):
        return None
    base = min(b.indent for b in names)
    if any(x - base > SAME_LEVEL for x in classes):
        return None
    levels: list[float] = []
    for x in sorted(b.indent for b in names):
        if not levels or x - levels[-1] > SAME_LEVEL:
            levels.append(x)
    return levels[:MAX_LEVELS] if len(levels) > 1 else None


def _level_of(indent: float, levels: list[float]) -> int | None:
    return next((i for i, x in enumerate(levels) if abs(indent - x) <= SAME_LEVEL), None)


def read_names(
    rows: list[tuple[int, Block]], carry: NameLevels, year: int | None, total_labels: tuple[str, ...]
) -> NameReading:
    """Codes for the names-only rows of one table, in the order ``rows`` (page, block) are printed."""
    reading = NameReading(codes={}, unresolved=[])
    for position in sorted({b.position for _, b in rows}):
        mine = [(page, b) for page, b in rows if b.position == position]
        levels = carry.levels.get(position) or _levels([b for _, b in mine], total_labels)
        if not levels:
            continue
        carry.levels[position] = levels
        walk = _ClassWalk(reading, spoiled=position in carry.spoiled)
        _read_block(mine, levels, carry.path.setdefault(position, []), walk, year, total_labels)
        carry.spoiled.discard(position)
        if walk.failed or walk.spoiled:
            carry.spoiled.add(position)  # the 类 this page ends under runs on with a name unresolved
        walk.close()
    return reading


@dataclass(slots=True)
class _ClassWalk:
    """The names-only rows under the current 类, dropped together when one of them does not resolve
    (or the 类's rows on the page before did not)."""

    reading: NameReading
    spoiled: bool = False
    subtree: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    def close(self) -> None:
        if self.failed or self.spoiled:
            for key in self.subtree:
                self.reading.codes[key] = None
            self.reading.unresolved.extend(self.failed)
        self.subtree.clear()
        self.failed.clear()
        self.spoiled = False


def _read_block(
    rows: list[tuple[int, Block]],
    levels: list[float],
    path: list[tuple[int, str | None]],
    walk: _ClassWalk,
    year: int | None,
    total_labels: tuple[str, ...],
) -> None:
    for page, b in rows:
        named = b.code is None and _is_name_row(b, total_labels)
        if b.code is not None:
            level = code_level(b.code) - 1 if is_func_code(b.code) else None
            code = b.code if level is not None else None
        elif named:
            level = _level_of(b.indent, levels)
            code = None
            if level == 0:
                code = func_class_for_label(b.label)
            elif level is not None:
                while path and path[-1][0] >= level:
                    path.pop()
                parent = path[-1][1] if path and path[-1][0] == level - 1 else None
                code = func_code_for_name(b.label, parent, year) if parent else None
        elif b.label and _is_summary_line(b.label, total_labels):
            level, code = 0, None  # a 合计 or 结转 line: no 类 above the rows after it
        else:
            continue
        if level is None:
            continue
        if level == 0:
            walk.close()
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, code))
        if named:
            walk.reading.codes[id(b)] = code
            if level > 0:
                walk.subtree.append(id(b))
                if code is None:
                    walk.failed.append((page, b.label))
