"""check_deck on real decks built with python-pptx at test time, and on the ways a returned file
can be unsafe or not a deck at all (each built from a real deck, never a committed binary)."""

from __future__ import annotations

import datetime as dt
import io
import json
import posixpath
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.util import Inches

from deck_builder.deck_check import DeckFlag, DeckReport, check_deck
from deck_builder.errors import DeckRefusedError
from deck_builder.house import HOUSE_TEMPLATE
from deck_builder.starter_deck import (
    QuoteRef,
    RosterRow,
    StarterDeckSpec,
    Theme,
    build_starter_deck,
)
from tests.conftest import require_service

PPTX_MAIN = b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
TITLE_AND_CONTENT, TITLE_ONLY, BLANK = 1, 5, 6


def png() -> bytes:
    """A 1x1 PNG, made here rather than committed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def findings(prs, count: int, layout: int = TITLE_AND_CONTENT) -> None:
    for i in range(count):
        slide = prs.slides.add_slide(prs.slide_layouts[layout])
        slide.shapes.title.text = f"Finding {i + 1}"
        slide.placeholders[1].text = "Executives agree on the main point"


def good_deck(tmp_path: Path, name: str = "deck.pptx", count: int = 5,
              hidden: tuple[int, ...] = ()) -> Path:
    prs = Presentation()
    findings(prs, count)
    for index in hidden:
        prs.slides[index]._element.set("show", "0")
    path = tmp_path / name
    prs.save(path)
    return path


def rewrite(src: Path, dst: Path, edit: Callable[[str, bytes], bytes] = lambda n, d: d,
            extra: dict[str, bytes] | None = None,
            compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Copy a deck member by member through ``edit``, adding ``extra`` members."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", compression) as new:
        for info in old.infolist():
            new.writestr(info.filename, edit(info.filename, old.read(info.filename)))
        for name, data in (extra or {}).items():
            new.writestr(name, data)
    return dst


def refused(path: Path, **limits: int) -> DeckRefusedError:
    with pytest.raises(DeckRefusedError) as caught:
        check_deck(path, **limits)
    error = caught.value
    assert error.reason and "\n" not in error.reason and error.fix
    return error


def kinds(report: DeckReport, slide: int | None) -> list[str]:
    return [flag.kind for flag in report.flags if flag.slide == slide]


# --- counting -----------------------------------------------------------------------------------

def test_good_deck_with_a_hidden_slide_bills_the_visible_ones(tmp_path):
    report = check_deck(good_deck(tmp_path, hidden=(4,)))
    assert (report.file, report.slides, report.billable_slides) == ("deck.pptx", 5, 4)
    assert (report.hidden_slides, report.empty_slides) == (1, 0)
    assert kinds(report, 5) == ["hidden", "layout"]
    assert kinds(report, 1) == ["layout"]  # the default template is not the house template


def test_slide_with_only_empty_placeholders_is_empty_and_not_billed(tmp_path):
    prs = Presentation()
    findings(prs, 2)
    prs.slides.add_slide(prs.slide_layouts[TITLE_AND_CONTENT])
    hidden_empty = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    hidden_empty._element.set("show", "0")
    prs.save(tmp_path / "d.pptx")
    report = check_deck(tmp_path / "d.pptx")
    assert (report.slides, report.billable_slides) == (4, 2)
    assert (report.hidden_slides, report.empty_slides) == (1, 1)  # hidden and empty: once
    assert "empty" in kinds(report, 3) and "no-title" not in kinds(report, 3)
    assert "hidden" in kinds(report, 4) and "empty" not in kinds(report, 4)


def test_picture_only_chart_only_and_table_slides_are_billable(tmp_path):
    prs = Presentation()
    data = CategoryChartData()
    data.categories, _ = ["2023", "2024"], data.add_series("Revenue", (1.0, 2.0))
    prs.slides.add_slide(prs.slide_layouts[BLANK]).shapes.add_chart(
        XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(6), Inches(4), data)
    prs.slides.add_slide(prs.slide_layouts[BLANK]).shapes.add_picture(
        io.BytesIO(png()), Inches(1), Inches(1))
    table = prs.slides.add_slide(prs.slide_layouts[BLANK]).shapes.add_table(
        2, 2, Inches(1), Inches(1), Inches(4), Inches(2)).table
    table.cell(1, 1).text = "42%"
    prs.slides.add_slide(prs.slide_layouts[BLANK]).shapes.add_table(
        2, 2, Inches(1), Inches(1), Inches(4), Inches(2))
    prs.save(tmp_path / "d.pptx")
    report = check_deck(tmp_path / "d.pptx")
    assert (report.billable_slides, report.empty_slides) == (3, 1)
    assert kinds(report, 1) == kinds(report, 2) == ["layout", "no-title"]  # chart data: no flag
    assert kinds(report, None) == [] and "empty" in kinds(report, 4)


def test_layouts_outside_the_house_template_are_flagged_by_name(tmp_path):
    report = check_deck(good_deck(tmp_path, count=1))
    [flag] = [f for f in report.flags if f.kind == "layout"]
    assert flag == DeckFlag("layout", 1, "layout 'Title and Content' is not in the house template")


def test_deck_from_house_layouts_has_no_flags(tmp_path):
    if HOUSE_TEMPLATE.is_file():
        prs = Presentation(str(HOUSE_TEMPLATE))
        layout = next(i for i, lay in enumerate(prs.slide_layouts) if lay.name == "Finding")
    else:  # the template is another issue's; rename a default layout to stand in for it
        prs, layout = Presentation(), TITLE_AND_CONTENT
        prs.slide_layouts[layout]._element.cSld.set("name", "Finding")
    for _ in range(len(prs.slides)):
        prs.slides._sldIdLst.remove(prs.slides._sldIdLst[0])
    findings(prs, 3, layout)
    prs.save(tmp_path / "house.pptx")
    report = check_deck(tmp_path / "house.pptx")
    assert (report.billable_slides, report.flags) == (3, ())


def test_slide_without_a_title_or_with_a_blank_one_is_flagged(tmp_path):
    prs = Presentation()
    no_title = prs.slides.add_slide(prs.slide_layouts[BLANK])
    no_title.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1)).text = "Body only"
    blank_title = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    blank_title.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1)).text = "Body"
    findings(prs, 1)
    prs.save(tmp_path / "d.pptx")
    report = check_deck(tmp_path / "d.pptx")
    assert report.billable_slides == 3
    titles = {f.slide: f.reason for f in report.flags if f.kind == "no-title"}
    assert titles == {1: "no title", 2: "the title is blank"}


def test_deck_without_slides_is_reported_not_refused(tmp_path):
    Presentation().save(tmp_path / "none.pptx")
    report = check_deck(tmp_path / "none.pptx")
    assert (report.slides, report.billable_slides) == (0, 0)
    assert report.flags == (DeckFlag("no-slides", None, "the deck has no slides"),)


def add_hyperlink(slide) -> None:
    slide.placeholders[1].text_frame.paragraphs[0].runs[0].hyperlink.address = (
        "https://example.com/tracker")


def add_workbook(slide) -> None:
    slide.shapes.add_ole_object(io.BytesIO(b"not really a workbook"), "Excel.Sheet.12",
                                Inches(1), Inches(2))


@pytest.mark.parametrize(("add", "kind", "mentions"), [
    (add_hyperlink, "external-hyperlink", "https://example.com/tracker"),
    (add_workbook, "embedded-object", "ppt/embeddings/"),
])
def test_hyperlinks_and_embedded_files_are_flagged_not_refused(tmp_path, add, kind, mentions):
    prs = Presentation()
    findings(prs, 2)
    add(prs.slides[1])
    prs.save(tmp_path / "d.pptx")
    report = check_deck(tmp_path / "d.pptx")
    [flag] = [f for f in report.flags if f.kind == kind]
    assert flag.slide == 2 and mentions in flag.reason
    assert report.billable_slides == 2


def test_to_dict_has_exactly_the_documented_keys_and_is_json(tmp_path):
    data = check_deck(good_deck(tmp_path, hidden=(0,))).to_dict()
    assert set(data) == {"file", "slides", "billable_slides", "hidden_slides", "empty_slides",
                         "flags"}
    assert all(set(flag) == {"kind", "slide", "reason"} for flag in data["flags"])
    assert json.loads(json.dumps(data)) == data
    assert data["flags"][0] == {"kind": "hidden", "slide": 1, "reason": "hidden slide (not billed)"}


# --- refusals -----------------------------------------------------------------------------------

def macro_edit(name: str, data: bytes) -> bytes:
    """What the acceptance check does to make a macro-enabled deck."""
    if name == "[Content_Types].xml":
        data = data.replace(PPTX_MAIN, b"application/vnd.ms-powerpoint.presentation.macroEnabled"
                            b".main+xml")
        data = data.replace(b"</Types>", b'<Default Extension="bin" ContentType='
                            b'"application/vnd.ms-office.vbaProject"/></Types>')
    if name == "ppt/_rels/presentation.xml.rels":
        data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas'
                            b'.microsoft.com/office/2006/relationships/vbaProject" Target='
                            b'"vbaProject.bin"/></Relationships>')
    return data


VBA = {"ppt/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024}


@pytest.mark.parametrize("name", ["macro.pptm", "macro.pptx"])
def test_macro_enabled_deck_is_refused_under_either_name(tmp_path, name):
    error = refused(rewrite(good_deck(tmp_path), tmp_path / name, macro_edit, VBA))
    assert error.kind == "macro" and "ppt/vbaProject.bin" in error.reason
    assert "Save As" in error.fix and error.path == str(tmp_path / name)


@pytest.mark.parametrize(("edit", "extra", "evidence"), [
    (lambda n, d: d, VBA, "vbaProject.bin"),
    (lambda n, d: macro_edit(n, d) if n.startswith("[") else d, {}, "macroEnabled"),
    (lambda n, d: macro_edit(n, d) if n.startswith("ppt/") else d, {},
     "vbaProject relationship"),
    (lambda n, d: d, {"ppt/activeX/activeX1.xml": b"<ax/>"}, "ppt/activeX/activeX1.xml"),
])
def test_any_one_sign_of_macros_is_enough(tmp_path, edit, extra, evidence):
    error = refused(rewrite(good_deck(tmp_path), tmp_path / "m.pptx", edit, extra))
    assert error.kind == "macro" and evidence in error.reason


def test_word_document_renamed_pptx_is_refused(tmp_path):
    import docx

    docx.Document().save(tmp_path / "brief.pptx")
    error = refused(tmp_path / "brief.pptx")
    assert error.kind == "not-pptx" and "wrong content type" in error.reason
    assert "word/document.xml" in error.reason and "Word document" in error.reason


def test_template_renamed_pptx_is_refused(tmp_path):
    def as_template(name: str, data: bytes) -> bytes:
        return data.replace(PPTX_MAIN, PPTX_MAIN.replace(b"presentation.main", b"template.main"))

    error = refused(rewrite(good_deck(tmp_path), tmp_path / "t.pptx", as_template))
    assert error.kind == "not-pptx" and "ppt/presentation.xml" in error.reason


@pytest.mark.parametrize(("data", "says"), [
    (b"Here is the deck you asked for\n", "not a zip"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not a zip"),
])
def test_file_that_is_not_a_zip_is_refused(tmp_path, data, says):
    (tmp_path / "notes.pptx").write_bytes(data)
    error = refused(tmp_path / "notes.pptx")
    assert error.kind == "not-pptx" and says in error.reason


def test_zip_without_content_types_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.pptx", "w") as z:
        z.writestr("slides.txt", "one, two")
    error = refused(tmp_path / "z.pptx")
    assert error.kind == "not-pptx" and "[Content_Types].xml" in error.reason


@pytest.mark.parametrize(("part", "declaration", "encoding"), [
    ("ppt/presentation.xml", '<!DOCTYPE p [<!ENTITY a "aaaaaaaa">]>', "utf-8"),
    ("ppt/presentation.xml", '<!entity lol "lol">', "utf-8"),
    ("ppt/presentation.xml", '<!DOCTYPE p SYSTEM "http://evil.example/x.dtd">', "utf-16"),
    ("[Content_Types].xml", '<!DOCTYPE Types SYSTEM "file:///etc/passwd">', "utf-8"),
    ("ppt/slides/_rels/slide1.xml.rels", '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///">]>',
     "utf-8"),
])
def test_doctype_or_entity_in_any_xml_part_is_refused(tmp_path, part, declaration, encoding):
    def inject(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        text = data.decode()
        end = text.index("?>") + 2
        text = text[:end].replace("UTF-8", encoding.upper()) + declaration + text[end:]
        return text.encode(encoding)  # utf-16 writes a byte-order mark

    error = refused(rewrite(good_deck(tmp_path), tmp_path / "x.pptx", inject))
    assert error.kind == "dtd" and part in error.reason


def test_xml_part_in_an_encoding_office_never_writes_is_refused(tmp_path):
    def utf7(name: str, data: bytes) -> bytes:
        return data.replace(b"UTF-8", b"UTF-7") if name == "ppt/presentation.xml" else data

    error = refused(rewrite(good_deck(tmp_path), tmp_path / "x.pptx", utf7))
    assert error.kind == "not-pptx" and "ppt/presentation.xml" in error.reason


def test_highly_compressed_member_is_a_zip_bomb(tmp_path):
    deck = rewrite(good_deck(tmp_path), tmp_path / "b.pptx",
                   extra={"ppt/media/zeros.bin": bytes(50 * 1024 * 1024)})
    error = refused(deck)
    assert error.kind == "zip-bomb" and "ppt/media/zeros.bin" in error.reason


def test_too_much_declared_data_is_a_zip_bomb(tmp_path):
    deck = rewrite(good_deck(tmp_path), tmp_path / "b.pptx", compression=zipfile.ZIP_STORED,
                   extra={"ppt/media/big.bin": bytes(300_000)})
    error = refused(deck, max_uncompressed=200_000)
    assert error.kind == "zip-bomb" and "195.3 KB" in error.reason


def lie_about_size(path: Path, member: str, size: int) -> None:
    """Patch the member's uncompressed size in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
        start = z.start_dir
    struct.pack_into("<I", data, info.header_offset + 22, size)
    pos = start
    while data[pos:pos + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + name_len] == member.encode():
            struct.pack_into("<I", data, pos + 24, size)
        pos += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))


def test_member_that_inflates_past_its_declared_size_is_a_zip_bomb(tmp_path):
    deck = rewrite(good_deck(tmp_path), tmp_path / "b.pptx",
                   extra={"ppt/media/liar.bin": bytes(2 * 1024 * 1024)})
    lie_about_size(deck, "ppt/media/liar.bin", 1000)
    with zipfile.ZipFile(deck) as z:  # the headers now pass every declared-size check
        assert z.getinfo("ppt/media/liar.bin").file_size == 1000
    error = refused(deck, max_uncompressed=1024 * 1024)
    assert error.kind == "zip-bomb" and "ppt/media/liar.bin" in error.reason
    assert "declares" in error.reason


def test_too_many_members_is_a_zip_bomb(tmp_path):
    extra = {f"ppt/media/m{i}.txt": b"" for i in range(10_001)}
    error = refused(rewrite(good_deck(tmp_path, count=1), tmp_path / "b.pptx", extra=extra))
    assert error.kind == "zip-bomb" and "members" in error.reason


def test_file_over_the_size_limit_is_refused_before_it_is_opened(tmp_path):
    error = refused(good_deck(tmp_path), max_bytes=10_000)
    assert error.kind == "oversize" and "9.8 KB limit" in error.reason


def test_external_image_is_refused(tmp_path):
    prs = Presentation()
    findings(prs, 2)
    prs.slides[1].part.relate_to("http://evil.example/pixel.png", RT.IMAGE, is_external=True)
    prs.save(tmp_path / "d.pptx")
    error = refused(tmp_path / "d.pptx")
    assert error.kind == "external-link" and "ppt/slides/slide2.xml" in error.reason
    assert "image" in error.reason and "http://evil.example/pixel.png" in error.reason


def test_ole_compound_file_is_refused_as_encrypted(tmp_path):
    (tmp_path / "locked.pptx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    error = refused(tmp_path / "locked.pptx")
    assert error.kind == "encrypted" and "password" in error.reason and "password" in error.fix


@pytest.mark.parametrize("member", ["../evil", "ppt/../../evil.sh", "/etc/cron.d/evil",
                                    "C:/evil.bat", "..\\evil"])
def test_member_escaping_the_folder_is_refused(tmp_path, member):
    deck = rewrite(good_deck(tmp_path), tmp_path / "p.pptx", extra={member: b"x"})
    error = refused(deck)
    assert error.kind == "unsafe-path" and member in error.reason


def test_duplicate_member_names_are_refused(tmp_path):
    deck = rewrite(good_deck(tmp_path), tmp_path / "p.pptx",
                   extra={"PPT/presentation.xml": b"<other/>"})
    assert refused(deck).kind == "unsafe-path"


def test_truncated_zip_is_corrupt(tmp_path):
    data = good_deck(tmp_path).read_bytes()
    (tmp_path / "cut.pptx").write_bytes(data[: len(data) // 2])
    assert refused(tmp_path / "cut.pptx").kind == "corrupt"


def test_member_failing_its_crc_is_corrupt(tmp_path):
    deck = rewrite(good_deck(tmp_path), tmp_path / "crc.pptx", compression=zipfile.ZIP_STORED)
    data = bytearray(deck.read_bytes())
    with zipfile.ZipFile(deck) as z:
        info = z.getinfo("ppt/presentation.xml")
    at = data.index(b"<p:presentation", info.header_offset)
    data[at + 1] = ord("P")
    deck.write_bytes(bytes(data))
    error = refused(deck)
    assert error.kind == "corrupt" and "ppt/presentation.xml" in error.reason


def test_deck_python_pptx_cannot_read_is_corrupt(tmp_path):
    def break_it(name: str, data: bytes) -> bytes:
        return b"<p:presentation" if name == "ppt/presentation.xml" else data

    error = refused(rewrite(good_deck(tmp_path), tmp_path / "bad.pptx", break_it))
    assert error.kind == "corrupt" and "python-pptx" in error.reason


def test_large_honest_members_stream_through_every_check(tmp_path):
    noise = bytes((i * 7919 + i // 3) % 251 for i in range(3 * 1024 * 1024))
    deck = rewrite(good_deck(tmp_path), tmp_path / "big.pptx",
                   extra={"ppt/media/zeros.bin": bytes(8 * 1024 * 1024),
                          "ppt/media/noise.bin": noise})
    report = check_deck(deck, max_ratio=10_000)  # zeros compress about 1000:1
    assert report.billable_slides == 5


# --- decks as PowerPoint and LibreOffice save them ---------------------------------------------

def test_deck_saved_by_libreoffice_is_accepted(tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        require_service("LibreOffice", "soffice is not on PATH (apt-get install "
                        "libreoffice-impress-nogui)")
    spec = StarterDeckSpec(
        title="Findings", subtitle="Job J-1", job_id="J-1", date=dt.date(2026, 1, 5),
        roster=(RosterRow("Executive A", "CFO", "Sponsor", "[redacted]"),),
        themes=(Theme("Growth", (QuoteRef("We grow with our customers.", "Executive A",
                                          "Interview 1, 04:10"),)),))
    deck = build_starter_deck(spec, tmp_path / "starter.pptx")
    profile = (tmp_path / "lo-profile").as_uri()  # a profile of its own: soffice runs may overlap
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                    "pptx", "--outdir", str(tmp_path / "saved"), str(deck)],
                   check=True, capture_output=True, timeout=180, stdin=subprocess.DEVNULL)
    saved = tmp_path / "saved" / "starter.pptx"
    with zipfile.ZipFile(saved) as z:
        assert "docProps/custom.xml" in z.namelist()  # really LibreOffice's writing, not ours
    report = check_deck(saved)
    slides = len(Presentation(str(deck)).slides)
    assert (report.slides, report.billable_slides, report.hidden_slides) == (slides, slides, 0)
    assert {flag.kind for flag in report.flags} <= {"layout"}  # LibreOffice renames layouts


POWERPOINT_PARTS = {  # what PowerPoint adds beside the slides, each with its relationship
    "docProps/custom.xml": (
        "", "officeDocument/2006/relationships/custom-properties",
        "application/vnd.openxmlformats-officedocument.custom-properties+xml",
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-'
        b'properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docProps'
        b'VTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Conte'
        b'ntTypeId"><vt:lpwstr>0x0101</vt:lpwstr></property></Properties>'),
    "customXml/item1.xml": (
        "ppt/presentation.xml", "officeDocument/2006/relationships/customXml", "",
        b'<b:Sources xmlns:b="http://schemas.openxmlformats.org/officeDocument/2006/bibliograph'
        b'y" SelectedStyle="/APA.XSL" StyleName="APA"/>'),
    "ppt/fonts/font1.fntdata": (
        "ppt/presentation.xml", "officeDocument/2006/relationships/font", "application/x-fontdata",
        bytes((i * 37) % 251 for i in range(8000))),
    "ppt/commentAuthors.xml": (
        "ppt/presentation.xml", "officeDocument/2006/relationships/commentAuthors",
        "application/vnd.openxmlformats-officedocument.presentationml.commentAuthors+xml",
        b'<p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        b'<p:cmAuthor id="1" name="Reviewer" initials="R" lastIdx="1" clrIdx="0"/>'
        b'</p:cmAuthorLst>'),
    "ppt/comments/comment1.xml": (
        "ppt/slides/slide1.xml", "officeDocument/2006/relationships/comments",
        "application/vnd.openxmlformats-officedocument.presentationml.comments+xml",
        b'<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cm '
        b'authorId="1" dt="2026-01-01T00:00:00.000" idx="1"><p:pos x="10" y="10"/><p:text>Check'
        b' this</p:text></p:cm></p:cmLst>'),
    "ppt/media/media1.mp4": (
        "ppt/slides/slide1.xml", "officeDocument/2006/relationships/video", "video/mp4",
        bytes((i * 91) % 253 for i in range(8000))),
    "ppt/tags/tag1.xml": (
        "ppt/presentation.xml", "officeDocument/2006/relationships/tags",
        "application/vnd.openxmlformats-officedocument.presentationml.tags+xml",
        b'<p:tagLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        b'<p:tag name="ID" val="1"/></p:tagLst>'),
}


def test_deck_with_what_powerpoint_adds_is_accepted(tmp_path):
    """Thumbnail and printer settings (python-pptx's default template has both), custom
    properties, custom XML, embedded fonts, comments, media, tags, and a master that links to
    the intranet: all normal in a deck saved by PowerPoint."""
    schemas = "http://schemas.openxmlformats.org/"

    def rels_of(source: str) -> str:  # the .rels part of a part ("" is the package)
        folder, base = posixpath.split(source)
        return posixpath.join(folder, "_rels", base + ".rels")

    def relative(source: str, part: str) -> str:
        return posixpath.relpath(part, posixpath.dirname(source)) if source else part

    def add_parts(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            types = "".join(f'<Override PartName="/{part}" ContentType="{ctype}"/>'
                            for part, (_, _, ctype, _) in POWERPOINT_PARTS.items() if ctype)
            return data.replace(b"</Types>", types.encode() + b"</Types>")
        added = "".join(
            f'<Relationship Id="rIdPp{i}" Type="{schemas}{rtype}" '
            f'Target="{relative(source, part)}"/>'
            for i, (part, (source, rtype, _, _)) in enumerate(POWERPOINT_PARTS.items())
            if rels_of(source) == name)
        if name == "ppt/slideMasters/_rels/slideMaster1.xml.rels":
            added += (f'<Relationship Id="rIdPpLink" Type="{schemas}officeDocument/2006/'
                      'relationships/hyperlink" Target="https://intranet.example.com/brand" '
                      'TargetMode="External"/>')
        return data.replace(b"</Relationships>", added.encode() + b"</Relationships>")

    src = good_deck(tmp_path, count=2)
    with zipfile.ZipFile(src) as z:
        assert {"docProps/thumbnail.jpeg", "ppt/printerSettings/printerSettings1.bin"} <= set(
            z.namelist())
    deck = rewrite(src, tmp_path / "saved.pptx", add_parts,
                   {part: data for part, (*_, data) in POWERPOINT_PARTS.items()})
    report = check_deck(deck)
    assert (report.slides, report.billable_slides) == (2, 2)
    assert [f.kind for f in report.flags if f.kind != "layout"] == ["external-hyperlink"]
