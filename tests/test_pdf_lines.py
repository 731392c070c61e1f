"""Text lines rebuilt from word positions (pipelines/readers/pdf.py): the digits and quote marks a
Word/ONLYOFFICE export prints in a separate, lower text run stay in their sentence (DOMAIN.md P1,
P2), while ordinary lines come out as before."""

from pipelines.read.pdf import read_pdf
from tests.conftest import corpus_file, needs_shared

pytestmark = needs_shared

CZJ = "shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf"


def lines(relative: str, page: int) -> list[str]:
    pages, _ = read_pdf(corpus_file(relative), [page])
    return [line.text for line in pages[0].lines]


def test_detached_digits_rejoin_their_sentence():
    # 财政局 p.22: pdfplumber's extract_text gives "年初预算为 万元，支出决算为 万" + "1560.05 1511.89"
    text = lines(CZJ, 22)
    assert "员经费及公用经费等的基本支出。年初预算为 1560.05 万元，支出决算为 1511.89 万" in text
    assert "1 、一般公共服务支出（类）财政事务（款）行政运行（项）。主要用于：局本部人" in text
    # p.22 item 9: the line's first word is set larger; the digits still belong to it
    assert any("年初预算为 62.29 万元，支出决算为 60.99 万元。决" in t for t in text)


def test_detached_quote_marks_rejoin_the_title():
    # 财政局 p.18: the title printed as "财政拨款 三公 经费支出决算表" with "“ ”" on a line below (P2)
    assert lines(CZJ, 18)[0] == "财政拨款 “ 三公 ” 经费支出决算表"


def test_lines_on_one_baseline_are_unchanged():
    # 社工部 p.17 has no detached runs: the lines are the plain text lines
    text = lines("shanghai_putuo_final/中共上海市普陀区委社会工作部 2024 年度部门决算.pdf", 17)
    assert text[:2] == ["第三部分 中共上海市普陀区委社会工作部 2024 年度部门决算情况", "说明"]
    assert "本年收入合计 307.82 万元，其中：财政拨款收入 307.82 万元，" in text
