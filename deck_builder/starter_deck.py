"""The starter deck: the house template with the skeleton of the client deck already laid out.

The deck maker receives it with the brief: a title slide, an agenda, the roster of executives
interviewed, and per theme a section slide, placeholder findings and the top quotes. They replace
the bracketed placeholder text; they do not have to build structure or apply the house style.

Everything on the slides comes from the :class:`StarterDeckSpec`; the caller redacts it first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide, SlideLayout
from pptx.util import Inches, Pt

from deck_builder.errors import TemplateError
from deck_builder.house import HOUSE_TEMPLATE, LAYOUT_NAMES

#: roster rows per table; more continue on another Roster slide so the table stays legible
ROSTER_ROWS_PER_SLIDE = 12
#: quote slides per theme at most (the rest stay in the brief's quotes.md)
QUOTES_PER_THEME = 2
#: finding slides per theme when no slide target is given
DEFAULT_FINDINGS_PER_THEME = 2

ROSTER_COLUMNS = ("Executive", "Title", "Role", "Company")
_ROSTER_WIDTHS = (2.4, 3.6, 3.1, 3.033)  # inches, summing to the placeholder's 12.133
_ROW_HEIGHT = Inches(0.36)
_REGENERATE = ("regenerate the house template with "
               "`python -m deck_builder.templates.make_house_template`")


@dataclass(frozen=True)
class RosterRow:
    """One interviewee; ``label`` is a name or a redacted label such as "Executive A"."""

    label: str
    title: str
    role: str
    company: str


@dataclass(frozen=True)
class QuoteRef:
    """A quote as it appears in the brief; ``where`` locates it, e.g. "Interview 2, 04:31"."""

    text: str
    who: str
    where: str


@dataclass(frozen=True)
class FindingText:
    """A finding the synthesis found: its headline, supporting points, and the speaker notes
    (its quotes, attributed) the deck maker works from."""

    title: str
    points: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Theme:
    """A theme of the deck (one per question) with its quotes, best first; ``findings``: the
    synthesis's leading themes, a Finding slide each; ``chart``: (label, executives) per
    theme, drawn as a native bar chart on a slide of its own."""

    title: str
    quotes: tuple[QuoteRef, ...] = ()
    findings: tuple[FindingText, ...] = ()
    chart: tuple[tuple[str, int], ...] = ()
    chart_title: str = ""
    chart_source: str = ""


@dataclass(frozen=True)
class StarterDeckSpec:
    """What the starter deck shows. ``target_slides`` is the slide count the client paid for."""

    title: str
    subtitle: str
    job_id: str
    date: dt.date
    roster: tuple[RosterRow, ...]
    themes: tuple[Theme, ...]
    target_slides: int | None = None


def layout(prs: PresentationType, name: str) -> SlideLayout:
    """The slide layout called ``name``; :class:`TemplateError` when the template lacks it."""
    for candidate in prs.slide_layouts:
        if candidate.name == name:
            return candidate
    present = ", ".join(repr(each.name) for each in prs.slide_layouts) or "none"
    raise TemplateError(f"the template has no slide layout named {name!r} (it has {present})",
                        fix=f"use the house template, or {_REGENERATE}")


def quotes_per_theme(spec: StarterDeckSpec) -> list[int]:
    """How many Quote slides each theme gets: up to :data:`QUOTES_PER_THEME`, fewer when the
    target has no room for them beside one finding per theme (quotes.md keeps every quote).
    The theme with the most gives one up first, later themes before earlier ones."""
    quotes = [min(len(theme.quotes), QUOTES_PER_THEME) for theme in spec.themes]
    if spec.target_slides is None:
        return quotes
    room = (spec.target_slides - 3 - _roster_slide_count(spec.roster) - 2 * len(spec.themes)
            - _chart_slides(spec))
    while sum(quotes) > max(room, 0):
        most = max(range(len(quotes)), key=lambda i: (quotes[i], i))
        quotes[most] -= 1
    return quotes


def findings_per_theme(spec: StarterDeckSpec) -> list[int]:
    """How many Finding slides each theme gets.

    With a target, the slides left after the fixed ones (title, agenda, roster, sections,
    quotes, closing) are spread evenly over the themes, earlier themes taking any remainder;
    every theme keeps at least one finding, so a target too small for title, agenda, roster,
    closing and a section and a finding per theme is exceeded.
    """
    themes = len(spec.themes)
    if spec.target_slides is None or themes == 0:
        return [max(DEFAULT_FINDINGS_PER_THEME, len(t.findings)) for t in spec.themes]
    fixed = (3 + _roster_slide_count(spec.roster) + themes + sum(quotes_per_theme(spec))
             + _chart_slides(spec))
    base, extra = divmod(max(spec.target_slides - fixed, 0), themes)
    return [max(base + (i < extra), 1) for i in range(themes)]


def build_starter_deck(spec: StarterDeckSpec, out: Path, *,
                       template: Path = HOUSE_TEMPLATE) -> Path:
    """Write the starter deck for ``spec`` to ``out`` (a .pptx) and return ``out``."""
    prs = _open_template(template)
    for slide_layout in prs.slide_layouts:  # a deck built from a template starts empty
        if slide_layout.used_by_slides:
            raise TemplateError(f"the template {template} already contains slides",
                                fix=f"remove them, or {_REGENERATE}", path=template)
    try:
        layouts = {name: layout(prs, name) for name in LAYOUT_NAMES}
    except TemplateError as e:
        raise TemplateError(e.message, fix=e.fix, path=template) from None

    def add(name: str, title: str, **texts: str | Sequence[str]) -> Slide:
        slide = prs.slides.add_slide(layouts[name])
        _fill(slide, title=title, **texts)
        return slide

    add("Title", spec.title, body=[spec.subtitle, _long_date(spec.date)])
    add("Agenda", "Agenda", body=["Who we spoke to", *(theme.title for theme in spec.themes)])
    for page, rows in enumerate(_roster_pages(spec.roster)):
        slide = add("Roster", "Who we spoke to" + (" (continued)" if page else ""))
        _roster_table(slide, rows)
    for theme, findings, quotes, chart in zip(spec.themes, findings_per_theme(spec),
                                              quotes_per_theme(spec), charts_per_theme(spec),
                                              strict=True):
        count = len(theme.quotes)
        add("Section", theme.title,
            body=f"{count} quote{'' if count == 1 else 's'} in the brief")
        if chart:
            slide = add("Finding", theme.chart_title or f"{theme.title}: what was said",
                        source=theme.chart_source or "Source: synthesis.md")
            _theme_chart(slide, theme.chart)
        for number in range(1, findings + 1):
            if number <= len(theme.findings):
                found = theme.findings[number - 1]
                slide = add("Finding", found.title, body=list(found.points),
                            source="Source: synthesis.md (quotes in the notes)")
                if found.notes:
                    slide.notes_slide.notes_text_frame.text = found.notes
                continue
            add("Finding", f"[Finding {number} for {theme.title}: one-sentence headline]",
                body="[Supporting points from the interviews; see quotes.md]",
                source="Source: interviews (see brief)")
        for quote in theme.quotes[:quotes]:
            add("Quote", f"{theme.title}: in their words", body=f"\u201c{quote.text}\u201d",
                source=f"\u2014 {quote.who}, {quote.where}")
    add("Closing", "Next steps",
        body=["[Next step 1: what, who, by when]", "[Next step 2: what, who, by when]"])

    core = prs.core_properties
    now = dt.datetime.now(dt.UTC)
    core.title, core.subject = spec.title, f"Job {spec.job_id}"
    core.author = core.last_modified_by = "outtask"
    core.keywords = core.comments = core.category = ""
    core.revision, core.created, core.modified = 1, now, now
    out.parent.mkdir(parents=True, exist_ok=True)
    prs.save(out)
    return out


def _open_template(template: Path) -> PresentationType:
    try:
        return Presentation(str(template))
    except Exception as e:  # python-pptx raises zip, XML and KeyError failures alike
        raise TemplateError(f"cannot read the slide template {template}: {e}",
                            fix=f"check the path, or {_REGENERATE}", path=template) from e


def _fill(slide: Slide, *, title: str, body: str | Sequence[str] = "", source: str = "") -> None:
    """Put text in the slide's placeholders by their idx, then drop any left empty.

    idx 0 is the title in every house layout; idx 1 the body (the subtitle on Title slides),
    idx 2 the small source or attribution line.
    """
    texts = {0: title if title.strip() else "[Title]", 1: body, 2: source}  # titles stay
    for placeholder in list(slide.placeholders):
        if placeholder.placeholder_format.type == PP_PLACEHOLDER.TABLE:
            continue  # _roster_table fills it
        text = texts.get(placeholder.placeholder_format.idx, "")
        paragraphs = [text] if isinstance(text, str) else list(text)
        paragraphs = [p for p in paragraphs if p.strip()]
        if not paragraphs:
            placeholder.element.getparent().remove(placeholder.element)
            continue
        frame = placeholder.text_frame
        frame.text = paragraphs[0]
        for paragraph in paragraphs[1:]:
            frame.add_paragraph().text = paragraph


def charts_per_theme(spec: StarterDeckSpec) -> list[bool]:
    """Which themes get their chart slide: all that have a chart, unless the target has no
    room for them beside one section and one finding per theme (earlier themes first; a
    chart goes before any Quote slide, whose quotes are in the findings' notes too)."""
    keep = [bool(theme.chart) for theme in spec.themes]
    if spec.target_slides is None:
        return keep
    room = spec.target_slides - 3 - _roster_slide_count(spec.roster) - 2 * len(spec.themes)
    for i, wanted in enumerate(keep):
        keep[i] = wanted and room > 0
        room -= keep[i]
    return keep


def _chart_slides(spec: StarterDeckSpec) -> int:
    return sum(charts_per_theme(spec))


#: a theme's label on a chart, at most this many characters
CHART_LABEL = 48


def _theme_chart(slide: Slide, counts: Sequence[tuple[str, int]]) -> None:
    """A native clustered bar chart of executives per theme, the largest on top, where the
    Finding layout has its supporting points."""
    data = CategoryChartData()
    data.categories = [label if len(label) <= CHART_LABEL else
                       label[:CHART_LABEL - 1].rstrip() + "\u2026" for label, _ in counts]
    data.add_series("Executives", [n for _, n in counts])
    frame = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, Inches(0.6), Inches(1.7),
                                   Inches(12.1), Inches(4.4), data)
    chart = frame.chart
    chart.has_title = False  # the slide's title says what it shows
    chart.has_legend = False
    chart.font.size = Pt(12)
    chart.category_axis.reverse_order = True  # first (largest) theme on top
    chart.category_axis.tick_labels.font.size = Pt(12)
    axis = chart.value_axis
    axis.has_major_gridlines = False
    axis.minimum_scale = 0
    axis.major_unit = max(1, max((n for _, n in counts), default=1) // 5)
    axis.tick_labels.font.size = Pt(11)
    plot = chart.plots[0]
    plot.gap_width = 60
    plot.has_data_labels = True
    plot.data_labels.font.size = Pt(12)
    plot.series[0].format.fill.solid()
    plot.series[0].format.fill.fore_color.theme_color = MSO_THEME_COLOR.ACCENT_1


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _roster_slide_count(roster: Sequence[RosterRow]) -> int:
    return sum(1 for _ in _roster_pages(roster))


def _roster_pages(roster: Sequence[RosterRow]) -> Iterator[Sequence[RosterRow]]:
    """Roster rows in slide-sized pages; one (empty) page when nobody is listed."""
    yield roster[:ROSTER_ROWS_PER_SLIDE]
    for start in range(ROSTER_ROWS_PER_SLIDE, len(roster), ROSTER_ROWS_PER_SLIDE):
        yield roster[start:start + ROSTER_ROWS_PER_SLIDE]


def _roster_table(slide: Slide, rows: Sequence[RosterRow]) -> None:
    """A real table in the Roster layout's table placeholder: a header, then one row each."""
    cells = [tuple(ROSTER_COLUMNS)]
    cells += [(row.label, row.title, row.role, row.company) for row in rows]
    if not rows:
        cells.append(("[No interviewees listed]", "", "", ""))
    placeholder = next(ph for ph in slide.placeholders if ph.placeholder_format.idx == 1)
    frame = placeholder.insert_table(rows=len(cells), cols=len(ROSTER_COLUMNS))
    frame.height = _ROW_HEIGHT * len(cells)
    table = frame.table
    for column, width in zip(table.columns, _ROSTER_WIDTHS, strict=True):
        column.width = Inches(width)
    if not rows:  # one wide cell, so the note does not wrap in the narrow first column
        table.cell(1, 0).merge(table.cell(1, len(ROSTER_COLUMNS) - 1))
    for r, values in enumerate(cells):
        table.rows[r].height = _ROW_HEIGHT
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.text = value
            cell.margin_top = cell.margin_bottom = Inches(0.04)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            cell.fill.solid()
            if r == 0:
                cell.fill.fore_color.theme_color = MSO_THEME_COLOR.TEXT_1
            elif r % 2:
                cell.fill.fore_color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
            else:
                cell.fill.fore_color.theme_color = MSO_THEME_COLOR.BACKGROUND_2
            font = cell.text_frame.paragraphs[0].runs[0].font if value else None
            if font is not None:
                font.size, font.bold = Pt(12), r == 0 or c == 0
                font.color.theme_color = (MSO_THEME_COLOR.BACKGROUND_1 if r == 0
                                          else MSO_THEME_COLOR.TEXT_1)
