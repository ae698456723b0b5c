"""Writing a brief package: every file the out-tasker receives, its manifest, and the zip.

Everything textual passes through one :class:`~deck_builder.redact.Redactor`; the package
names the job only by its opaque id. The manifest lists each file's sha256 and how many
things of each kind were redacted, never what they were.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path
from typing import Any

from transcription.models import sha256_file
from transcription.transcript import Transcript

from .answers import find_engagement_answers
from .brief import BriefInput, BriefInterview, QuestionQuotes, Quote, job_spec, quote_candidates
from .errors import DeckBuilderError, ManifestError
from .interview_form import InterviewForm, format_clock
from .preview import render_preview
from .redact import KINDS, Redactor, pseudonyms
from .starter_deck import (
    FindingText,
    QuoteRef,
    RosterRow,
    StarterDeckSpec,
    Theme,
    build_starter_deck,
)
from .synthesis import QuestionSynthesis, Synthesis, SynthesisTheme, synthesise
from .transcript_docx import transcript_docx

__all__ = ["MANIFEST", "Manifest", "ManifestFile", "build_brief", "verify_package",
           "zip_package"]

MANIFEST = "manifest.json"
#: slides rendered to PNG in the package's preview/ folder
PREVIEW_SLIDES = 3
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ManifestFile:
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    job_id: str
    version: int
    issued_at: str
    files: tuple[ManifestFile, ...]
    redactions: dict[str, int]
    pseudonymised: bool
    preview: str  # "ok" or why there is none
    slides: int = 0  # in the starter deck

    def to_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "brief_version": self.version,
                "issued_at": self.issued_at,
                "files": [vars(f) for f in self.files], "redactions": self.redactions,
                "pseudonymised": self.pseudonymised, "preview": self.preview,
                "starter_deck_slides": self.slides}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        return cls(d["job_id"], d["brief_version"], d["issued_at"],
                   tuple(ManifestFile(**f) for f in d["files"]), dict(d["redactions"]),
                   d["pseudonymised"], d["preview"], d.get("starter_deck_slides", 0))


def _redact_tree(value: Any, redactor: Redactor, tally: Counter[str]) -> Any:
    if isinstance(value, str):
        return redactor.redact(value, tally)
    if isinstance(value, dict):
        return {k: _redact_tree(v, redactor, tally) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_tree(v, redactor, tally) for v in value]
    return value


class _Writer:
    """Writes the package's files under one folder and remembers them for the manifest."""

    def __init__(self, root: Path, redactor: Redactor, tally: Counter[str]) -> None:
        self.root, self.redactor, self.tally = root, redactor, tally
        self.paths: list[str] = []

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        self.paths.append(rel)
        return p

    def text(self, rel: str, text: str, *, redact: bool = True) -> None:
        text = self.redactor.redact(text, self.tally) if redact else text
        self.path(rel).write_text(text, encoding="utf-8")

    def json(self, rel: str, data: Any, *, redact: bool = True) -> None:
        data = _redact_tree(data, self.redactor, self.tally) if redact else data
        self.path(rel).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                  encoding="utf-8")


#: words that end a company's name without being part of what people call it
_LEGAL_FORMS = frozenset(("ag", "bv", "co", "company", "corp", "corporation", "gmbh", "group",
                          "holding", "holdings", "inc", "incorporated", "limited", "llc", "llp",
                          "ltd", "nv", "plc", "sa", "sarl"))


def _company_terms(forms: list[InterviewForm | None]) -> list[str]:
    """Each interviewee's company, also without its legal form ("Acme Corp." -> "Acme"): the
    client or a partner of it, to be redacted whether or not ``redact_terms`` lists it."""
    terms = []
    for form in forms:
        if form is not None:
            words = form.executive.company.replace(",", " ").split()
            while len(words) > 1 and words[-1].lower().strip(".") in _LEGAL_FORMS:
                words.pop()
            terms += [form.executive.company, " ".join(words)]
    return terms


def _label(form: InterviewForm | None, names: dict[str, str]) -> str:
    """How the brief names an interviewee: pseudonym, name, or "Executive" without a form."""
    if form is None:
        return "Executive"
    name = form.executive.name
    return names.get(" ".join(name.split()), name)


def _speaker_names(t: Transcript, label: str) -> dict[str, str]:
    """Speaker id -> label for the speakers known to be the interviewer or the interviewee.
    Without roles (more than two voices) only a lone speaker is the interviewee; the others
    keep their ids ("Speaker 3") rather than be labelled as someone they may not be."""
    if t.roles:
        return {s: "Interviewer" if role == "interviewer" else label
                for s, role in t.roles.items()}
    return {t.speakers[0]: label} if len(t.speakers) == 1 else {}


def _job_spec_md(spec: dict[str, Any]) -> str:
    rate = spec["price_per_slide_cents"]
    total = spec["estimated_total_cents"]
    lines = [
        f"# Job {spec['job_id']}, brief version {spec['brief_version']}", "",
        f"**Deliverable.** {spec['deliverable']}", "",
        f"- Target slides: {spec['target_slides']}",
        f"- Deadline: {spec['deadline_utc']} (UTC), {spec['deadline_local']} "
        f"({spec['deadline_timezone']}): {spec['turnaround_hours']} hours from issue",
        f"- Price per slide: {rate // 100}.{rate % 100:02d} {spec['currency']}; estimate "
        f"{total // 100}.{total % 100:02d} {spec['currency']} for {spec['target_slides']} "
        "billable slides (visible, non-empty slides are billed)",
        f"- Revisions: {spec['revision_policy']}", "",
        *([f"**Note.** {spec['note']}", ""] if spec.get("note") else []),
        "## Style rules", "", *[f"- {r}" for r in spec["style_rules"]], "",
        "## Where to start", "",
        "Read `synthesis.md` first: per question, what the executives said grouped into "
        "themes, each counted by distinct executives (\"7 of 12\") with verbatim quotes. "
        "The starter deck already has a chart of those counts and a Finding slide per "
        "leading theme (quotes in the speaker notes); sharpen the headlines, keep the counts.",
        "",
        "## What is in this package", "",
        "- `synthesis.md` / `synthesis.json`: themes per question, counts, quotes.",
        "- `starter-deck.pptx`: the house template with the deck's skeleton; build on it.",
        "- `quotes.md` / `quotes.json`: quote candidates per question, with who and where.",
        "- `interviews/`: a speaker-labelled transcript (DOCX) and the interview form per "
        "interview.",
        "- `preview/`: images of the starter deck's first slides.",
        "- `manifest.json`: every file's sha256; check it before you start.", "",
    ]
    if spec["questions"]:
        lines += ["## Questions the interviews covered", "",
                  *[f"{i}. {q}" for i, q in enumerate(spec["questions"], 1)], ""]
    return "\n".join(lines)


def _quotes_md(quotes: list[QuestionQuotes], who: Callable[[Quote], str]) -> str:
    lines = ["# Quote candidates", "",
             "Verbatim from the transcripts (speech recognition: check against the DOCX "
             "transcript before quoting on a slide).", ""]
    for qq in quotes:
        lines += [f"## {qq.question}", ""]
        if not qq.quotes:
            lines += ["(no interview answered it: see the transcripts)", ""]
        for q in qq.quotes:
            lines += [f"> \u201c{q.text}\u201d", f"> \u2014 {who(q)}, {q.where}", ""]
        if qq.unanswered:
            numbers = ", ".join(str(n) for n in qq.unanswered)
            lines += [f"Not answered in interview{'s' if len(qq.unanswered) > 1 else ''} "
                      f"{numbers}.", ""]
    return "\n".join(lines)


#: Finding slides per question at most: the leading themes (two executives or more)
LEADING_THEMES = 3
#: bars in a question's chart; smaller themes are summed into one bar
CHART_THEMES = 8


def _leading(q: QuestionSynthesis) -> tuple[SynthesisTheme, ...]:
    """The themes that get a Finding slide: those held by two executives or more (the
    largest first, at most LEADING_THEMES), or the largest when every view is a lone one."""
    shared = tuple(t for t in q.themes if len(t.interviews) >= 2)[:LEADING_THEMES]
    return shared or q.themes[:1]


def _headline(t: SynthesisTheme, q: QuestionSynthesis) -> str:
    noun = "executive" if q.answered == 1 else "executives"
    return f"{len(t.interviews)} of {q.answered} {noun}: {t.title}"


def _numbers(ns: tuple[int, ...] | list[int]) -> str:
    return ", ".join(str(n) for n in ns)


def _synthesis_md(syn: Synthesis, who: Callable[[int], str]) -> str:
    lines = ["# What the executives said", "",
             f"Themes per question across {syn.interviews} interview"
             f"{'' if syn.interviews == 1 else 's'}, grouped by meaning; each executive counts "
             "once per question, under their main point (other points they made are listed as "
             "\"also\"). Quotes are verbatim from the transcripts (speech recognition: check "
             "against the DOCX before quoting on a slide).", ""]
    for q in syn.questions:
        lines += [f"## {q.question}", ""]
        missing = syn.interviews - q.answered
        lines += [f"Answered in {q.answered} of {syn.interviews} interviews"
                  + (f" ({missing} did not answer it)." if missing else "."), ""]
        for rank, t in enumerate(q.themes, 1):
            lines += [f"### {rank}. {_headline(t, q)}", "",
                      f"Main point in interview{'s' if len(t.interviews) > 1 else ''} "
                      f"{_numbers(t.interviews)}"
                      + (f"; also raised in {_numbers(t.also)}." if t.also else "."), ""]
            for x in t.quotes:
                lines += [f"> \u201c{x.text}\u201d",
                          f"> \u2014 {who(x.interview)}, Interview {x.interview}, "
                          f"{format_clock(x.start)}", ""]
        if q.other:
            lines += [f"Answers with nothing to group (see the transcripts): interview"
                      f"{'s' if len(q.other) > 1 else ''} {_numbers(q.other)}.", ""]
        if not q.themes and not q.other:
            lines += ["(no interview answered it: see the transcripts)", ""]
    return "\n".join(lines)


def _deck_findings(q: QuestionSynthesis, who: Callable[[int], str],
                   redact: Callable[[str], str]) -> tuple[FindingText, ...]:
    out = []
    for t in _leading(q):
        points = [f"Main point of interview{'s' if len(t.interviews) > 1 else ''} "
                  f"{_numbers(t.interviews)}"]
        if t.also:
            points.append(f"Also raised in interview{'s' if len(t.also) > 1 else ''} "
                          f"{_numbers(t.also)}")
        if t.quotes:  # the most representative; all of them are in the notes
            lead = t.quotes[0]
            points.append(f"\u201c{lead.text}\u201d \u2014 {who(lead.interview)}, "
                          f"Interview {lead.interview}")
        points.append("[What they agree on, in one or two bullets; see synthesis.md]")
        notes = "\n\n".join(f"\u201c{x.text}\u201d \u2014 {who(x.interview)}, Interview "
                             f"{x.interview}, {format_clock(x.start)}" for x in t.quotes)
        out.append(FindingText(redact(_headline(t, q)), tuple(map(redact, points)),
                               redact(notes)))
    return tuple(out)


def _chart(q: QuestionSynthesis) -> tuple[tuple[str, int], ...]:
    bars = [(t.title, len(t.interviews)) for t in q.themes[:CHART_THEMES]]
    rest = q.themes[CHART_THEMES:]
    if rest:
        bars.append((f"{len(rest)} other themes", sum(len(t.interviews) for t in rest)))
    return tuple(bars)


def _theme_title(question: str) -> str:
    """The first words of a question, which must be redacted already: a term or a phone
    number cut in two is no longer found."""
    words = question.rstrip("?").split()
    return " ".join(words[:8]) + ("\u2026" if len(words) > 8 else "")


def with_answers(interviews: tuple[BriefInterview, ...], questions: tuple[str, ...],
                 ) -> tuple[BriefInterview, ...]:
    """The interviews with each question's answer found in their transcripts (and the
    speaker roles the questions show), for these questions and forms: all interviews at once,
    so that each learns from the others how the questions were asked and answered."""
    found = find_engagement_answers([iv.transcript for iv in interviews], questions,
                                    forms=[iv.form for iv in interviews])
    return tuple(replace(iv, transcript=iv.transcript.with_answers(answers, roles))
                 for iv, (answers, roles) in zip(interviews, found, strict=True))


def build_brief(inp: BriefInput, out_dir: Path, *, preview: bool = True) -> Manifest:
    """Write one brief version into ``out_dir`` (created; must be empty) and return its
    manifest, also written there as ``manifest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise DeckBuilderError(f"{out_dir} is not empty", fix="build into a new folder")
    forms = [iv.form for iv in inp.interviews]
    questions = inp.questions or tuple(dict.fromkeys(
        a.question for f in forms if f is not None for a in f.answers))
    interviews = with_answers(inp.interviews, questions)
    people = [f.executive.name for f in forms if f is not None]
    names = pseudonyms(people) if inp.pseudonymise else {}
    # the firm's interviewers are never named to the out-tasker, pseudonymised or not
    staff = {f.interviewer: "Interviewer" for f in forms if f is not None}
    redactor = Redactor(terms=(*inp.redact_terms, *_company_terms(forms)),
                        names={**staff, **names})
    tally: Counter[str] = Counter()
    w = _Writer(out_dir, redactor, tally)

    labels = {n: redactor.redact(_label(iv.form, names), tally)
              for n, iv in enumerate(inp.interviews, 1)}
    who = {n: redactor.redact(f"{labels[n]} ({iv.form.executive.title})", tally)
           if iv.form is not None else labels[n] for n, iv in enumerate(inp.interviews, 1)}
    speakers = {n: _speaker_names(iv.transcript, labels[n])
                for n, iv in enumerate(interviews, 1)}

    def said_by(q: Quote) -> str:  # an unidentified voice is named as in the transcript
        if q.speaker is None or q.speaker in speakers[q.interview]:
            return who[q.interview]
        return redactor.redact(q.speaker, tally)

    quotes = quote_candidates(questions, interviews)
    synthesis = synthesise(questions, [iv.transcript for iv in interviews])
    for n, iv in enumerate(interviews, 1):
        transcript_docx(iv.transcript, w.path(f"interviews/interview-{n:02d}.docx"),
                        title=f"Interview {n}", redactor=redactor, tally=tally,
                        speaker_names=speakers[n], form=iv.form)
        if iv.form is not None:
            form = _redact_tree(iv.form.model_dump(mode="json", exclude={"interviewer"}),
                                redactor, tally)  # interviewer: firm staff, not needed
            form["engagement"] = inp.job_id  # set after redaction: an id is never redacted
            form["executive"]["name"] = labels[n]
            w.json(f"interviews/interview-{n:02d}.form.json", form, redact=False)
    w.json("quotes.json", [{"question": qq.question, "quotes": [
        {"text": q.text, "who": said_by(q), "interview": q.interview,
         "start": round(q.start, 2), "end": round(q.end, 2), "where": q.where}
        for q in qq.quotes], "unanswered": list(qq.unanswered)} for qq in quotes])
    w.text("quotes.md", _quotes_md(quotes, said_by))
    w.json("synthesis.json", synthesis.to_dict())
    w.text("synthesis.md", _synthesis_md(synthesis, lambda n: who[n]))

    roster = tuple(RosterRow(labels[n], *(redactor.redact(v, tally) for v in (
        f.executive.title, f.executive.role, f.executive.company))) if f is not None else
        RosterRow(f"Interview {n}", "[title]", "[role]", "[company]")
        for n, f in enumerate(forms, 1))
    def redact(text: str) -> str:
        return redactor.redact(text, tally)

    themes = tuple(Theme(
        _theme_title(redact(qq.question)),
        tuple(QuoteRef(redact(q.text), said_by(q), q.where) for q in qq.quotes),
        findings=_deck_findings(qs, lambda n: who[n], redact),
        chart=tuple((redact(label), n) for label, n in _chart(qs)),
        chart_title=(f"How {qs.answered} executive{'' if qs.answered == 1 else 's'} "
                     f"answered: {_theme_title(redact(qq.question))}") if qs.themes else "",
        chart_source="Source: synthesis.md; executives counted once, by their main point")
        for qq, qs in zip(quotes, synthesis.questions, strict=True)) or (Theme("Key findings"),)
    deck_spec = StarterDeckSpec(
        title="Executive interviews: findings", subtitle=f"Job {inp.job_id}",
        job_id=inp.job_id, date=inp.issued_at.date(), roster=roster, themes=themes,
        target_slides=inp.target_slides)
    deck = build_starter_deck(deck_spec, w.path("starter-deck.pptx"))
    from pptx import Presentation

    slides = len(Presentation(str(deck)).slides)
    spec = _redact_tree({**job_spec(inp, slides=slides), "questions": list(questions)},
                        redactor, tally)
    spec["job_id"] = inp.job_id  # generated here: never redacted ("job-5551234567")
    w.json("job-spec.json", spec, redact=False)
    w.text("job-spec.md", _job_spec_md(spec), redact=False)

    status = "not requested"
    if preview:
        try:
            pages = render_preview(deck, out_dir / "preview", first=PREVIEW_SLIDES)
            w.paths += [p.relative_to(out_dir).as_posix() for p in pages]
            status = "ok"
        except DeckBuilderError as e:  # LibreOffice missing or failing: the brief still ships
            # the message names the build folder, which the caller may have named after the client
            message = e.message
            for folder in (str(out_dir.resolve()), str(out_dir)):
                message = message.replace(folder, ".")
            status = f"unavailable: {redactor.redact(message)}"
    manifest = Manifest(
        job_id=inp.job_id, version=inp.version,
        issued_at=inp.issued_at.astimezone(UTC).isoformat(),
        files=tuple(ManifestFile(p, sha256_file(out_dir / p), (out_dir / p).stat().st_size)
                    for p in sorted(w.paths)),
        redactions={k: tally.get(k, 0) for k in KINDS}, pseudonymised=inp.pseudonymise,
        preview=status, slides=slides)
    (out_dir / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=1) + "\n",
                                    encoding="utf-8")
    return manifest


def zip_package(folder: Path, zip_path: Path, *, root: str) -> Path:
    """The package folder as a zip whose entries all sit under ``root/`` (the job's opaque
    name), with fixed timestamps so that the same files give the same zip."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for p in files:
            info = zipfile.ZipInfo(f"{root}/{p.relative_to(folder).as_posix()}", _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, p.read_bytes())
    tmp.replace(zip_path)
    return zip_path


def _entries(package: Path) -> dict[str, bytes]:
    if package.is_dir():
        return {p.relative_to(package).as_posix(): p.read_bytes()
                for p in package.rglob("*") if p.is_file()}
    try:
        with zipfile.ZipFile(package) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            roots = {n.split("/", 1)[0] for n in names}
            if len(roots) != 1 or any("/" not in n for n in names):
                raise ManifestError(f"{package.name}: every entry must sit under one folder",
                                    fix="rebuild the brief", path=package)
            return {n.split("/", 1)[1]: z.read(n) for n in names}
    except zipfile.BadZipFile as e:  # also a failing CRC: the zip was damaged or edited
        raise ManifestError(f"{package.name} is not a readable zip ({e})",
                            fix="download it again, or rebuild the brief", path=package) from e


def verify_package(package: Path) -> Manifest:
    """Check a package folder or zip against its manifest: every listed file present with
    its sha256 and size, nothing unlisted. Raises :class:`ManifestError` naming each
    mismatch."""
    entries = _entries(package)
    if MANIFEST not in entries:
        raise ManifestError(f"{package.name} has no {MANIFEST}", fix="rebuild the brief",
                            path=package)
    try:
        manifest = Manifest.from_dict(json.loads(entries.pop(MANIFEST)))
    except (ValueError, KeyError, TypeError) as e:  # not JSON, or not a manifest's fields
        raise ManifestError(f"{package.name}: {MANIFEST} is not a brief manifest ({e!r})",
                            fix="do not edit a brief package: rebuild it", path=package) from e
    problems = []
    for f in manifest.files:
        data = entries.pop(f.path, None)
        if data is None:
            problems.append(f"{f.path} is missing")
        elif hashlib.sha256(data).hexdigest() != f.sha256 or len(data) != f.bytes:
            problems.append(f"{f.path} does not match its sha256")
    problems += [f"{p} is not in the manifest" for p in sorted(entries)]
    if problems:
        raise ManifestError(f"{package.name}: " + "; ".join(problems),
                            fix="do not edit a brief package: rebuild it", path=package)
    return manifest
