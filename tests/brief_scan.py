"""Reading a brief package the way an out-tasker could: every file of the zip, the text of
nested DOCX and PPTX files (runs joined, cells, notes, properties, raw XML), and file names."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from docx import Document
from pptx import Presentation


def texts_of_office_file(name: str, data: bytes) -> list[str]:
    """What a reader of a DOCX or PPTX can see: runs joined per paragraph, table cells,
    notes, core properties; plus the raw text of every XML part (headers, app properties)."""
    out: list[str] = []
    if name.endswith(".docx"):
        doc = Document(io.BytesIO(data))
        out += ["".join(r.text for r in p.runs) for p in doc.paragraphs]
        out += [c.text for t in doc.tables for row in t.rows for c in row.cells]
        props = doc.core_properties
    else:
        prs = Presentation(io.BytesIO(data))
        for slide in prs.slides:
            for shape in slide.shapes:
                if shape.has_text_frame:
                    out += ["".join(r.text for r in p.runs) for p in shape.text_frame.paragraphs]
                if shape.has_table:
                    out += [c.text for row in shape.table.rows for c in row.cells]
            if slide.has_notes_slide:
                out.append(slide.notes_slide.notes_text_frame.text)
        props = prs.core_properties
    out += [str(getattr(props, a) or "") for a in (
        "author", "title", "subject", "keywords", "comments", "category", "last_modified_by",
        "content_status", "identifier", "language", "version")]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        out += z.namelist()
        for part in z.namelist():
            if part.endswith((".xml", ".rels")):
                out.append(re.sub(r"<[^>]+>", " ", z.read(part).decode("utf-8", "replace")))
    return out


def office_texts(name: str, data: bytes) -> list[str]:
    """What the end-to-end test reads (runs joined, cells, notes, properties, raw XML), plus the
    raw XML with tags dropped, so a word split over runs is whole, and every other part's bytes
    (thumbnails, printer settings)."""
    out = texts_of_office_file(name, data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for part in z.namelist():
            raw = z.read(part)
            out.append(re.sub(r"<[^>]+>", "", raw.decode("utf-8"))
                       if part.endswith((".xml", ".rels")) else raw.decode("latin-1"))
    return out


def everything_in(zip_path: Path) -> str:
    chunks = []
    with zipfile.ZipFile(zip_path) as z:
        for name in z.namelist():
            chunks.append(name)
            data = z.read(name)
            if name.endswith((".docx", ".pptx")):
                chunks += office_texts(name, data)
            elif name.endswith((".json", ".md")):
                chunks.append(data.decode("utf-8"))
            else:  # rendered from the deck searched above; their pixels say no more
                assert name.endswith(".png"), f"unexpected file in the brief: {name}"
                assert data.startswith(b"\x89PNG\r\n\x1a\n")
    text = re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", "\n".join(chunks))  # hashes hold any digits
    return re.sub(r"\s+", " ", text).lower()


def leaks(seen: str, secrets: list[str]) -> list[str]:
    found = []
    for secret in secrets:
        pattern = secret if secret.startswith(r"\b") else re.escape(secret.lower())
        for m in re.finditer(pattern, seen):
            found.append(f"{secret!r} in ...{seen[max(0, m.start() - 60):m.end() + 30]}...")
    return found
