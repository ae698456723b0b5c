"""The interview form: YAML, JSON and Word files in, one model out, and errors that say the fix."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import docx
import pytest
import yaml

from deck_builder.errors import FormError
from deck_builder.interview_form import (
    Answer,
    Executive,
    InterviewForm,
    TimeSpan,
    blank_form_docx,
    check_questions,
    form_json_schema,
    parse_form,
)

QUESTIONS = ["What drives your pricing decisions?", "Who signs off on a new supplier?"]

VALID_YAML = """\
engagement: acme/pricing-2026
executive:
  name: Jane Doe
  title: Chief Financial Officer
  company: Acme Corp
  role: CFO
interviewer: Sam Lee
date: 2026-11-02
consent_to_record: true
answers:
  - question: What drives your pricing decisions?
    answered_at: [04:10-05:30, "1:02:00 - 1:03:30"]
    key_points:
      - margin first
      - volume second
  - question: Who signs off on a new supplier?
    answered_at:
      - {start: 600, end: 645.5}
      - {start: "11:00", end: "12:00"}
"""

EXPECTED = InterviewForm(
    engagement="acme/pricing-2026",
    executive=Executive(name="Jane Doe", title="Chief Financial Officer", company="Acme Corp",
                        role="CFO"),
    interviewer="Sam Lee", date=datetime.date(2026, 11, 2), consent_to_record=True,
    answers=[Answer(question=QUESTIONS[0],
                    answered_at=[TimeSpan(start=250, end=330), TimeSpan(start=3720, end=3810)],
                    key_points=["margin first", "volume second"]),
             Answer(question=QUESTIONS[1],
                    answered_at=[TimeSpan(start=600, end=645.5), TimeSpan(start=660, end=720)])])


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_yaml_parses(tmp_path):
    path = _write(tmp_path, "exec-1.form.yaml", VALID_YAML)
    assert parse_form(path.read_bytes(), path.name) == EXPECTED
    assert str(EXPECTED.answers[0].answered_at[1]) == "1:02:00-1:03:30"


def test_valid_json_and_yml_parse(tmp_path):
    data = EXPECTED.model_dump(mode="json")
    path = _write(tmp_path, "exec-1.form.json", json.dumps(data, indent=2))
    assert parse_form(path.read_bytes(), path.name) == EXPECTED
    data["answers"][0]["answered_at"] = "04:10-05:30, 1:02:00-1:03:30"  # text is accepted too
    path = _write(tmp_path, "exec-1.form.yml", yaml.safe_dump(data))
    assert parse_form(path.read_bytes(), path.name) == EXPECTED


def _broken(change: str, value: object = None) -> bytes:
    data = yaml.safe_load(VALID_YAML)
    *parents, leaf = change.split(".")
    target = data
    for parent in parents:
        target = target[int(parent)] if parent.isdigit() else target[parent]
    if value is None:
        del target[leaf if not leaf.isdigit() else int(leaf)]
    else:
        target[int(leaf) if leaf.isdigit() else leaf] = value
    return yaml.safe_dump(data).encode()


@pytest.mark.parametrize(("change", "value", "field", "fix"), [
    ("executive.title", None, "executive.title", "add executive.title"),
    ("executive.title", "  ", "executive.title", "fill in executive.title"),
    ("date", "02/11/2026", "date", "write the date as YYYY-MM-DD, e.g. date: 2026-11-02"),
    ("date", "next tuesday", "date", "YYYY-MM-DD"),
    ("consent_to_record", False, "consent_to_record",
     "a recording without consent must not be transcribed or shared"),
    ("consent_to_record", "maybe", "consent_to_record", "true or false"),
    ("executive.tittle", "CFO", "executive.tittle", "allowed here: name, title, company, role"),
    ("notes", "hello", "notes", "remove notes"),
    ("answers.0.answered_at", ["soon"], "answers[0].answered_at[0]", "mm:ss"),
    ("answers.0.answered_at", ["04:70-05:00"], "answers[0].answered_at[0].start", "mm:ss"),
    ("answers.0.answered_at", ["05:30-04:10"], "answers[0].answered_at[0]", "end after"),
    ("answers.1.answered_at", [{"start": 60, "end": 30}], "answers[1].answered_at[0]", "start"),
    ("engagement", "Acme/Pricing 2026", "engagement", "<client>/<engagement>"),
    ("engagement", "acme-pricing", "engagement", "e.g. engagement: acme/pricing-2026"),
    ("answers.1.question", None, "answers[1].question", "add answers[1].question"),
])
def test_common_mistakes_name_the_field_and_the_fix(change, value, field, fix):
    with pytest.raises(FormError) as caught:
        parse_form(_broken(change, value), "exec-1.form.yaml")
    error = caught.value
    assert error.field == field
    assert fix in error.fix
    assert "exec-1.form.yaml" in error.message and field in error.message
    assert error.to_dict()["code"] == "bad-form"


def test_all_problems_are_listed_and_consent_comes_first():
    data = yaml.safe_load(VALID_YAML)
    data["date"], data["consent_to_record"] = "2026-13-45", "no"
    del data["executive"]["role"]
    with pytest.raises(FormError) as caught:
        parse_form(yaml.safe_dump(data).encode(), "exec-1.form.yaml")
    assert caught.value.field == "consent_to_record"
    assert "3 problems" in caught.value.message
    for field in ("consent_to_record", "executive.role", "date"):
        assert f"{field}:" in caught.value.message


@pytest.mark.parametrize(("name", "data", "says"), [
    ("exec-1.form.yaml", b"engagement: [", "not valid YAML at line"),
    ("exec-1.form.json", b"{\"engagement\": ", "not valid JSON at line 1"),
    ("exec-1.form.yaml", b"- just\n- a list\n", "holds list"),
    ("exec-1.form.yaml", b"\xff\xfe\x00garbage", "not UTF-8"),
    ("exec-1.form.docx", b"not a zip", "not a Word document"),
    ("exec-1.yaml", b"engagement: a/b", "not an interview form file"),
])
def test_unreadable_files(name, data, says):
    with pytest.raises(FormError) as caught:
        parse_form(data, name)
    assert says in caught.value.message
    assert caught.value.fix


def test_json_schema_describes_the_form():
    schema = form_json_schema()
    assert schema["title"] and schema["description"]
    assert set(schema["required"]) == {"engagement", "executive", "interviewer", "date",
                                       "consent_to_record"}
    assert schema["additionalProperties"] is False
    assert set(schema["$defs"]["Executive"]["required"]) == {"name", "title", "company", "role"}
    assert schema["properties"]["consent_to_record"]["const"] is True
    assert schema["properties"]["engagement"]["pattern"].startswith("^[a-z0-9]")
    json.dumps(schema)


def test_check_questions_warns_about_missing_ones():
    assert check_questions(EXPECTED, ["1. What drives your pricing decisions",
                                      "who signs off on a new supplier"]) == []
    warnings = check_questions(EXPECTED, QUESTIONS + ["How do you see the market in 2027?"])
    assert len(warnings) == 1
    assert "question 3" in warnings[0] and "market in 2027" in warnings[0]


def test_blank_docx_form_round_trips(tmp_path):
    path = blank_form_docx(tmp_path / "forms" / "blank.form.docx", engagement="acme/pricing-2026",
                           questions=QUESTIONS)
    document = docx.Document(str(path))
    assert document.core_properties.author == "outtask"
    fields, first, second = document.tables
    assert [r.cells[0].text for r in fields.rows][:2] == ["Field", "Engagement"]
    assert fields.rows[1].cells[1].text == "acme/pricing-2026"
    assert first.rows[0].cells[1].text == QUESTIONS[0]
    values = {"executive name": " Jane Doe ", "executive title": "Chief Financial Officer",
              "executive company": "Acme Corp", "executive role": "CFO",
              "interviewer": "Sam Lee", "date": "2026-11-02", "consent to record": "Yes"}
    for row in fields.rows:
        label = row.cells[0].text.split("(")[0].strip().lower()
        if label in values:
            row.cells[1].text = values[label]
    first.rows[1].cells[1].text = "04:10-05:30, 1:02:00-1:03:30"
    first.rows[2].cells[1].text = "- margin first\n- volume second"
    second.rows[1].cells[1].text = "10:00-10:45.5,\n11:00-12:00"
    filled = tmp_path / "exec-1.form.docx"
    document.save(str(filled))
    assert parse_form(filled.read_bytes(), filled.name) == EXPECTED


def test_docx_form_errors_name_the_field(tmp_path):
    path = blank_form_docx(tmp_path / "exec-1.form.docx", engagement="acme/pricing-2026",
                           questions=QUESTIONS)
    document = docx.Document(str(path))
    fields = document.tables[0]
    for row in fields.rows[2:]:
        row.cells[1].text = "no" if row.cells[0].text.startswith("Consent") else "x"
    fields.rows[7].cells[1].text = "2026-11-02"  # Date
    document.save(str(path))
    with pytest.raises(FormError) as caught:
        parse_form(path.read_bytes(), path.name)
    assert caught.value.field == "consent_to_record"
    assert "delete it from the inbox" in caught.value.fix


def test_blank_form_refuses_a_bad_engagement(tmp_path):
    with pytest.raises(FormError) as caught:
        blank_form_docx(tmp_path / "x.form.docx", engagement="Acme Pricing", questions=[])
    assert caught.value.field == "engagement"
