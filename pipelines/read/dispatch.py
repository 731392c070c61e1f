"""Pick the reader for a file and turn reading failures into sentences a person understands."""

from __future__ import annotations

import hashlib
import re
import zlib
from pathlib import Path

from pipelines.read.model import Page, SourceDocument, TextLine

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES


class ReadError(Exception):
    """The file cannot be read; the message is meant for the analyst."""


def doc_id_for(sha256: str) -> str:
    """A document's id: the first 16 hex digits of its bytes' sha256, so the same bytes are the
    same document wherever they are found."""
    return sha256[:16]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_document(path: Path, sha256: str | None = None) -> SourceDocument:
    path = Path(path)
    sha = sha256 or sha256_file(path)
    size = path.stat().st_size
    if size == 0:
        raise ReadError("The file is empty (0 bytes).")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        from pipelines.read.text import decode_text, text_to_pages

        try:
            text, _encoding = decode_text(path.read_bytes())
        except UnicodeDecodeError as exc:
            raise ReadError("The text file is neither UTF-8 nor GBK/GB18030 text.") from exc
        if not text.strip():
            raise ReadError("The text file contains only whitespace.")
        pages = text_to_pages(text)
        return SourceDocument(path=path, sha256=sha, source_format="text", pages=pages, page_count=1)
    if suffix in PDF_SUFFIXES:
        return _read_pdf_checked(path, sha)
    raise ReadError(f"Unsupported file type '{suffix or '(none)'}': expected a PDF or a .txt/.md text extraction.")


def _root_cause(exc: BaseException) -> BaseException:
    """pdfplumber wraps pdfminer's errors (``PdfminerException(inner)``); find the inner one."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__cause__
        if inner is None:
            break
        exc = inner
    return exc


_CID = re.compile(r"\(cid:\d+\)")


def undecodable_share(pages: list[Page]) -> float:
    """Share of the characters that pdfminer could only print as glyph numbers ``(cid:1193)``:
    fonts without a Unicode mapping (or one hidden by encryption); such text cannot be read."""
    total = unmapped = 0
    for page in pages:
        for item in page.items:
            texts = [item.text] if isinstance(item, TextLine) else [c for row in item.rows for c in row if c]
            for text in texts:
                n = len(_CID.findall(text))
                unmapped += n
                total += n + len(_CID.sub("", text))
    return unmapped / total if total else 0.0


def _pdf_is_truncated(path: Path, size: int) -> bool:
    """A complete PDF ends with ``%%EOF`` (some writers add a few bytes after it)."""
    with open(path, "rb") as f:
        f.seek(max(0, size - 4096))
        return b"%%EOF" not in f.read()


def _read_pdf_checked(path: Path, sha: str) -> SourceDocument:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(1024)
    if b"%PDF" not in head:
        raise ReadError("The file has a .pdf name but is not a PDF (no %PDF header).")
    if _pdf_is_truncated(path, size):
        raise ReadError(
            f"The PDF is truncated: it stops after {size:,} bytes without the end-of-file marker of a complete "
            "PDF (an interrupted download or copy?). Fetch the file again."
        )
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.pdftypes import PDFException
    from pdfminer.psexceptions import PSException

    from pipelines.read.pdf import read_pdf

    try:
        pages, count = read_pdf(path)
    except MemoryError:  # a memory budget's doing (parse pool): the supervisor says so, not "damaged"
        raise
    except Exception as exc:  # pdfminer raises many kinds of errors on broken files
        cause = _root_cause(exc)
        name = type(cause).__name__
        detail = "".join(ch if ch.isprintable() else "?" for ch in str(cause))[:200]
        if isinstance(cause, PDFPasswordIncorrect) or "Password" in name:
            raise ReadError(
                "The PDF is encrypted with a password that is needed to open it; budgetwh cannot read it "
                "without the password. Ask the publisher for an unprotected copy."
            ) from exc
        if isinstance(cause, PDFEncryptionError) or "Encrypt" in name:
            raise ReadError(f"The PDF is encrypted in a way budgetwh cannot open ({detail}).") from exc
        if isinstance(cause, (PDFSyntaxError, PSException, PDFException, ValueError, zlib.error)):
            raise ReadError(
                f"The PDF is damaged and cannot be parsed ({name}: {detail}). Fetch the file again."
            ) from exc
        raise ReadError(f"The PDF could not be read: {name}: {detail}".strip()) from exc
    if count == 0:
        raise ReadError("The PDF has no pages.")
    if sum(p.char_count for p in pages) == 0:
        raise ReadError(
            f"The PDF has no text layer ({count} pages of images only, e.g. a scan); it would need OCR, "
            "which budgetwh does not do."
        )
    share = undecodable_share(pages)
    if share > 0.5:
        raise ReadError(
            f"The PDF's text cannot be decoded: {share:.0%} of its characters are glyph numbers such as "
            "'(cid:1193)' because its fonts carry no Unicode mapping (or the mapping is encrypted); "
            "it would need OCR, which budgetwh does not do."
        )
    return SourceDocument(path=path, sha256=sha, source_format="pdf", pages=pages, page_count=count)
