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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .brief import BriefInput, QuestionQuotes, job_spec, quote_candidates
from .errors import DeckBuilderError, ManifestError
from .interview_form import InterviewForm
from .preview import render_preview
from .redact import KINDS, Redactor, pseudonyms
from .starter_deck import QuoteRef, RosterRow, StarterDeckSpec, Theme, build_starter_deck
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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

    def text(self, rel: str, text: str) -> None:
        self.path(rel).write_text(self.redactor.redact(text, self.tally), encoding="utf-8")

    def json(self, rel: str, data: Any) -> None:
        redacted = _redact_tree(data, self.redactor, self.tally)
        self.path(rel).write_text(json.dumps(redacted, indent=1, ensure_ascii=False) + "\n",
                                  encoding="utf-8")


def _who(n: int, form: InterviewForm | None, names: dict[str, str]) -> str:
    if form is None:
        return f"Executive, interview {n}"
    e = form.executive
    label = names.get(e.name, e.name)
    return f"{label} ({e.title})"


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
        "## Style rules", "", *[f"- {r}" for r in spec["style_rules"]], "",
        "## What is in this package", "",
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


def _quotes_md(quotes: list[QuestionQuotes], who: dict[int, str]) -> str:
    lines = ["# Quote candidates", "",
             "Verbatim from the transcripts (speech recognition: check against the DOCX "
             "transcript before quoting on a slide).", ""]
    for qq in quotes:
        lines += [f"## {qq.question}", ""]
        if not qq.quotes:
            lines += ["(no candidate found: see the transcripts)", ""]
        for q in qq.quotes:
            lines += [f"> \u201c{q.text}\u201d", f"> \u2014 {who[q.interview]}, {q.where}", ""]
    return "\n".join(lines)


def _theme_title(question: str) -> str:
    words = question.rstrip("?").split()
    return " ".join(words[:8]) + ("\u2026" if len(words) > 8 else "")


def build_brief(inp: BriefInput, out_dir: Path, *, preview: bool = True) -> Manifest:
    """Write one brief version into ``out_dir`` (created; must be empty) and return its
    manifest, also written there as ``manifest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise DeckBuilderError(f"{out_dir} is not empty", fix="build into a new folder")
    forms = [iv.form for iv in inp.interviews]
    people = [f.executive.name for f in forms if f is not None]
    names = pseudonyms(people) if inp.pseudonymise else {}
    redactor = Redactor(terms=inp.redact_terms, names=names)
    tally: Counter[str] = Counter()
    w = _Writer(out_dir, redactor, tally)

    who = {n: _who(n, iv.form, names) for n, iv in enumerate(inp.interviews, 1)}
    questions = inp.questions or tuple(dict.fromkeys(
        a.question for f in forms if f is not None for a in f.answers))
    quotes = quote_candidates(questions, inp.interviews)
    for n, iv in enumerate(inp.interviews, 1):
        t = iv.transcript
        speakers = {s: ("Interviewer" if t.roles.get(s) == "interviewer" else
                        who[n].split(" (")[0]) for s in t.speakers}
        transcript_docx(t, w.path(f"interviews/interview-{n:02d}.docx"),
                        title=f"Interview {n}", redactor=redactor, tally=tally,
                        speaker_names=speakers, form=iv.form)
        if iv.form is not None:
            form = iv.form.model_dump(mode="json")
            form["engagement"] = inp.job_id
            form.pop("interviewer", None)  # firm staff: not needed for the job
            form["executive"]["name"] = names.get(iv.form.executive.name,
                                                  iv.form.executive.name)
            w.json(f"interviews/interview-{n:02d}.form.json", form)
    w.json("quotes.json", [{"question": qq.question, "quotes": [
        {"text": q.text, "who": who[q.interview], "interview": q.interview,
         "start": round(q.start, 2), "end": round(q.end, 2), "where": q.where}
        for q in qq.quotes]} for qq in quotes])
    w.text("quotes.md", _quotes_md(quotes, who))

    roster = tuple(RosterRow(*(redactor.redact(v, tally) for v in (
        names.get(f.executive.name, f.executive.name), f.executive.title, f.executive.role,
        f.executive.company))) if f is not None else
        RosterRow(f"Interview {n}", "[title]", "[role]", "[company]")
        for n, f in enumerate(forms, 1))
    themes = tuple(Theme(redactor.redact(_theme_title(qq.question), tally), tuple(
        QuoteRef(redactor.redact(q.text, tally), who[q.interview], q.where)
        for q in qq.quotes)) for qq in quotes) or (Theme("Key findings"),)
    deck_spec = StarterDeckSpec(
        title="Executive interviews: findings", subtitle=f"Job {inp.job_id}",
        job_id=inp.job_id, date=inp.issued_at.date(), roster=roster, themes=themes,
        target_slides=inp.target_slides)
    deck = build_starter_deck(deck_spec, w.path("starter-deck.pptx"))
    from pptx import Presentation

    slides = len(Presentation(str(deck)).slides)
    spec = job_spec(inp, slides=slides)
    w.json("job-spec.json", spec)
    w.text("job-spec.md", _job_spec_md(spec))

    status = "not requested"
    if preview:
        try:
            pages = render_preview(deck, out_dir / "preview", first=PREVIEW_SLIDES)
            w.paths += [p.relative_to(out_dir).as_posix() for p in pages]
            status = "ok"
        except DeckBuilderError as e:  # LibreOffice missing or failing: the brief still ships
            status = f"unavailable: {e.message}"
    manifest = Manifest(
        job_id=inp.job_id, version=inp.version, issued_at=inp.issued_at.isoformat(),
        files=tuple(ManifestFile(p, _sha256(out_dir / p), (out_dir / p).stat().st_size)
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
    with zipfile.ZipFile(package) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        roots = {n.split("/", 1)[0] for n in names}
        if len(roots) != 1 or any("/" not in n for n in names):
            raise ManifestError(f"{package.name}: every entry must sit under one folder",
                                fix="rebuild the brief", path=package)
        return {n.split("/", 1)[1]: z.read(n) for n in names}


def verify_package(package: Path) -> Manifest:
    """Check a package folder or zip against its manifest: every listed file present with
    its sha256 and size, nothing unlisted. Raises :class:`ManifestError` naming each
    mismatch."""
    entries = _entries(package)
    if MANIFEST not in entries:
        raise ManifestError(f"{package.name} has no {MANIFEST}", fix="rebuild the brief",
                            path=package)
    manifest = Manifest.from_dict(json.loads(entries.pop(MANIFEST)))
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
