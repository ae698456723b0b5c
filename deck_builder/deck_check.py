"""Check a deck an out-tasker returns before we bill it or open it anywhere else.

A returned .pptx is untrusted: python-pptx opens it here, LibreOffice renders its previews and
PowerPoint opens it on a consultant's laptop. Each refusal (``DeckRefusedError.kind``) stops one
way such a file can hurt one of them, and says what to send instead:

- ``oversize``: ``os.stat`` before anything is read, so a huge upload costs nothing.
- ``encrypted``: a password-protected .pptx (like an old .ppt) is an OLE compound file; nothing
  in it can be checked until the password is removed.
- ``not-pptx``: not a zip, no ``[Content_Types].xml``, or a main part that is not a presentation
  (a .docx, .xlsx, .potx or .ppsx renamed): python-pptx would fail on it or misread it.
- ``unsafe-path``: absolute or ``..`` member names escape the folder when anyone unzips the deck;
  two members with one name let two readers see two different decks.
- ``zip-bomb``: member count, declared sizes and ratios first; then every member is inflated here
  in chunks, capped at its declared size, because zip headers can lie.
- ``corrupt``: bad CRCs, cut-short streams, broken XML, or python-pptx failing to read it.
- ``dtd``: DOCTYPE and ENTITY declarations are how XXE and "billion laughs" attacks start, in
  whichever parser reads the part next. PowerPoint never writes them.
- ``macro``: VBA projects and ActiveX controls run code on the consultant's machine. A .pptm
  renamed .pptx still carries them, so the content decides, not the name.
- ``external-link``: an external relationship that loads content (a picture, a template, OLE
  data, media) makes PowerPoint fetch a URL or UNC path on opening: tracking, or a leaked Windows
  password hash. External hyperlinks act only when clicked: flagged, like embedded files.

Then the deck is counted. We pay per slide, so hidden and empty slides are not billable; layouts
outside the house template and missing titles are flagged for review and do not change the bill.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from lxml import etree

from deck_builder.errors import DeckRefusedError
from deck_builder.house import LAYOUT_NAMES

__all__ = ["DeckFlag", "DeckReport", "check_deck"]

PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_MEMBERS = 10_000
RATIO_FLOOR = 1024 * 1024  # small parts compress very well and are harmless; judge ratios above
CHUNK = 64 * 1024
MACRO_WORDS = ("macroenabled", "vbaproject", "activex")
LOOKS_LIKE = {"wordprocessingml": "a Word document", "spreadsheetml": "an Excel workbook",
              "template": "a PowerPoint template", "slideshow": "a PowerPoint show"}
BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
        (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
        (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be"))  # XML 1.0 appendix F, without BOM
XML_ENCODING = re.compile(r"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)""")

SAVE_AS_PPTX = ("save it as a plain .pptx (PowerPoint: File > Save As > PowerPoint Presentation)"
                " and send it again")
RESAVE = "open it in PowerPoint, save it again as a .pptx (do not zip it by hand) and send it again"


@dataclass(frozen=True)
class DeckFlag:
    """Something about the deck to review; ``slide`` is 1-based, None for the whole deck."""

    kind: str
    slide: int | None
    reason: str


@dataclass(frozen=True)
class DeckReport:
    """What a returned deck holds and what of it is billable."""

    file: str
    slides: int
    billable_slides: int
    hidden_slides: int
    empty_slides: int
    flags: tuple[DeckFlag, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": [asdict(flag) for flag in self.flags]}


class _ContentTypes(NamedTuple):
    defaults: dict[str, str]  # extension (lower case) -> content type
    overrides: dict[str, str]  # part name (lower case, no leading slash) -> content type

    def of(self, part: str) -> str:
        part = part.lower().lstrip("/")
        return self.overrides.get(part) or self.defaults.get(posixpath.splitext(part)[1][1:], "")


class _Rel(NamedTuple):
    source: str  # the part the relationship belongs to; "" for the package itself
    type: str
    target: str  # a part name for internal targets, the URL as written for external ones
    external: bool


def check_deck(path: Path | str, *, max_bytes: int = 200 * 1024 * 1024,
               max_uncompressed: int = 1024 * 1024 * 1024, max_ratio: int = 200,
               house_layouts: tuple[str, ...] = LAYOUT_NAMES) -> DeckReport:
    """Refuse ``path`` (DeckRefusedError) unless it is a safe, real .pptx; count it if it is.

    A missing file raises FileNotFoundError: that is the caller's mistake, not the vendor's.
    """
    path = Path(path)
    try:
        _check_file(path, max_bytes)
        with path.open("rb") as fh:
            infos = _open_zip(fh)
            _check_members(infos, max_uncompressed, max_ratio)
            types, rels = _read_parts(fh, infos)
        _check_package([info.filename for info in infos], types, rels)
        return _count(path, rels, house_layouts)
    except DeckRefusedError as exc:
        exc.path = exc.path or str(path)
        raise


def _refuse(kind: str, reason: str, fix: str) -> DeckRefusedError:
    return DeckRefusedError(reason, kind=kind, fix=fix)


def _clip(text: object, limit: int = 120) -> str:
    """One line, not too long: reasons end up in JSON, logs and e-mails."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count / 1024:.1f} KB"


def _check_file(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise _refuse("oversize", f"the deck is {_size(size)}, over the {_size(max_bytes)} limit",
                      "compress its pictures (PowerPoint: File > Compress Pictures) or split the"
                      " deck, and send it again")


def _open_zip(fh: IO[bytes]) -> list[zipfile.ZipInfo]:
    head = fh.read(8)
    if head.startswith(OLE_MAGIC):
        raise _refuse("encrypted", "password-protected or old-format deck (an OLE compound file,"
                      " not a .pptx)", "remove the password (PowerPoint: File > Info > Protect"
                      " Presentation > Encrypt with Password, clear it), " + SAVE_AS_PPTX)
    if not head.startswith(b"PK\x03\x04"):  # also refuses data hidden in front of a zip
        raise _refuse("not-pptx", f"not a .pptx: not a zip archive (starts with {head[:4]!r})",
                      SAVE_AS_PPTX)
    try:
        fh.seek(0)
        return zipfile.ZipFile(fh).infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, struct.error) as exc:
        raise _refuse("corrupt", f"damaged or cut-short zip archive ({_clip(exc)})",
                      "send the file again; if it fails again, " + RESAVE) from exc


def _check_members(infos: list[zipfile.ZipInfo], max_uncompressed: int, max_ratio: int) -> None:
    if len(infos) > MAX_MEMBERS:
        raise _refuse("zip-bomb", f"the zip holds {len(infos)} members (limit {MAX_MEMBERS})",
                      RESAVE)
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) \
                or ".." in re.split(r"[\\/]", name):
            raise _refuse("unsafe-path", f"unsafe member name '{_clip(name)}' (absolute or"
                          " with '..')", RESAVE)
        if name.lower() in seen:
            raise _refuse("unsafe-path", f"two members named '{_clip(name)}'", RESAVE)
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise _refuse("encrypted", f"member {_clip(name)} is encrypted",
                          "remove the password, " + SAVE_AS_PPTX)
        if info.file_size > max(RATIO_FLOOR, max_ratio * info.compress_size):
            raise _refuse("zip-bomb", f"member {_clip(name)} inflates from"
                          f" {_size(info.compress_size)} to {_size(info.file_size)} (over"
                          f" {max_ratio}:1)", RESAVE)
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed:
        raise _refuse("zip-bomb", f"the zip inflates to {_size(total)} (limit"
                      f" {_size(max_uncompressed)})", RESAVE)


def _read_parts(fh: IO[bytes], infos: list[zipfile.ZipInfo]) -> tuple[_ContentTypes, list[_Rel]]:
    """Inflate every member once (sizes, CRCs, DTDs); parse the content types and relationships."""
    ct_info = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
    if ct_info is None:
        raise _refuse("not-pptx", "not a .pptx: the zip has no [Content_Types].xml", SAVE_AS_PPTX)
    root = _parse_xml(ct_info.filename, _read_member(fh, ct_info, scan=True, keep=True))
    types = _ContentTypes(
        {el.get("Extension", "").lower(): el.get("ContentType", "")
         for el in root.iter("{*}Default")},
        {el.get("PartName", "").lower().lstrip("/"): el.get("ContentType", "")
         for el in root.iter("{*}Override")})
    rels: list[_Rel] = []
    for info in infos:
        if info is ct_info or info.is_dir():
            continue
        name = info.filename
        is_rels = name.lower().endswith(".rels")
        scan = is_rels or name.lower().endswith(".xml") or types.of(name).endswith(("+xml", "/xml"))
        data = _read_member(fh, info, scan=scan, keep=is_rels)
        if is_rels:
            rels.extend(_parse_rels(name, data))
    return types, rels


def _read_member(fh: IO[bytes], info: zipfile.ZipInfo, *, scan: bool, keep: bool) -> bytes:
    """The member's bytes (if ``keep``), inflated with its declared size as a hard cap."""
    name, size, crc, kept = _clip(info.filename), 0, 0, []
    scanner = _DtdScanner(name) if scan else None
    for chunk in _inflate(fh, info):
        size += len(chunk)
        if size > info.file_size:  # declared sizes are capped in total, so this caps the total
            raise _refuse("zip-bomb", f"member {name} inflates to more than the"
                          f" {_size(info.file_size)} its zip header declares", RESAVE)
        crc = zlib.crc32(chunk, crc)
        if scanner:
            scanner.feed(chunk)
        if keep:
            kept.append(chunk)
    if size != info.file_size or crc != info.CRC:
        raise _refuse("corrupt", f"member {name} fails its CRC check", RESAVE)
    return b"".join(kept)


def _inflate(fh: IO[bytes], info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Yield a member's data from the raw stream: zipfile stops at the declared size, and we want
    to see what the data really holds."""
    name = _clip(info.filename)
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or not local.startswith(b"PK\x03\x04"):
        raise _refuse("corrupt", f"member {name} has no local zip header", RESAVE)
    fh.seek(info.header_offset + 30 + sum(struct.unpack("<HH", local[26:30])))
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _refuse("corrupt", f"member {name} uses zip compression method"
                      f" {info.compress_type}, which PowerPoint never writes", RESAVE)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    left = info.compress_size
    try:
        while left > 0:
            raw = fh.read(min(CHUNK, left))
            if not raw:
                break
            left -= len(raw)
            if inflater is None:
                yield raw
                continue
            while True:  # bounded output per call; pending output is asked for with no input
                out = inflater.decompress(raw, CHUNK)
                yield out
                raw = inflater.unconsumed_tail
                if not raw and len(out) < CHUNK:
                    break
    except zlib.error as exc:
        raise _refuse("corrupt", f"member {name} does not inflate ({exc})", RESAVE) from exc
    if left > 0 or (inflater is not None and not inflater.eof):
        raise _refuse("corrupt", f"member {name} is cut short", RESAVE)


class _DtdScanner:
    """Finds ``<!DOCTYPE`` / ``<!ENTITY`` in a part fed chunk by chunk, in UTF-8 or UTF-16/32."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.decoder: codecs.IncrementalDecoder | None = None
        self.tail = ""

    def feed(self, chunk: bytes) -> None:
        if self.decoder is None:
            encoding = next((enc for bom, enc in BOMS if chunk.startswith(bom)), "utf-8")
            self.decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
            text = self.decoder.decode(chunk)
            declared = XML_ENCODING.match(text.lstrip("\ufeff"))
            if declared and not re.fullmatch(r"utf-?(8|16(-?[lb]e)?)", declared[1].lower()):
                raise _refuse("not-pptx", f"{self.part} is encoded as {_clip(declared[1], 30)!r};"
                              " a .pptx holds UTF-8 or UTF-16 XML only", SAVE_AS_PPTX)
        else:
            text = self.decoder.decode(chunk)
        text = (self.tail + text).lower()
        for marker in ("<!doctype", "<!entity"):
            if marker in text:
                raise _refuse("dtd", f"{self.part} contains a DTD declaration ({marker.upper()})",
                              "remove it (PowerPoint never writes one): " + RESAVE)
        self.tail = text[-16:]


def _parse_xml(part: str, data: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _refuse("corrupt", f"{_clip(part)} is not well-formed XML ({_clip(exc, 80)})",
                      RESAVE) from exc


def _parse_rels(rels_part: str, data: bytes) -> list[_Rel]:
    folder, base = posixpath.split(rels_part)
    source = posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])
    rels = []
    for el in _parse_xml(rels_part, data).iter("{*}Relationship"):
        target, external = el.get("Target", ""), el.get("TargetMode", "").lower() == "external"
        if not external:
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(posixpath.dirname(source), target))
        rels.append(_Rel(source, el.get("Type", ""), target, external))
    return rels


def _check_package(names: list[str], types: _ContentTypes, rels: list[_Rel]) -> None:
    """Macros first (a .pptm's main part has a content type of its own), then the main part's
    content type, then relationships that load content from outside the deck."""
    found = next((n for n in names if posixpath.basename(n.lower()).startswith("vbaproject")
                  or "activex/" in n.lower()), None)
    found = found or next((f"content type {t}" for t in (*types.overrides.values(),
                                                         *types.defaults.values())
                           if any(word in t.lower() for word in MACRO_WORDS)), None)
    found = found or next((f"{r.type.rsplit('/', 1)[-1]} relationship in {r.source or '_rels'}"
                           for r in rels if r.type.endswith("/control")
                           or any(word in r.type.lower() for word in MACRO_WORDS)), None)
    if found:
        raise _refuse("macro", f"macro-enabled presentation ({_clip(found)})", SAVE_AS_PPTX)
    main = next((r.target for r in rels if r.source == "" and not r.external
                 and r.type.endswith("/officeDocument")), None)
    if main is None:
        raise _refuse("not-pptx", "not a .pptx: _rels/.rels names no main document",
                      SAVE_AS_PPTX)
    if (found := types.of(main)) != PPTX_MAIN:
        looks = next((f" ({what}?)" for key, what in LOOKS_LIKE.items() if key in found), "")
        raise _refuse("not-pptx", f"wrong content type for {_clip(main)}:"
                      f" {_clip(found) or 'none'}{looks}", SAVE_AS_PPTX)
    for rel in rels:
        if rel.external and not rel.type.endswith("/hyperlink"):
            raise _refuse("external-link", f"{rel.source or '_rels/.rels'} loads an external"
                          f" {rel.type.rsplit('/', 1)[-1]} from {_clip(rel.target, 80)}",
                          "embed the file instead of linking to it (PowerPoint: File > Info >"
                          " Edit Links to Files > Break Link) and send it again")


def _count(path: Path, rels: list[_Rel], house_layouts: tuple[str, ...]) -> DeckReport:
    from pptx import Presentation  # heavy; only needed once the deck is known to be safe

    try:
        slides = list(Presentation(str(path)).slides)
        flags: list[DeckFlag] = []
        slide_of: dict[str, int] = {}
        hidden = empty = 0
        for number, slide in enumerate(slides, 1):
            slide_of[str(slide.part.partname).lstrip("/")] = number
            if slide.has_notes_slide:
                slide_of[str(slide.notes_slide.part.partname).lstrip("/")] = number
            is_hidden = slide._element.get("show") in ("0", "false")
            is_empty = not any(_has_content(shape) for shape in slide.shapes)
            hidden += is_hidden
            empty += is_empty and not is_hidden
            title = slide.shapes.title
            titled = title is not None and bool(title.text_frame.text.strip())
            layout = slide.slide_layout.name
            flags += [DeckFlag(kind, number, reason) for kind, reason, when in (
                ("hidden", "hidden slide (not billed)", is_hidden),
                ("empty", "no text, picture, table or chart (not billed)",
                 is_empty and not is_hidden),
                ("layout", f"layout {layout!r} is not in the house template",
                 layout not in house_layouts),
                ("no-title", "no title" if title is None else "the title is blank",
                 not (is_hidden or is_empty or titled)),
            ) if when]
    except Exception as exc:  # python-pptx raises KeyError, ValueError, lxml and its own errors
        raise _refuse("corrupt", f"python-pptx cannot read the deck ({type(exc).__name__}:"
                      f" {_clip(exc, 80)})", RESAVE) from exc
    for rel in rels:
        if rel.external:  # only hyperlinks are left
            kind, reason = "external-hyperlink", f"links to {_clip(rel.target, 80)} (clickable)"
        elif rel.source.startswith("ppt/charts/"):  # a chart's data: every chart has one
            continue
        elif rel.type.endswith(("/oleObject", "/package")) or "/embeddings/" in rel.target:
            kind, reason = "embedded-object", f"embeds {rel.target}: check it before it goes out"
        else:
            continue
        number = slide_of.get(rel.source)
        flags.append(DeckFlag(kind, number, reason if number else f"{rel.source}: {reason}"))
    if not slides:
        flags.append(DeckFlag("no-slides", None, "the deck has no slides"))
    ordered = sorted(dict.fromkeys(flags), key=lambda f: -1 if f.slide is None else f.slide)
    return DeckReport(path.name, len(slides), len(slides) - hidden - empty, hidden, empty,
                      tuple(ordered))


def _has_content(shape: Any) -> bool:
    """Text, a picture, a chart or a table with text; empty placeholders and bare shapes are not."""
    from pptx.shapes.graphfrm import GraphicFrame
    from pptx.shapes.group import GroupShape
    from pptx.shapes.picture import Movie, Picture

    if isinstance(shape, GroupShape):
        return any(_has_content(child) for child in shape.shapes)
    if isinstance(shape, Picture | Movie):
        return True
    if isinstance(shape, GraphicFrame):  # a chart, SmartArt, an OLE object or a table
        return not shape.has_table or any(cell.text.strip() for row in shape.table.rows
                                          for cell in row.cells)
    return bool(shape.has_text_frame and shape.text_frame.text.strip())
