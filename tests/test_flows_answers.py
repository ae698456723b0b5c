"""A scripted engagement through the whole pipeline: engagement.yaml with questions and a
vocabulary, forms without answer spans (one saying two people speak), espeak-ng recordings;
the transcripts carry each question's answer and the brief quotes executives only."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest

pytestmark = pytest.mark.slow


def test_a_scripted_engagement_gets_answers_and_executive_only_quotes(pipeline, tmp_path):
    import yaml

    from bench.scripted import engagement, write_engagement
    from flows.brief import build_engagement_brief
    from flows.engagement import run_pending, scan_inbox

    rt = pipeline
    questions, interviews = engagement(3, seed=11)
    folder = tmp_path / "eng"
    truths = write_engagement(folder, questions, interviews, client="acme", engagement="eng-1")
    form = folder / "exec-01.form.yaml"
    doc = yaml.safe_load(form.read_text())
    form.write_text(yaml.safe_dump({**doc, "participants": 2}, sort_keys=False))
    for path in sorted(folder.iterdir()):
        if not path.name.endswith(".truth.json"):
            rt.bucket.upload(path, f"inbox/acme/eng-1/{path.name}")
    scan = scan_inbox(rt, now=time.time() + 60)
    assert scan.refused == []  # engagement.yaml's vocabulary and the form's participants
    run_pending(rt)

    found = {}
    for n, truth in enumerate(truths, 1):
        t = json.loads(rt.bucket.read_bytes(f"processed/acme/eng-1/exec-{n:02d}.json"))
        assert t["options"]["vocabulary"]  # the engagement's and the form's names
        assert [a["question"] for a in t["answers"]] == questions
        assert set(t["roles"].values()) == {"interviewer", "interviewee"}
        spoken = [(s, e) for s, e, r in truth.turns if r == "executive"]
        for a in t["answers"]:
            found[n, a["question"]] = a["start"] is not None
            if a["start"] is None:
                assert a["method"] == "none"
                continue
            # an answer is the executive's speech after a question (which question it is
            # measures bench/interviews.py: espeak-ng through tiny.en mishears many)
            assert a["method"] == "asked" and a["asked_at"] < a["start"]
            theirs = sum(max(0.0, min(a["end"], e) - max(a["start"], s)) for s, e in spoken)
            assert theirs >= 0.5 * (a["end"] - a["start"]), (n, a, spoken)
        assert any(found[n, q] for q in questions), t["answers"]
    first = json.loads(rt.bucket.read_bytes("processed/acme/eng-1/exec-01.json"))
    assert first["options"]["num_speakers"] == 2

    brief = build_engagement_brief(rt, "acme/eng-1", preview=False)
    with zipfile.ZipFile(io.BytesIO(rt.bucket.read_bytes(brief.zip_key))) as z:
        root = z.namelist()[0].split("/")[0]
        quotes = json.loads(z.read(f"{root}/quotes.json"))
        synthesis = json.loads(z.read(f"{root}/synthesis.json"))
        docx = {n: _docx_text(z.read(f"{root}/interviews/interview-{n:02d}.docx"))
                for n in range(1, 4)}
    assert [qq["question"] for qq in quotes] == questions
    for qq in quotes:
        answered = [n for n in range(1, 4) if found[n, qq["question"]]]
        # each executive who answered is quoted once, the others are listed as not answering
        assert sorted(q["interview"] for q in qq["quotes"]) == answered
        assert sorted(set(range(1, 4)) - set(answered)) == qq["unanswered"]
        for q in qq["quotes"]:
            asking = [(s, e) for s, e, r in truths[q["interview"] - 1].turns
                      if r == "interviewer"]
            assert all(min(q["end"], e) - max(q["start"], s) <= 0.3 for s, e in asking), q

    # the synthesis: each executive once per question they answered, real quotes
    assert synthesis["interviews"] == 3
    assert [q["question"] for q in synthesis["questions"]] == questions
    for q in synthesis["questions"]:
        primary = [n for t in q["themes"] for n in t["interviews"]]
        assert len(primary) == len(set(primary))
        grouped = set(primary) | set(q["other"])
        assert grouped <= {n for n in range(1, 4) if found[n, q["question"]]}
        assert q["answered"] == len(grouped)
        for t in q["themes"]:
            assert t["title"] and t["quotes"]
            for x in t["quotes"]:
                assert x["interview"] in t["interviews"]
                assert " ".join(x["text"].split()) in docx[x["interview"]], x


def _docx_text(data: bytes) -> str:
    """Every word of a DOCX (paragraphs and table cells), spacing normalised."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for table in doc.tables for row in table.rows for c in row.cells]
    return " ".join(" ".join(parts).split())
