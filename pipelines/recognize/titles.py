"""Table titles: which lines are titles (not sentences, not contents entries) and which table of a
family's catalogue a title names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.normalize.textnorm import title_key

# ---------------------------------------------------------------------------------------------
# Titles


@dataclass(frozen=True, slots=True)
class TitlePattern:
    table_type: str
    pattern: re.Pattern[str]
    exclude: re.Pattern[str] | None = None

    def matches(self, key: str) -> bool:
        return bool(self.pattern.search(key)) and not (self.exclude and self.exclude.search(key))


def title_pattern(table_type: str, pattern: str, exclude: str | None = None) -> TitlePattern:
    return TitlePattern(table_type, re.compile(pattern), re.compile(exclude) if exclude else None)


_TOC = re.compile(r"(…|\.{3,}|·{3,}|_{3,})")
_SENTENCE = re.compile(r"[。；;]|详见|见附表|如下|包括|主要|说明$|情况$")
_NUMBERING = re.compile(
    r"^(第[一二三四五六七八九十]+部分|附件\d*[:：]?|附表\d*[:：]?|公开\d*表|表[一二三四五六七八九十\d]+|"
    r"[（(]?[一二三四五六七八九十]+[）)、.．]|\d+[.．、]|[（(]\d+[）)])+"
)


def clean_title(text: str) -> str:
    key = title_key(text)
    return _NUMBERING.sub("", key)


def is_title_candidate(text: str) -> bool:
    """Short heading-like lines only: not TOC entries, not sentences."""
    key = title_key(text)
    if not key or len(key) > 60 or _TOC.search(text) or _SENTENCE.search(key):
        return False
    return key.endswith("表") or bool(re.search(r"表[（(][^）)]*[）)]$", key))


def match_title(text: str, catalogue: list[TitlePattern]) -> str | None:
    if not is_title_candidate(text):
        return None
    key = clean_title(text)
    for spec in catalogue:
        if spec.matches(key):
            return spec.table_type
    return None
