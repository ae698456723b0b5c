"""The firm's one standardized executive interview form.

Consultants fill it as ``<recording-stem>.form.yaml`` (``.form.yml``, ``.form.json``) or as the
Word form :func:`blank_form_docx` writes (``.form.docx``). :func:`parse_form` reads any of them
into one :class:`InterviewForm`, or raises a FormError naming the file, field and fix.
"""

from __future__ import annotations

import datetime
import io
import json
import re
from difflib import SequenceMatcher
from pathlib import Path
from typing import Annotated, Any

import docx
import yaml
from docx.document import Document as DocxDocument
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from deck_builder.errors import FormError

__all__ = ["ENGAGEMENT_PATTERN", "FORM_SUFFIXES", "Answer", "Executive", "InterviewForm",
           "TimeSpan", "add_label_table", "blank_form_docx", "check_questions",
           "form_json_schema", "format_clock", "parse_clock", "parse_form",
           "stamp_docx_properties"]

ENGAGEMENT_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*/[a-z0-9]+(-[a-z0-9]+)*$"
FORM_SUFFIXES = (".form.yaml", ".form.yml", ".form.json", ".form.docx")
_CLOCK = r"(?:\d+:)?\d+:\d{2}(?:\.\d+)?|\d+(?:\.\d+)?"
_SPAN = re.compile(rf"\s*({_CLOCK})\s*(?:-|–|—|to)\s*({_CLOCK})\s*")
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def parse_clock(value: str) -> float:
    """Seconds from "mm:ss", "h:mm:ss" or plain seconds ("250", "4:10.5")."""
    parts = value.strip().split(":")
    if not re.fullmatch(_CLOCK, value.strip()) or any(float(p) >= 60 for p in parts[1:]):
        raise ValueError(f"{value!r} is not a time; write mm:ss or h:mm:ss, e.g. 04:10")
    return sum(float(p) * 60**i for i, p in enumerate(reversed(parts)))


def format_clock(seconds: float) -> str:
    """``250`` -> "04:10", ``3850`` -> "1:04:10" (whole seconds)."""
    h, rest = divmod(max(0, round(seconds)), 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeSpan(_Strict):
    """Where in the recording something was said: seconds, or "04:10-05:30" as text."""

    start: float = Field(ge=0, description="seconds from the start, or mm:ss / h:mm:ss")
    end: float = Field(gt=0, description="seconds from the start, or mm:ss / h:mm:ss")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            m = _SPAN.fullmatch(value)
            if not m:
                raise ValueError(f"{value!r} is not a time span; write start-end, e.g. 04:10-05:30")
            return {"start": m.group(1), "end": m.group(2)}
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        return parse_clock(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ordered(self) -> TimeSpan:
        if self.end <= self.start:
            raise ValueError(f"the end ({format_clock(self.end)}) must come after the start "
                             f"({format_clock(self.start)})")
        return self

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"


class Executive(_Strict):
    name: _Text
    title: _Text = Field(description="job title, e.g. Chief Financial Officer")
    company: _Text
    role: _Text = Field(description='role in the engagement, e.g. "CFO", "buyer", "board member"')


class Answer(_Strict):
    question: _Text
    answered_at: list[TimeSpan] = Field(default=[], description="where it was answered")
    key_points: list[str] = []

    @field_validator("answered_at", "key_points", mode="before")
    @classmethod
    def _lenient(cls, value: Any, info: ValidationInfo) -> Any:
        """Also accept text: spans separated by commas, key points one per line ("- " bullets)."""
        if isinstance(value, str):
            parts = re.split(r"[,;\n]" if info.field_name == "answered_at" else r"\n", value)
            return [p.strip(" \t-*•") for p in parts if p.strip(" \t-*•")]
        return [] if value is None else [value] if isinstance(value, dict) else value


class InterviewForm(_Strict):
    """One executive interview: who, when, consent, and the answers with where they were given."""

    engagement: Annotated[str, StringConstraints(strip_whitespace=True,
                                                 pattern=ENGAGEMENT_PATTERN)] = Field(
        description="<client>/<engagement>, both lower-case slugs, e.g. acme/pricing-2026")
    executive: Executive
    interviewer: _Text
    date: datetime.date = Field(description="interview date, YYYY-MM-DD")
    consent_to_record: bool = Field(description="must be true: the executive agreed to be "
                                                "recorded", json_schema_extra={"const": True})
    participants: int | None = Field(None, ge=1, le=10, description=(
        "how many people speak in the recording, interviewer(s) included (usually 2)"))
    answers: list[Answer] = []

    @field_validator("consent_to_record")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the executive did not consent to being recorded")
        return value


CONSENT_FIX = ("a recording without consent must not be transcribed or shared: delete it from "
               "the inbox, or set consent_to_record: true once the executive has agreed")
_EXAMPLES = {"engagement": "acme/pricing-2026", "name": "Jane Doe", "company": "Acme Corp",
             "title": "Chief Financial Officer", "role": "CFO", "interviewer": "Sam Lee",
             "question": "What drives your pricing decisions?", "consent_to_record": "true",
             "date": "2026-11-02"}
_FIXES = {
    "date": "write the date as YYYY-MM-DD, e.g. date: 2026-11-02",
    "engagement": "write it as <client>/<engagement>, lower-case letters, digits and hyphens, "
                  "as the inbox folders are named, e.g. engagement: acme/pricing-2026",
    "answered_at": "write times as mm:ss or h:mm:ss and each span as start-end, the end after "
                   "the start, e.g. answered_at: [04:10-05:30, 12:00-13:15]"}
_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): InterviewForm, ("executive",): Executive, ("answers",): Answer,
    ("answers", "answered_at"): TimeSpan}


def _path(loc: tuple[int | str, ...]) -> str:  # ("answers", 0, "question") -> answers[0].question
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _problem(err: Any) -> tuple[str, str, str]:
    """(field path, what is wrong, what to write) for one pydantic error."""
    loc = tuple(err["loc"])
    path, kind = _path(loc), err["type"]
    names = [p for p in loc if isinstance(p, str)]
    leaf = names[-1] if names else ""
    what = re.sub(r"^Value error, ", "", err["msg"])
    example = f"e.g. {leaf}: {_EXAMPLES.get(leaf, '...')}"
    if kind == "missing":
        what, fix = "missing", f"add {path}, {example}"
    elif kind == "extra_forbidden":
        allowed = ", ".join(_MODELS.get(tuple(names[:-1]), InterviewForm).model_fields)
        what = f"unknown field {leaf!r}"
        fix = f"remove {path} or correct its spelling; allowed here: {allowed}"
    elif kind == "string_too_short":
        what, fix = "empty", f"fill in {path}, {example}"
    elif leaf == "consent_to_record":
        fix = CONSENT_FIX if kind == "value_error" else "write consent_to_record: true or false"
    else:
        fix = next((f for key, f in _FIXES.items() if key in names),
                   f"correct {path} (form_json_schema() describes every field)")
    if leaf in ("engagement", "date") and kind != "missing":
        what = f"{err.get('input')!r} is not " + ("a date" if leaf == "date" else
                                                  "<client>/<engagement>")
    return path, what, fix


def _form_error(exc: ValidationError, name: str) -> FormError:
    problems = [_problem(err) for err in exc.errors(include_url=False)]
    # a missing consent outranks everything: nothing may be done with such a recording
    problems.sort(key=lambda p: p[0] != "consent_to_record")
    listed = "; ".join(f"{path}: {what}" for path, what, _ in problems)
    count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
    return FormError(f"interview form {name}: {count}: {listed}", field=problems[0][0],
                     fix=problems[0][2], path=name)


def parse_form(data: bytes, name: str) -> InterviewForm:
    """Read a ``.form.yaml``/``.form.yml``/``.form.json``/``.form.docx`` file's bytes."""
    suffix = next((s for s in FORM_SUFFIXES if name.lower().endswith(s)), "")
    if not suffix:
        raise FormError(f"{name} is not an interview form file", path=name,
                        fix="name it <recording-stem>.form.yaml (or .form.yml, .form.json, "
                        ".form.docx)")
    raw = _read_docx(data, name) if suffix == ".form.docx" else _load_text(data, name, suffix)
    if not isinstance(raw, dict):
        raise FormError(f"interview form {name} holds {type(raw).__name__}, not the form's "
                        "fields", path=name, fix="start from a blank form: engagement:, "
                        "executive:, interviewer:, date:, consent_to_record:, answers:")
    try:
        return InterviewForm.model_validate(raw)
    except ValidationError as exc:
        raise _form_error(exc, name) from None


def _load_text(data: bytes, name: str, suffix: str) -> Any:
    syntax = "JSON" if suffix == ".form.json" else "YAML"
    try:
        text = data.decode("utf-8-sig")
        return json.loads(text) if syntax == "JSON" else yaml.safe_load(text)
    except UnicodeDecodeError:
        raise FormError(f"interview form {name} is not UTF-8 text", path=name,
                        fix="save it as UTF-8 text") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = getattr(exc, "lineno", None) or (mark.line + 1 if mark else "?")
        hint = "" if syntax == "JSON" else '; quote values with a colon: title: "VP: Finance"'
        raise FormError(f"interview form {name} is not valid {syntax} at line {line}: "
                        f"{getattr(exc, 'problem', None) or exc}", path=name,
                        fix=f"correct the {syntax} at line {line}{hint}") from None


_FIELD_ROWS = (("Engagement", "engagement"), ("Executive name", "executive.name"),
               ("Executive title", "executive.title"),
               ("Executive company", "executive.company"), ("Executive role", "executive.role"),
               ("Interviewer", "interviewer"), ("Date (YYYY-MM-DD)", "date"),
               ("Consent to record (yes/no)", "consent_to_record"),
               ("People speaking in the recording (optional, e.g. 2)", "participants"))
_ANSWER_ROWS = (("Question", "question"),
                ("Answered at (e.g. 04:10-05:30; several separated by commas)", "answered_at"),
                ("Key points (one per line)", "key_points"))


def _label(text: str) -> str:
    """"  Date (YYYY-MM-DD): " -> "date"."""
    return " ".join(re.sub(r"\(.*?\)|[:*]", " ", text).lower().split())


_LABELS = {_label(label): key for label, key in (*_FIELD_ROWS, *_ANSWER_ROWS)}


def stamp_docx_properties(document: DocxDocument, *, title: str) -> None:
    """Core properties that say nothing but the title: python-docx's template fills some."""
    props = document.core_properties
    props.author = props.last_modified_by = "outtask"
    props.title = title
    for attr in ("comments", "keywords", "subject", "category", "content_status",
                 "identifier", "language", "version"):
        setattr(props, attr, "")
    props.created = props.modified = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    props.revision = 1


def blank_form_docx(out: Path, *, engagement: str, questions: list[str]) -> Path:
    """A fillable Word form for one interview of ``engagement``, one table per question."""
    if not re.fullmatch(ENGAGEMENT_PATTERN, engagement):
        raise FormError(f"{engagement!r} is not <client>/<engagement>", field="engagement",
                        fix="pass lower-case slugs, e.g. acme/pricing-2026")
    document = docx.Document()
    document.add_heading("Executive interview form", level=1)
    document.add_paragraph(
        "Fill in the right-hand column, keep the labels, and save this file next to the "
        "recording as <recording-stem>.form.docx.")
    add_label_table(document, [(label, engagement if key == "engagement" else "")
                               for label, key in _FIELD_ROWS], header=("Field", "Value"))
    for number, question in enumerate(questions, 1):
        document.add_heading(f"Question {number}", level=2)
        add_label_table(document, [(label, question if key == "question" else "")
                                   for label, key in _ANSWER_ROWS])
    stamp_docx_properties(document, title="Executive interview form")
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(out))
    return out


def add_label_table(document: DocxDocument, rows: list[tuple[str, str]], *,
                    header: tuple[str, str] | None = None) -> None:
    """A two-column "label | value" table; labels (and the header row) in bold."""
    rows = [header, *rows] if header else rows
    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for i, (label, value) in enumerate(rows):
        left, right = table.row_cells(i)
        left.text, right.text = label, value
        for run in left.paragraphs[0].runs + (right.paragraphs[0].runs if header and not i else []):
            run.bold = True


def _read_docx(data: bytes, name: str) -> dict[str, Any]:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zip, XML and value errors alike
        raise FormError(f"interview form {name} is not a Word document ({exc})", path=name,
                        fix="save the form as .docx from Word, or write <stem>.form.yaml") from None
    raw: dict[str, Any] = {}
    for table in document.tables:
        rows = [(_label(r.cells[0].text), r.cells[1].text.strip()) for r in table.rows
                if len(r.cells) >= 2]
        values = {_LABELS.get(label, label): value for label, value in rows
                  if value and label not in ("field", "")}  # "Field | Value" is the header
        if any(label == "question" for label, _ in rows):  # one question's table
            if values.get("question"):
                raw.setdefault("answers", []).append(values)
            continue
        for key, value in values.items():
            *parents, leaf = key.split(".")  # "executive.title"
            target = raw.setdefault(parents[0], {}) if parents else raw
            target[leaf] = value.strip(" .").lower() if leaf == "consent_to_record" else value
    return raw


def form_json_schema() -> dict[str, Any]:
    """JSON Schema of the form as written in YAML/JSON (time spans as numbers or text)."""
    schema = InterviewForm.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "outtask executive interview form"
    schema["description"] = ("One executive interview: saved next to the recording as "
                             "<recording-stem>.form.yaml (or .form.json).")
    span = schema["$defs"]["TimeSpan"]  # also written as text: "04:10-05:30"
    schema["$defs"]["TimeSpan"] = {"title": span["title"], "description": span["description"],
                                   "anyOf": [span, {"type": "string", "pattern": _SPAN.pattern,
                                                    "examples": ["04:10-05:30"]}]}
    return schema


def _normalise(question: str) -> str:
    question = re.sub(r"^\s*(?:q(?:uestion)?\s*)?\d+\s*[.):-]\s*", "", question.lower())
    return " ".join(re.sub(r"[^\w\s]", " ", question).split())


def check_questions(form: InterviewForm, questions: list[str]) -> list[str]:
    """Warnings for the engagement's questions that have no answer on the form."""
    answered = [_normalise(a.question) for a in form.answers]
    warnings = []
    for number, question in enumerate(questions, 1):
        wanted = _normalise(question)
        if wanted and not any(SequenceMatcher(None, wanted, a).ratio() >= 0.8 for a in answered):
            warnings.append(f"question {number} of the engagement is not on the form: "
                            f"{question!r}; add it under answers (answered_at may stay empty "
                            "if it was not asked)")
    return warnings
