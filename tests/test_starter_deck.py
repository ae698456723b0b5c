"""The house template, the starter deck built from it, and its PNG preview (real LibreOffice)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from pptx import Presentation

from deck_builder.errors import PreviewUnavailableError, TemplateError
from deck_builder.house import HOUSE_TEMPLATE, LAYOUT_NAMES
from deck_builder.preview import preview_available, render_preview
from deck_builder.starter_deck import (
    QUOTES_PER_THEME,
    ROSTER_ROWS_PER_SLIDE,
    QuoteRef,
    RosterRow,
    StarterDeckSpec,
    Theme,
    build_starter_deck,
    findings_per_theme,
    quotes_per_theme,
)
from deck_builder.templates import make_house_template
from tests.conftest import require_service

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def require_preview_tools() -> None:
    """Skip without LibreOffice/pdftoppm, saying so; fail instead under
    OUTTASK_REQUIRE_SERVICES=1 (CI installs them, so a skip there would hide a broken setup)."""
    if not preview_available():
        require_service("LibreOffice", "soffice or pdftoppm is not on PATH (apt-get install "
                        "libreoffice-impress-nogui poppler-utils)")


def make_spec(*, roster_rows: int = 14, target_slides: int | None = None) -> StarterDeckSpec:
    roster = tuple(RosterRow(f"Executive {chr(65 + i)}", f"Chief Officer {i}", "Sponsor",
                             "Northwind Logistics") for i in range(roster_rows))
    themes = (
        Theme("Growth priorities", tuple(
            QuoteRef(f"Growth quote {i}: the next five years come from existing customers.",
                     f"Executive {chr(65 + i)}", f"Interview {i + 1}, 04:3{i}")
            for i in range(3))),
        Theme("Operating model", (QuoteRef("Every region runs its own playbook.", "Executive C",
                                           "Interview 3, 22:47"),)),
        Theme("Talent"),
    )
    return StarterDeckSpec(title="What the leadership team told us",
                           subtitle="Executive interviews", job_id="J-2041",
                           date=dt.date(2025, 3, 14), roster=roster, themes=themes,
                           target_slides=target_slides)


def titles(deck: Path) -> list[str]:
    return [slide.shapes.title.text_frame.text for slide in Presentation(str(deck)).slides]


def test_house_template_has_the_house_layouts_in_order_on_a_16_9_slide() -> None:
    prs = Presentation(str(HOUSE_TEMPLATE))
    assert tuple(each.name for each in prs.slide_layouts) == LAYOUT_NAMES
    assert prs.slide_width * 9 == prs.slide_height * 16
    assert len(prs.slides) == 0


def test_house_template_is_what_the_script_writes() -> None:
    """The committed binary is regenerated from the script, byte for byte."""
    assert make_house_template.build() == HOUSE_TEMPLATE.read_bytes()


def test_house_template_has_no_orphan_parts_or_tool_names() -> None:
    with zipfile.ZipFile(HOUSE_TEMPLATE) as package:
        names = package.namelist()
        text = b"".join(package.read(name) for name in names)
    assert sum(name.startswith("ppt/slideLayouts/slideLayout") for name in names) == 7
    assert not any("thumbnail" in name or "printerSettings" in name for name in names)
    assert b"python-pptx" not in text and b"DejaVu Sans" in text


@pytest.fixture(scope="module")
def starter_deck(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("starter") / "starter.pptx"
    return build_starter_deck(make_spec(target_slides=20), out)


def test_starter_deck_uses_only_house_layouts_and_every_slide_has_a_title(starter_deck) -> None:
    prs = Presentation(str(starter_deck))
    assert {slide.slide_layout.name for slide in prs.slides} <= set(LAYOUT_NAMES)
    assert all(title.strip() for title in titles(starter_deck))
    assert [slide.slide_layout.name for slide in prs.slides][:4] == [
        "Title", "Agenda", "Roster", "Roster"]
    assert prs.slides[-1].slide_layout.name == "Closing"


def test_every_slide_has_visible_text(starter_deck) -> None:
    """What a checker for empty slides sees: a shape with non-whitespace text on each slide."""
    for number, slide in enumerate(Presentation(str(starter_deck)).slides, start=1):
        texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        assert any(text.strip() for text in texts), f"slide {number} has no text"
        assert all(text.strip() for text in texts), f"slide {number} has an empty placeholder"


def test_roster_table_holds_every_row_across_slides(starter_deck) -> None:
    rows = []
    for slide in Presentation(str(starter_deck)).slides:
        if slide.slide_layout.name == "Roster":
            table = next(shape.table for shape in slide.shapes if shape.has_table)
            assert [cell.text for cell in table.rows[0].cells] == [
                "Executive", "Title", "Role", "Company"]
            assert len(table.rows) - 1 <= ROSTER_ROWS_PER_SLIDE
            rows += [[cell.text for cell in row.cells] for row in list(table.rows)[1:]]
    assert rows == [[f"Executive {chr(65 + i)}", f"Chief Officer {i}", "Sponsor",
                     "Northwind Logistics"] for i in range(14)]


def test_sections_findings_and_quotes_per_theme(starter_deck) -> None:
    prs = Presentation(str(starter_deck))
    quotes = [slide for slide in prs.slides if slide.slide_layout.name == "Quote"]
    assert len(quotes) == QUOTES_PER_THEME + 1  # 3 quotes capped at 2, then 1, then none
    body = quotes[0].placeholders[1].text_frame.text
    assert body.startswith("\u201cGrowth quote 0") and body.endswith("\u201d")
    assert quotes[0].placeholders[2].text_frame.text == "\u2014 Executive A, Interview 1, 04:30"
    sections = [slide.shapes.title.text_frame.text for slide in prs.slides
                if slide.slide_layout.name == "Section"]
    assert sections == ["Growth priorities", "Operating model", "Talent"]
    agenda = prs.slides[1].placeholders[1].text_frame.text.splitlines()
    assert agenda == ["Who we spoke to", "Growth priorities", "Operating model", "Talent"]
    finding = next(slide for slide in prs.slides if slide.slide_layout.name == "Finding")
    assert finding.shapes.title.text_frame.text == (
        "[Finding 1 for Growth priorities: one-sentence headline]")
    assert finding.placeholders[2].text_frame.text == "Source: interviews (see brief)"


def test_target_slides_is_met_when_feasible(tmp_path) -> None:
    # fixed: title, agenda, 2 roster, closing + 3 sections + 3 quote slides = 11
    for target in (14, 15, 20, 31):
        deck = build_starter_deck(make_spec(target_slides=target), tmp_path / f"{target}.pptx")
        assert len(Presentation(str(deck)).slides) == target
    assert findings_per_theme(make_spec(target_slides=15)) == [2, 1, 1]
    assert findings_per_theme(make_spec(target_slides=5)) == [1, 1, 1]  # infeasible: 1 each
    assert findings_per_theme(make_spec()) == [2, 2, 2]


def test_a_small_target_gives_up_quote_slides_before_it_is_exceeded(tmp_path) -> None:
    # least: title, agenda, 2 roster, closing + per theme a section and a finding = 11
    assert [quotes_per_theme(make_spec(target_slides=t)) for t in (14, 13, 12, 11, 5)] == [
        [2, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]]
    for target in (11, 12, 13):
        deck = build_starter_deck(make_spec(target_slides=target), tmp_path / f"{target}.pptx")
        assert len(Presentation(str(deck)).slides) == target
    small = build_starter_deck(make_spec(target_slides=5), tmp_path / "5.pptx")
    assert len(Presentation(str(small)).slides) == 11  # infeasible: exceeded, but by less


def test_core_properties_are_neutral(starter_deck) -> None:
    core = Presentation(str(starter_deck)).core_properties
    assert core.author == core.last_modified_by == "outtask"
    assert core.title == "What the leadership team told us"
    assert core.subject == "Job J-2041"
    assert core.keywords == core.comments == core.category == ""
    with zipfile.ZipFile(starter_deck) as package:
        assert not any(b"python-pptx" in package.read(name) for name in package.namelist())


def test_a_template_without_a_house_layout_is_refused(tmp_path) -> None:
    prs = Presentation(str(HOUSE_TEMPLATE))
    quote = next(each for each in prs.slide_layouts if each.name == "Quote")
    quote.element.cSld.set("name", "Pull quote")
    template = tmp_path / "other.pptx"
    prs.save(str(template))
    with pytest.raises(TemplateError) as refused:
        build_starter_deck(make_spec(), tmp_path / "out.pptx", template=template)
    assert "'Quote'" in refused.value.message and "make_house_template" in refused.value.fix
    assert refused.value.path == str(template)
    assert not (tmp_path / "out.pptx").exists()


def test_an_unreadable_template_is_a_template_error(tmp_path) -> None:
    broken = tmp_path / "broken.pptx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(TemplateError, match="cannot read"):
        build_starter_deck(make_spec(), tmp_path / "out.pptx", template=broken)


def test_preview_renders_one_png_per_slide(starter_deck, tmp_path) -> None:
    require_preview_tools()
    pngs = render_preview(starter_deck, tmp_path / "preview")
    assert len(pngs) == len(Presentation(str(starter_deck)).slides)
    assert [png.name for png in pngs] == [f"page-{n}.png" for n in range(1, len(pngs) + 1)]
    assert all(png.read_bytes()[:8] == PNG_SIGNATURE for png in pngs)
    first_two = render_preview(starter_deck, tmp_path / "preview", first=2, dpi=30)
    assert [png.name for png in first_two] == ["page-1.png", "page-2.png"]
    assert sorted(p.name for p in (tmp_path / "preview").iterdir()) == ["page-1.png", "page-2.png"]


def test_preview_without_libreoffice_says_what_to_install(starter_deck, tmp_path,
                                                          monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    assert not preview_available()
    with pytest.raises(PreviewUnavailableError, match="LibreOffice is not installed") as e:
        render_preview(starter_deck, tmp_path / "preview")
    assert "libreoffice-impress-nogui" in e.value.fix
