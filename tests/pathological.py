"""Pathological but valid PDFs, written in raw PDF syntax: a page with hundreds of thousands of
drawing operations (pdfminer makes an object of each), and a document of many thousand pages."""

from __future__ import annotations

import zlib
from pathlib import Path


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of the given objects (1-based, the first the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes) -> bytes:
    packed = zlib.compress(data)
    return f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode() + packed + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def many_drawings_pdf(path: Path, operations: int = 400_000) -> Path:
    """One page: a line of text, then ``operations`` tiny filled rectangles and line segments."""
    ops = bytearray(b"BT /F1 12 Tf 72 800 Td (Budget 2024) Tj ET\n")
    for i in range(operations):
        x, y = (i * 7) % 560 + 10, (i * 13) % 780 + 10
        ops += f"{x} {y} 1 1 re f {x} {y} m {x + 2} {y + 2} l S\n".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        _stream(bytes(ops)),
        FONT,
    ]
    path.write_bytes(_pdf(objects))
    return path


def many_pages_pdf(path: Path, pages: int = 20_000) -> Path:
    """``pages`` pages sharing one small content stream of a ruled table's lines and some text."""
    content = b"BT /F1 10 Tf 72 800 Td (page of a very long file) Tj ET\n" + b"".join(
        f"72 {700 - 20 * r} m 520 {700 - 20 * r} l S\n".encode() for r in range(30)
    )
    first_page = 5
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>",
        _stream(content),
        FONT,
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 3 0 R >>"
    objects += [page] * pages
    path.write_bytes(_pdf(objects))
    return path
