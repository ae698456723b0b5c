"""Write the house template, ``deck_builder/templates/house.pptx``.

Run ``python -m deck_builder.templates.make_house_template`` after changing this file and commit
the result. The template is python-pptx's default package reshaped: a 16:9 slide, a navy/amber
theme in DejaVu Sans (the only font the preview machines have), one master with a thin accent
bar and a confidentiality footer, and exactly the layouts of ``house.LAYOUT_NAMES``, in order.
Layouts are written as XML because python-pptx can fill placeholders but not define them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import CONTENT_TYPE as CT
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.util import Emu, Inches

from deck_builder.house import HOUSE_TEMPLATE, LAYOUT_NAMES

WIDTH = 13.333  # inches; 16:9 is 13.333 x 7.5
MARGIN = 0.6
NAVY, AMBER, SLATE, MIST, LIGHT = "1F2A44", "E07A1F", "5B6577", "8C96A8", "E9EDF3"
FONT = "DejaVu Sans"
FOOTER = "Confidential \u2013 prepared for the deck maker"
FIXED_TIME = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NS = nsdecls("a", "p", "r")

Box = tuple[float, float, float, float]  # left, top, width, height in inches
TITLE_BOX: Box = (MARGIN, 0.35, WIDTH - 2 * MARGIN, 1.15)
BODY_BOX: Box = (MARGIN, 1.7, WIDTH - 2 * MARGIN, 4.9)


def _xfrm(box: Box) -> str:
    x, y, cx, cy = (Inches(v) for v in box)
    return f'<a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'


def _fill(color: str) -> str:
    """A scheme colour (tx1, bg1, accent1, ...) or an RGB hex value."""
    tag = "srgbClr" if re.fullmatch("[0-9A-F]{6}", color) else "schemeClr"
    return f'<a:solidFill><a:{tag} val="{color}"/></a:solidFill>'


def placeholder(sid: int, name: str, ph: str, box: Box | None, prompt: str, *,
                size: int | None = None, bold: bool = False, italic: bool = False,
                color: str | None = None, anchor: str = "", bullets: bool = True) -> str:
    """One ``p:sp`` placeholder; ``ph`` holds the attributes of ``p:ph`` (type, idx)."""
    plain = ("", "") if bullets else (' marL="0" indent="0"', "<a:buNone/>")
    font = (f' sz="{size * 100}"' if size else "") + (' b="1"' if bold else "")
    font += ' i="1"' if italic else ""
    lvl1 = (f'<a:lvl1pPr{plain[0]} algn="l">{plain[1]}<a:defRPr{font}>'
            f"{_fill(color) if color else ''}</a:defRPr></a:lvl1pPr>")
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="{sid}" name="{name}"/><p:cNvSpPr>'
            f'<a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph {ph}/></p:nvPr></p:nvSpPr>'
            f'<p:spPr>{_xfrm(box) if box else ""}</p:spPr>'
            f'<p:txBody><a:bodyPr{f" anchor={anchor!r}" if anchor else ""}><a:normAutofit/>'
            f"</a:bodyPr>"
            f'<a:lstStyle>{lvl1}</a:lstStyle><a:p><a:r><a:rPr lang="en-GB"/>'
            f"<a:t>{prompt}</a:t></a:r></a:p></p:txBody></p:sp>")


def rectangle(sid: int, name: str, box: Box, color: str) -> str:
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="{sid}" name="{name}"/><p:cNvSpPr/><p:nvPr/>'
            f'</p:nvSpPr><p:spPr>{_xfrm(box)}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
            f"{_fill(color)}<a:ln><a:noFill/></a:ln></p:spPr></p:sp>")


def text_box(sid: int, name: str, box: Box, text: str, size: int, color: str) -> str:
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="{sid}" name="{name}"/><p:cNvSpPr txBox="1"/>'
            f'<p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr>{_xfrm(box)}'
            f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/></p:spPr>'
            f'<p:txBody><a:bodyPr wrap="none" anchor="ctr"/><a:lstStyle/><a:p><a:r>'
            f'<a:rPr lang="en-GB" sz="{size * 100}">{_fill(color)}</a:rPr><a:t>{text}</a:t>'
            f"</a:r></a:p></p:txBody></p:sp>")


def _tree(shapes: list[str]) -> str:
    return ('<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/>'
            f"</p:nvGrpSpPr><p:grpSpPr/>{''.join(shapes)}</p:spTree>")


TITLE = 'type="title"'
DARK_BG = f"<p:bg><p:bgPr>{_fill('tx1')}<a:effectLst/></p:bgPr></p:bg>"
HERO_TITLE: Box = (0.9, 1.9, WIDTH - 1.8, 1.9)
HERO_BAR: Box = (0.9, 3.95, 1.4, 0.08)
HERO_TEXT: Box = (0.9, 4.25, WIDTH - 1.8, 1.4)
# name -> (dark background?, layout type, placeholder and decoration shapes)
LAYOUTS: dict[str, tuple[bool, str, list[str]]] = {
    "Title": (True, "title", [
        placeholder(2, "Title", 'type="ctrTitle"', HERO_TITLE, "Deck title", size=40,
                    bold=True, color="bg1", anchor="b"),
        rectangle(3, "Accent", HERO_BAR, "accent1"),
        placeholder(4, "Subtitle", 'type="subTitle" idx="1"', HERO_TEXT, "Subtitle and date",
                    size=20, color="bg2", bullets=False)]),
    "Agenda": (False, "obj", [
        placeholder(2, "Title", TITLE, None, "Agenda"),
        placeholder(3, "Agenda items", 'type="body" idx="1"', BODY_BOX, "Agenda item",
                    size=22)]),
    "Section": (True, "secHead", [
        placeholder(2, "Section title", TITLE, HERO_TITLE, "Section title", size=36,
                    color="bg1", anchor="b"),
        rectangle(3, "Accent", HERO_BAR, "accent1"),
        placeholder(4, "Description", 'type="body" idx="1"', HERO_TEXT, "Short description",
                    size=18, color="bg2", bullets=False)]),
    "Finding": (False, "obj", [
        placeholder(2, "Title", TITLE, None, "One-sentence finding"),
        placeholder(3, "Supporting points", 'type="body" idx="1"', (MARGIN, 1.7, 12.133, 4.45),
                    "Supporting points"),
        placeholder(4, "Source", 'type="body" sz="quarter" idx="2"', (MARGIN, 6.3, 12.133, 0.4),
                    "Source", size=10, color=SLATE, bullets=False, anchor="b")]),
    "Quote": (False, "cust", [
        placeholder(2, "Title", TITLE, None, "Theme: in their words"),
        rectangle(3, "Quote rule", (1.2, 2.0, 0.08, 3.2), "accent1"),
        placeholder(4, "Quote", 'type="body" idx="1"', (1.5, 1.9, 10.6, 3.4), "Quote",
                    size=26, italic=True, bullets=False, anchor="ctr"),
        placeholder(5, "Attribution", 'type="body" sz="quarter" idx="2"', (1.5, 5.5, 10.6, 0.6),
                    "Who, where", size=16, color="accent1", bullets=False)]),
    "Roster": (False, "titleOnly", [
        placeholder(2, "Title", TITLE, None, "Who we spoke to"),
        placeholder(3, "Roster table", 'type="tbl" sz="quarter" idx="1"',
                    (MARGIN, 1.7, 12.133, 4.9), "Table")]),
    "Closing": (False, "obj", [
        placeholder(2, "Title", TITLE, None, "Next steps"),
        placeholder(3, "Next steps", 'type="body" idx="1"', BODY_BOX, "Next step")]),
}


def layout_xml(name: str) -> str:
    dark, kind, shapes = LAYOUTS[name]
    return (f'<p:sldLayout {NS} type="{kind}" preserve="1"><p:cSld name="{name}">'
            f"{DARK_BG if dark else ''}{_tree(shapes)}</p:cSld>"
            "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>")


def _level(lvl: int, size: int, *, bullet: bool = True, space: int = 10) -> str:
    mar = 342900 * lvl if bullet else 0
    bu = ('<a:buClr><a:schemeClr val="accent1"/></a:buClr><a:buFontTx/><a:buChar char="\u2022"/>'
          if bullet else "<a:buNone/>")
    return (f'<a:lvl{lvl}pPr marL="{mar}" indent="{-342900 if bullet else 0}" algn="l">'
            f'<a:lnSpc><a:spcPct val="100000"/></a:lnSpc><a:spcBef><a:spcPts val="{space * 100}"/>'
            f'</a:spcBef>{bu}<a:defRPr sz="{size * 100}" kern="1200">{_fill("tx1")}'
            '<a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/>'
            f"</a:defRPr></a:lvl{lvl}pPr>")


MASTER_CSLD = (
    f'<p:cSld {NS}><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>'
    + _tree([
        placeholder(2, "Title", TITLE, TITLE_BOX, "Title", anchor="b"),
        placeholder(3, "Text", 'type="body" idx="1"', BODY_BOX, "Text"),
        rectangle(4, "Accent bar", (0, 0, WIDTH, 0.08), "accent1"),
        text_box(5, "Footer", (MARGIN, 6.95, 6.0, 0.3), FOOTER, 9, MIST),
    ]) + "</p:cSld>")

MASTER_TXSTYLES = (
    f"<p:txStyles {NS}><p:titleStyle><a:lvl1pPr algn=\"l\"><a:lnSpc><a:spcPct val=\"95000\"/>"
    '</a:lnSpc><a:buNone/><a:defRPr sz="2600" b="1" kern="1200">' + _fill("tx1")
    + '<a:latin typeface="+mj-lt"/><a:ea typeface="+mj-ea"/><a:cs typeface="+mj-cs"/>'
    "</a:defRPr></a:lvl1pPr></p:titleStyle>"
    f"<p:bodyStyle>{_level(1, 20)}{_level(2, 18, space=4)}{_level(3, 16, space=4)}</p:bodyStyle>"
    f"<p:otherStyle>{_level(1, 14, bullet=False, space=0)}</p:otherStyle></p:txStyles>")

COLOURS = {"dk1": NAVY, "lt1": "FFFFFF", "dk2": SLATE, "lt2": LIGHT, "accent1": AMBER,
           "accent2": NAVY, "accent3": SLATE, "accent4": MIST, "accent5": "C9D1DD",
           "accent6": "3D4F73", "hlink": "2F5597", "folHlink": SLATE}


def house_theme(blob: bytes) -> bytes:
    """The default theme with the house colours and DejaVu Sans for headings and body."""
    theme = etree.fromstring(blob)
    theme.set("name", "outtask house")
    scheme = theme.find(".//" + qn("a:clrScheme"))
    scheme.set("name", "outtask house")
    for slot, rgb in COLOURS.items():
        colour = scheme.find(qn(f"a:{slot}"))
        colour.clear()
        etree.SubElement(colour, qn("a:srgbClr"), val=rgb)
    theme.find(".//" + qn("a:fontScheme")).set("name", "outtask house")
    for latin in theme.iterfind(".//" + qn("a:fontScheme") + "//" + qn("a:latin")):
        latin.set("typeface", FONT)
    return etree.tostring(theme, xml_declaration=True, encoding="UTF-8", standalone=True)


APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/extended-properties"><Application>outtask'
    b"</Application><PresentationFormat>Custom</PresentationFormat><Slides>0</Slides></Properties>"
)


def build() -> bytes:
    """The house template as the bytes of a .pptx file (the same bytes on every run)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(12192000), Emu(6858000)  # exactly 16:9
    for surplus in list(prs.slide_layouts)[len(LAYOUT_NAMES):]:
        prs.slide_layouts.remove(surplus)  # drops the master's rel, so the part is not saved
    for name, slide_layout in zip(LAYOUT_NAMES, prs.slide_layouts, strict=True):
        slide_layout.part._element = parse_xml(layout_xml(name))

    master = prs.slide_master.element
    master.replace(master.find(qn("p:cSld")), parse_xml(MASTER_CSLD))
    master.replace(master.find(qn("p:txStyles")), parse_xml(MASTER_TXSTYLES))

    package = prs.part.package
    for rel in list(package.iter_rels()):  # the default's picture of itself, its Mac printer
        if rel.reltype.endswith(("/thumbnail", "/printerSettings")):
            (package if rel.reltype.endswith("/thumbnail") else prs.part).drop_rel(rel.rId)
    for part in package.iter_parts():
        if part.content_type == CT.OFC_THEME:
            part._blob = house_theme(part.blob)
        elif part.partname == "/docProps/app.xml":
            part._blob = APP_XML

    core = prs.core_properties
    core.author, core.last_modified_by, core.title = "outtask", "outtask", "House template"
    core.comments = core.subject = core.keywords = core.category = ""
    core.revision, core.created, core.modified = 1, FIXED_TIME, FIXED_TIME

    raw = io.BytesIO()
    prs.save(raw)
    return _with_fixed_timestamps(raw.getvalue())


def _with_fixed_timestamps(pptx: bytes) -> bytes:
    """Re-zip with a fixed date on every member, so regenerating gives identical bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(pptx)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            dst.writestr(member, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main(out: Path = HOUSE_TEMPLATE) -> None:
    out.write_bytes(build())
    print(f"wrote {out} with layouts {', '.join(LAYOUT_NAMES)}")


if __name__ == "__main__":
    main()
