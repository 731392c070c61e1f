"""Lines of running text rebuilt from positioned words, whichever reader found the words
(pdfplumber for pages read with their geometry, pdfium for the pages triage reads as text only)."""

from __future__ import annotations


def lines_from_words(words: list[dict]) -> list[tuple[float, str]]:
    """The line building of ``text_lines`` for words from any source (pdfplumber or pdfium)."""
    words = sorted(words, key=lambda w: (w["top"], w["x0"]))
    lines: list[dict] = []
    for w in words:
        height = w["bottom"] - w["top"]
        chosen = None
        for line in lines[-4:]:  # only lines near the bottom of the text so far can match
            near = min(line["words"], key=lambda o: abs(o["top"] - w["top"]))
            tolerance = 0.5 * max(height, near["bottom"] - near["top"], 1.0)
            if abs(w["top"] - near["top"]) > tolerance:
                continue
            if any(o["x0"] < w["x1"] - 1 and w["x0"] < o["x1"] - 1 for o in line["words"]):
                continue  # overlapping in x: a different line that happens to be close
            chosen = line
        if chosen is None:
            lines.append({"top": w["top"], "words": [w]})
        else:
            chosen["words"].append(w)
    out = []
    for line in lines:
        text = " ".join(w["text"] for w in sorted(line["words"], key=lambda w: w["x0"])).strip()
        if text:
            out.append((line["top"], text))
    return out
